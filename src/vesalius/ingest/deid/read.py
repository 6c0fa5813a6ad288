"""Reading input instances tolerantly, and refusing the ones that are cut short."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from pydicom import dcmread
from pydicom._uid_dict import UID_dictionary
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.tag import BaseTag
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

_SOP_CLASS = 0x00080016
_SOP_INSTANCE = 0x00080018
_ROWS = 0x00280010
_PIXEL_TAGS = (0x7FE00010, 0x7FE00008, 0x7FE00009)
DEFER_SIZE = 8 * 1024
"""Values longer than this (bytes) are left in the file's bytes, not copied, when parsing."""


class _NamedBytesIO(BytesIO):
    """An in-memory file that pydicom names as the path it was read from."""

    def __init__(self, data: bytes, name: str) -> None:
        super().__init__(data)
        self.name = name
        self.size = len(data)


def read_instance(path: Path) -> FileDataset:
    """Read a DICOM instance, also one written without the DICOM file header (no ``DICM``).

    Raises
    ------
    InvalidDicomError
        Not DICOM, or no SOP Class UID and SOP Instance UID to identify the instance.
    """
    return parse_instance(path.read_bytes(), name=str(path))


def parse_instance(data: bytes, *, name: str) -> FileDataset:
    """Parse a DICOM instance held in ``data`` (the whole file), read from the file ``name``.

    Values longer than :data:`DEFER_SIZE` (Pixel Data) are not copied out of ``data``: they
    stay deferred (``value is None``) and are loaded from ``data`` when accessed; pass
    ``data`` to :func:`~vesalius.ingest.deid.encode.encode` to write them without loading.

    Raises
    ------
    InvalidDicomError
        Not DICOM, or no SOP Class UID and SOP Instance UID to identify the instance.

    Examples
    --------
    >>> from pydicom.data import get_testdata_file
    >>> path = get_testdata_file("CT_small.dcm")
    >>> ds = parse_instance(Path(path).read_bytes(), name=path)
    >>> ds.Modality, ds.get_item(0x7FE00010, keep_deferred=True).value is None
    ('CT', True)
    """
    try:
        return dcmread(_NamedBytesIO(data, name), defer_size=DEFER_SIZE)
    except InvalidDicomError:
        ds = dcmread(_NamedBytesIO(data, name), defer_size=DEFER_SIZE, force=True)
    if _SOP_CLASS not in ds or _SOP_INSTANCE not in ds:
        raise InvalidDicomError("no DICOM file header and no SOP Class/Instance UID")
    implicit, little = ds.original_encoding
    syntax = ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian
    if not little:
        syntax = ExplicitVRBigEndian
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = syntax
    ds.file_meta = meta
    return ds


def peek(ds: Dataset, tag: int) -> DataElement | RawDataElement:
    """Return ``ds.get_item(tag)``, but leave a value deferred by :func:`parse_instance` unread.

    An empty raw element is converted as ``get_item`` converts it (pydicom treats its
    ``None`` value like a deferred one), so the VR pydicom infers is the same.
    """
    elem = ds._dict.get(tag if isinstance(tag, BaseTag) else BaseTag(tag))
    empty_raw = isinstance(elem, RawDataElement) and elem.value is None and not elem.length
    if elem is None or empty_raw:
        return ds.get_item(tag)
    return elem


def unusable_reason(ds: FileDataset) -> str | None:
    """Return why ``ds`` cannot be de-identified (no SOP Instance UID, cut short), or ``None``.

    pydicom reads a truncated file without complaint; two checks catch it: the last
    element holds fewer bytes than its length says, or an image (it has Rows, or its SOP
    Class is an Image Storage class) lacks its pixel data. A file cut inside a nested
    sequence may still pass (a known limit).
    """
    if not str(ds.get("SOPInstanceUID", "") or "").strip():
        return "no SOP Instance UID"
    tags = list(ds.keys())
    if tags:
        last = peek(ds, tags[-1])
        length = getattr(last, "length", None)
        held = _held_bytes(ds, last)
        if held is not None and length is not None and length != 0xFFFFFFFF and held < length:
            return f"truncated file: last element holds {held} of {length} bytes"
    if any(tag in ds for tag in _PIXEL_TAGS):
        return None
    if _ROWS in ds or _is_image_class(str(ds.get("SOPClassUID", ""))):
        return "truncated file or no pixel data: an image without Pixel Data"
    return None


def _held_bytes(ds: FileDataset, elem: object) -> int | None:
    """How many value bytes the file holds for ``elem`` (also a deferred one)."""
    value = getattr(elem, "value", None)
    if isinstance(value, bytes):
        return len(value)
    buffer = getattr(ds, "buffer", None)
    if value is None and isinstance(elem, RawDataElement) and isinstance(buffer, _NamedBytesIO):
        return max(0, buffer.size - elem.value_tell)
    return None


def _is_image_class(uid: str) -> bool:
    entry = UID_dictionary.get(uid)
    return entry is not None and "Image Storage" in entry[0]
