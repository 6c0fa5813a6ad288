"""Reading input instances tolerantly, and refusing the ones that are cut short."""

from __future__ import annotations

from pathlib import Path

from pydicom import dcmread
from pydicom._uid_dict import UID_dictionary
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

_SOP_CLASS = 0x00080016
_SOP_INSTANCE = 0x00080018
_ROWS = 0x00280010
_PIXEL_TAGS = (0x7FE00010, 0x7FE00008, 0x7FE00009)


def read_instance(path: Path) -> FileDataset:
    """Read a DICOM instance, also one written without the DICOM file header (no ``DICM``).

    Raises
    ------
    InvalidDicomError
        Not DICOM, or no SOP Class UID and SOP Instance UID to identify the instance.
    """
    try:
        return dcmread(path)
    except InvalidDicomError:
        ds = dcmread(path, force=True)
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
        last = ds.get_item(tags[-1])
        length = getattr(last, "length", None)
        value = getattr(last, "value", None)
        held = len(value) if isinstance(value, bytes) else None
        if held is not None and length is not None and length != 0xFFFFFFFF and held < length:
            return f"truncated file: last element holds {held} of {length} bytes"
    if any(tag in ds for tag in _PIXEL_TAGS):
        return None
    if _ROWS in ds or _is_image_class(str(ds.get("SOPClassUID", ""))):
        return "truncated file or no pixel data: an image without Pixel Data"
    return None


def _is_image_class(uid: str) -> bool:
    entry = UID_dictionary.get(uid)
    return entry is not None and "Image Storage" in entry[0]
