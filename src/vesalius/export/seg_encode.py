"""Explicit VR Little Endian encoding of the few elements a SEG's per-frame groups need.

The Per-Frame Functional Groups Sequence of a segmentation has one item per frame, and
building hundreds of pydicom datasets only to serialise them is where a generic writer
spends its time. Here each item is assembled from byte strings: the parts shared by all
frames of a source slice or of a segment are encoded once and reused (PS3.5 7.1.2 and 7.5:
explicit VR, defined lengths, values padded to even length).

Examples
--------
>>> element(0x00200013, "IS", "1").hex()
'20001300495302003120'
>>> item(element(0x0062000B, "US", (3).to_bytes(2, "little"))).hex()[:16]
'feff00e00a000000'
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

LONG_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "UC", "UN", "UR", "UT", "UV"})
_TEXT_PAD = {"UI": b"\0"}
_ITEM, _SHORT, _LONG = struct.Struct("<HHI"), struct.Struct("<HH2sH"), struct.Struct("<HH2s2xI")


def _value_bytes(vr: str, value: str | bytes) -> bytes:
    data = value if isinstance(value, bytes) else value.encode("ascii")
    if len(data) % 2:
        data += _TEXT_PAD.get(vr, b" ") if not isinstance(value, bytes) else b"\0"
    return data


def element(tag: int, vr: str, value: str | bytes) -> bytes:
    """One data element: ``value`` is text (padded per VR) or already-encoded bytes."""
    data = _value_bytes(vr, value)
    group, elem = tag >> 16, tag & 0xFFFF
    if vr in LONG_VRS:
        return _LONG.pack(group, elem, vr.encode("ascii"), len(data)) + data
    if len(data) > 0xFFFF:
        raise ValueError(f"value of ({group:04X},{elem:04X}) is too long for VR {vr}")
    return _SHORT.pack(group, elem, vr.encode("ascii"), len(data)) + data


def item(content: bytes) -> bytes:
    """A sequence item of defined length holding the encoded elements ``content``."""
    return _ITEM.pack(0xFFFE, 0xE000, len(content)) + content


def sequence(tag: int, items: Iterable[bytes]) -> bytes:
    """A sequence of defined length; ``items`` are encoded items (see :func:`item`)."""
    return element(tag, "SQ", b"".join(items))


def code_item(value: str, scheme: str, meaning: str) -> bytes:
    """An item of a code sequence: Code Value, Coding Scheme Designator, Code Meaning."""
    return item(
        element(0x00080100, "SH", value)
        + element(0x00080102, "SH", scheme)
        + element(0x00080104, "LO", meaning)
    )


def ul_values(*values: int) -> bytes:
    """Unsigned 32-bit little-endian values (VR UL)."""
    return struct.pack(f"<{len(values)}I", *values)


def us_value(value: int) -> bytes:
    """One unsigned 16-bit little-endian value (VR US)."""
    return struct.pack("<H", value)
