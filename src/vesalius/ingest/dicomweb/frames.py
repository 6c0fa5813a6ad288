"""Frames of a stored instance, as stored (any transfer syntax) or decoded to native pixels.

WADO-RS ``.../frames/{list}`` returns each requested frame as one part. Native (uncompressed)
frames are cut from Pixel Data as ``application/octet-stream``; encapsulated frames are
returned as stored with their media type (``image/jpeg``, ``image/jls``, ``image/jp2``...)
when the client accepts them, and are decoded with pydicom to native little-endian bytes
when it asks for ``application/octet-stream``.

Examples
--------
>>> from pydicom import dcmread
>>> from pydicom.data import get_testdata_file
>>> ds = dcmread(get_testdata_file("CT_small.dcm"))
>>> frame = stored_frames(ds, [1], source="CT_small")[0]
>>> frame.media_type, len(frame.data) == 128 * 128 * 2
('application/octet-stream', True)
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from pydicom import Dataset
from pydicom.encaps import get_frame
from pydicom.pixels.utils import pixel_array
from pydicom.uid import UID, ExplicitVRLittleEndian

from vesalius.errors import DicomReadError, InputError, UnsupportedError

log = logging.getLogger(__name__)

OCTET_STREAM = "application/octet-stream"

#: Media types of encapsulated transfer syntaxes (PS3.18 Table 8.7.3-2).
COMPRESSED_MEDIA = {
    "1.2.840.10008.1.2.4.50": "image/jpeg",
    "1.2.840.10008.1.2.4.51": "image/jpeg",
    "1.2.840.10008.1.2.4.57": "image/jpeg",
    "1.2.840.10008.1.2.4.70": "image/jpeg",
    "1.2.840.10008.1.2.4.80": "image/jls",
    "1.2.840.10008.1.2.4.81": "image/jls",
    "1.2.840.10008.1.2.4.90": "image/jp2",
    "1.2.840.10008.1.2.4.91": "image/jp2",
    "1.2.840.10008.1.2.4.92": "image/jpx",
    "1.2.840.10008.1.2.4.93": "image/jpx",
    "1.2.840.10008.1.2.4.201": "image/jphc",
    "1.2.840.10008.1.2.4.202": "image/jphc",
    "1.2.840.10008.1.2.4.203": "image/jphc",
    "1.2.840.10008.1.2.5": "image/dicom-rle",
}


@dataclass(frozen=True)
class Frame:
    """One frame's bytes, its media type and the transfer syntax they are in."""

    data: bytes
    media_type: str
    transfer_syntax_uid: str

    @property
    def content_type(self) -> str:
        """The Content-Type of its part, naming the transfer syntax."""
        return f"{self.media_type}; transfer-syntax={self.transfer_syntax_uid}"


def transfer_syntax(ds: Dataset) -> UID:
    """The transfer syntax of a dataset read from a file (Explicit VR LE when unknown)."""
    meta = getattr(ds, "file_meta", None)
    value = None if meta is None else meta.get("TransferSyntaxUID")
    return UID(value) if value else ExplicitVRLittleEndian


def number_of_frames(ds: Dataset) -> int:
    """NumberOfFrames, 1 when absent or malformed."""
    try:
        return max(1, int(ds.get("NumberOfFrames") or 1))
    except (TypeError, ValueError):
        return 1


def _check(ds: Dataset, numbers: Sequence[int], source: str) -> None:
    if "PixelData" not in ds:
        raise DicomReadError(source, "has no Pixel Data; it has no frames")
    total = number_of_frames(ds)
    bad = [n for n in numbers if not 1 <= n <= total]
    if bad or not numbers:
        raise InputError(source, f"frame numbers {bad or list(numbers)} not in 1..{total}")


def _native_frame(ds: Dataset, number: int, source: str) -> bytes:
    bits = int(ds.BitsAllocated)
    if bits % 8:
        raise UnsupportedError(source, f"frames of {bits}-bit packed pixel data are not cut")
    size = int(ds.Rows) * int(ds.Columns) * int(ds.get("SamplesPerPixel", 1)) * bits // 8
    data = ds.PixelData
    if len(data) < size * number:
        raise DicomReadError(source, f"Pixel Data is too short for frame {number}")
    return bytes(data[size * (number - 1) : size * number])


def stored_frames(ds: Dataset, numbers: Sequence[int], *, source: str) -> list[Frame]:
    """Frames ``numbers`` (1-based) in the transfer syntax they are stored in."""
    _check(ds, numbers, source)
    syntax = transfer_syntax(ds)
    if not syntax.is_encapsulated:
        return [Frame(_native_frame(ds, n, source), OCTET_STREAM, syntax) for n in numbers]
    media = COMPRESSED_MEDIA.get(syntax, OCTET_STREAM)
    total = number_of_frames(ds)
    return [
        Frame(get_frame(ds.PixelData, n - 1, number_of_frames=total), media, syntax)
        for n in numbers
    ]


def decoded_frames(ds: Dataset, numbers: Sequence[int], *, source: str) -> list[Frame]:
    """Frames ``numbers`` as native little-endian pixels (decoded when compressed)."""
    syntax = transfer_syntax(ds)
    if not syntax.is_encapsulated:
        return stored_frames(ds, numbers, source=source)
    _check(ds, numbers, source)
    out = []
    for n in numbers:
        try:
            arr = pixel_array(ds, index=n - 1)
        except (ValueError, RuntimeError, NotImplementedError) as err:
            raise UnsupportedError(
                source, f"cannot decode frame {n} ({syntax.name}): {err}"
            ) from None
        little = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
        out.append(
            Frame(np.ascontiguousarray(little).tobytes(), OCTET_STREAM, ExplicitVRLittleEndian)
        )
    return out
