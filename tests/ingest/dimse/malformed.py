"""Malformed DICOM files for the network tests: a valid file meta, then bad data set bytes."""

from __future__ import annotations

import struct
from io import BytesIO
from pathlib import Path

from pydicom.dataset import FileMetaDataset
from pydicom.filewriter import write_file_meta_info
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian

SOP_INSTANCE = "1.2.826.0.1.3680043.9.9999.1"


def _meta(sop_instance: str = SOP_INSTANCE) -> bytes:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = sop_instance
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    buffer = BytesIO()
    buffer.write(b"\x00" * 128 + b"DICM")
    write_file_meta_info(buffer, meta, enforce_standard=True)
    return buffer.getvalue()


def _element(group: int, elem: int, vr: bytes, value: bytes) -> bytes:
    return struct.pack("<HH", group, elem) + vr + struct.pack("<H", len(value)) + value


def _uids(sop_instance: str = SOP_INSTANCE) -> bytes:
    return _element(0x0008, 0x0016, b"UI", CTImageStorage.encode() + b"\x00") + _element(
        0x0008, 0x0018, b"UI", sop_instance.encode()
    )


def truncated() -> bytes:
    """UIDs, then an element whose value stops half-way."""
    return _uids() + struct.pack("<HH", 0x0010, 0x0010) + b"PN" + struct.pack("<H", 60) + b"Doe"


def huge_length() -> bytes:
    """An OB element declaring a 4 GiB value with only a few bytes behind it."""
    head = struct.pack("<HH", 0x0009, 0x1010) + b"OB\x00\x00" + struct.pack("<I", 0xFFFFFFF0)
    return _uids() + head + b"\x01\x02\x03\x04"


def deeply_nested(depth: int = 4000) -> bytes:
    """Sequences nested ``depth`` deep (undefined lengths), then closed."""
    open_seq = struct.pack("<HH", 0x0040, 0xA730) + b"SQ\x00\x00" + struct.pack("<I", 0xFFFFFFFF)
    open_item = struct.pack("<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF)
    close_item = struct.pack("<HHI", 0xFFFE, 0xE00D, 0)
    close_seq = struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)
    body = (open_seq + open_item) * depth + (close_item + close_seq) * depth
    return _uids() + body


def big_endian_body() -> bytes:
    """The UIDs encoded big endian, sent as if little endian (wrong transfer syntax)."""

    def be(group: int, elem: int, vr: bytes, value: bytes) -> bytes:
        return struct.pack(">HH", group, elem) + vr + struct.pack(">H", len(value)) + value

    return be(0x0008, 0x0016, b"UI", CTImageStorage.encode() + b"\x00") + be(
        0x0008, 0x0018, b"UI", SOP_INSTANCE.encode()
    )


def garbage() -> bytes:
    """Bytes that are no data set at all."""
    return bytes(range(256)) * 8


CASES = {
    "truncated": truncated,
    "huge-length": huge_length,
    "deeply-nested": deeply_nested,
    "wrong-transfer-syntax": big_endian_body,
    "garbage": garbage,
}


def write_case(folder: Path, name: str) -> Path:
    """Write the malformed file ``name`` of :data:`CASES` into ``folder``."""
    path = folder / f"{name}.dcm"
    path.write_bytes(_meta() + CASES[name]())
    return path
