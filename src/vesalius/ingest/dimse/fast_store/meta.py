"""The DICOM file preamble and File Meta Information put before a received data set.

The same elements pynetdicom writes (PS3.10 section 7.1): group length, version, media
storage SOP class and instance, transfer syntax, implementation class UID and version.

Examples
--------
>>> from io import BytesIO
>>> from pydicom import dcmread
>>> head = file_meta("1.2.840.10008.5.1.4.1.1.2", "1.2.3.4", "1.2.840.10008.1.2.1")
>>> meta = dcmread(BytesIO(head + b"\\x08\\x00\\x60\\x00CS\\x02\\x00CT")).file_meta
>>> meta.MediaStorageSOPInstanceUID, meta.TransferSyntaxUID.name
('1.2.3.4', 'Explicit VR Little Endian')
"""

from __future__ import annotations

import struct

from pynetdicom import PYNETDICOM_IMPLEMENTATION_UID, PYNETDICOM_IMPLEMENTATION_VERSION

PREAMBLE = b"\x00" * 128 + b"DICM"


def _short(element: int, vr: bytes, value: bytes) -> bytes:
    return struct.pack("<HH", 0x0002, element) + vr + struct.pack("<H", len(value)) + value


def _ui(value: str) -> bytes:
    raw = value.encode("ascii", "replace")
    return raw + b"\x00" if len(raw) % 2 else raw


def file_meta(
    sop_class: str,
    sop_instance: str,
    transfer_syntax: str,
    *,
    implementation_class_uid: str = str(PYNETDICOM_IMPLEMENTATION_UID),
    implementation_version: str = PYNETDICOM_IMPLEMENTATION_VERSION,
) -> bytes:
    """Preamble, ``DICM`` and the File Meta Information group of a received instance."""
    version = implementation_version.encode("ascii")
    if len(version) % 2:
        version += b" "
    body = b"".join(
        (
            struct.pack("<HH", 0x0002, 0x0001) + b"OB\x00\x00" + struct.pack("<I", 2) + b"\x00\x01",
            _short(0x0002, b"UI", _ui(sop_class)),
            _short(0x0003, b"UI", _ui(sop_instance)),
            _short(0x0010, b"UI", _ui(transfer_syntax)),
            _short(0x0012, b"UI", _ui(implementation_class_uid)),
            _short(0x0013, b"SH", version),
        )
    )
    length = _short(0x0000, b"UL", struct.pack("<I", len(body)))
    return PREAMBLE + length + body
