"""Encode a dataset as a DICOM file, byte for byte as pydicom writes it, but faster.

pydicom's writer costs tens of microseconds per element and copies a large Pixel Data value
several times. Here an element still in its raw form (read from the file and never touched)
is written as its header followed by its original value bytes, unchanged, and the file is
assembled once from those pieces. Everything else (elements whose value was set, ambiguous
or oversized VRs, datasets whose encoding or character set changed) goes through pydicom's
own :func:`~pydicom.filewriter.write_data_element` / :func:`~pydicom.filewriter.write_dataset`,
so the output is the bytes ``save_as(..., enforce_file_format=True)`` writes, with a zeroed
preamble. Big endian and deflated transfer syntaxes are encoded by pydicom throughout.
"""

from __future__ import annotations

import struct
from functools import lru_cache
from io import BytesIO

from pydicom.charset import convert_encodings, default_encoding
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset, validate_file_meta
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_data_element, write_dataset, write_file_meta_info
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag, tag_in_exception
from pydicom.valuerep import EXPLICIT_VR_LENGTH_32

_PREAMBLE = b"\x00" * 128 + b"DICM"
_ITEM = b"\xfe\xff\x00\xe0"
_ITEM_DELIMITER = b"\xfe\xff\x0d\xe0\x00\x00\x00\x00"
_SEQUENCE_DELIMITER = b"\xfe\xff\xdd\xe0\x00\x00\x00\x00"
_UNDEFINED = 0xFFFFFFFF
_PIXEL_DATA = 0x7FE00010
_GROUP_LENGTH = 0x00020000
_LONG_VRS = frozenset(str(vr) for vr in EXPLICIT_VR_LENGTH_32)
_TAG_UL = struct.Struct("<HHL")  # tag, 32-bit length (implicit VR, items)
_TAG_VR_UL = struct.Struct("<HH2s2xL")  # tag, VR, reserved, 32-bit length
_TAG_VR_US = struct.Struct("<HH2sH")  # tag, VR, 16-bit length
_UL = struct.Struct("<L")
_STRING_PADDING = {"AE": " ", "AS": " ", "CS": " ", "DA": " ", "DT": " ", "TM": " ", "UR": " "}
_STRING_PADDING["UI"] = "\0"
_TEXT_VRS = frozenset({"LO", "SH", "LT", "ST", "UC", "UT"})
_ASCII_CHARSETS = frozenset({"iso8859", "latin_1", "UTF8", "utf_8"})
_NUMBERS = {
    vr: struct.Struct("<" + code)
    for vr, code in (("US", "H"), ("SS", "h"), ("UL", "L"), ("SL", "l"), ("FL", "f"), ("FD", "d"))
}

_Chunks = list[bytes | memoryview]
_Encoding = str | list[str]


def encode(ds: FileDataset, *, source: bytes | None = None) -> bytes:
    """Return ``ds`` encoded as a DICOM file (zeroed preamble, file meta, data set).

    The bytes are those of ``ds.save_as(buffer, enforce_file_format=True)`` but with the
    128-byte preamble zeroed (the original may hold a TIFF header or other data). Like
    ``save_as`` it completes the file meta in place (group length, version, implementation).
    ``source``, the bytes ``ds`` was parsed from, supplies the values left deferred (see
    :func:`~vesalius.ingest.deid.read.parse_instance`) without loading them into ``ds``.

    Examples
    --------
    >>> from pydicom import dcmread
    >>> from pydicom.data import get_testdata_file
    >>> ds = dcmread(get_testdata_file("CT_small.dcm"))
    >>> data = encode(ds)
    >>> data[:128] == bytes(128), data[128:132], dcmread(BytesIO(data)).PatientName
    (True, b'DICM', 'CompressedSamples^CT1')
    """
    syntax = ds.file_meta.get("TransferSyntaxUID")
    if syntax is None or syntax.is_deflated or not syntax.is_transfer_syntax:
        ds.preamble = b"\x00" * 128
        buffer = BytesIO()
        ds.save_as(buffer, enforce_file_format=True)
        return buffer.getvalue()
    if not syntax.is_little_endian:
        return _encode_with_pydicom(ds, implicit=syntax.is_implicit_VR)
    chunks: _Chunks = [_PREAMBLE, _file_meta(ds.file_meta)]
    view = None if source is None else memoryview(source)
    _dataset(chunks, ds, implicit=syntax.is_implicit_VR, parent=default_encoding, source=view)
    return b"".join(chunks)


def _encode_with_pydicom(ds: FileDataset, *, implicit: bool) -> bytes:
    out = DicomBytesIO()
    out.write(_PREAMBLE)
    write_file_meta_info(out, ds.file_meta, enforce_standard=True)
    out.is_implicit_VR, out.is_little_endian = implicit, False
    write_dataset(out, ds)
    return out.getvalue()


def _file_meta(meta: FileMetaDataset) -> bytes:
    """Encode the file meta as ``write_file_meta_info(enforce_standard=True)`` does."""
    validate_file_meta(meta, enforce_standard=True)
    if "FileMetaInformationGroupLength" not in meta:
        meta.FileMetaInformationGroupLength = 0
    chunks: _Chunks = []
    _dataset(chunks, meta, implicit=False, parent=default_encoding)
    body = b"".join(chunks)
    # The group length comes first (sorted tags); rewrite it now that the length is known.
    meta.FileMetaInformationGroupLength = len(body) - 12
    head = _with_pydicom(meta[_GROUP_LENGTH], implicit=False, encoding=default_encoding)
    return head + body[len(head) :]


def _dataset(
    out: _Chunks,
    ds: Dataset,
    *,
    implicit: bool,
    parent: _Encoding,
    source: memoryview | None = None,
) -> None:
    """Append the encoded elements of ``ds`` (``write_dataset``'s output) to ``out``."""
    changed = ds.original_encoding != (implicit, True)
    if (changed or ds.original_character_set != ds._character_set) and not _plain(ds):
        # pydicom corrects ambiguous VRs and re-encodes every value: let it do so.
        buffer = DicomBytesIO()
        buffer.is_implicit_VR, buffer.is_little_endian = implicit, True
        write_dataset(buffer, ds, parent)
        out.append(buffer.getvalue())
        return
    encoding: _Encoding = ds.get("SpecificCharacterSet", parent)
    # Sort plain ints: comparing pydicom's BaseTag keys calls Python code.
    for tag, elem in sorted((int(key), value) for key, value in ds._dict.items()):
        if tag & 0xFFFF == 0 and tag >> 16 > 6:
            continue  # retired group lengths are not written (PS3.5 7.2)
        if isinstance(elem, RawDataElement) and elem.value is None:
            if _deferred(out, elem, implicit=implicit, source=source):
                continue
            elem = ds.get_item(tag)  # pydicom loads the value
        try:
            _element(out, elem, implicit=implicit, encoding=encoding)
        except Exception:
            with tag_in_exception(BaseTag(tag)):  # pydicom's message, naming the tag
                raise


def _plain(ds: Dataset) -> bool:
    """Whether re-encoding ``ds`` (a new dataset) changes nothing: no raw, ambiguous or SQ."""
    return all(
        isinstance(elem, DataElement) and elem.VR != "SQ" and len(elem.VR) == 2
        for elem in ds._dict.values()
    )


def _deferred(
    out: _Chunks, elem: RawDataElement, *, implicit: bool, source: memoryview | None
) -> bool:
    """Append a deferred element with its value viewed in ``source``; ``False`` if it can't."""
    start, length = elem.value_tell, elem.length
    if source is None or not length or length == _UNDEFINED or start + length > len(source):
        return False  # an empty raw value is converted by pydicom (it may change the VR)
    head = _header(elem, length, implicit=implicit)
    if head is None:
        return False
    out.append(head)
    out.append(source[start : start + length])
    return True


def _element(
    out: _Chunks, elem: DataElement | RawDataElement, *, implicit: bool, encoding: _Encoding
) -> None:
    if isinstance(elem, RawDataElement):
        head = _raw_header(elem, implicit=implicit)
        if head is not None and elem.value is not None:
            out.append(head)
            out.append(elem.value)
            if elem.length == _UNDEFINED:
                out.append(_SEQUENCE_DELIMITER)
            return
    elif elem.VR == "SQ" and isinstance(elem.value, Sequence):
        _sequence(out, elem, implicit=implicit, encoding=encoding)
        return
    else:
        value = encode_value(elem, encoding)
        head = None if value is None else _header(elem, len(value), implicit=implicit)
        if head is not None and value is not None:
            out.append(head + value)
            return
    out.append(_with_pydicom(elem, implicit=implicit, encoding=encoding))


def _raw_header(elem: RawDataElement, *, implicit: bool) -> bytes | None:
    """The header pydicom writes before a raw value, or ``None`` for an unusual element."""
    value, vr, tag = elem.value, elem.VR, elem.tag
    if not isinstance(value, bytes):
        return None
    if elem.length != _UNDEFINED:
        return _header(elem, len(value), implicit=implicit)
    # Only encapsulated Pixel Data is handled here; pydicom checks and writes the rest.
    if tag != _PIXEL_DATA or not value.startswith(_ITEM):
        return None
    if implicit:
        return _TAG_UL.pack(tag >> 16, tag & 0xFFFF, _UNDEFINED)
    if vr not in _LONG_VRS:
        return None
    return _TAG_VR_UL.pack(tag >> 16, tag & 0xFFFF, vr.encode("ascii"), _UNDEFINED)


def _header(elem: DataElement | RawDataElement, length: int, *, implicit: bool) -> bytes | None:
    """Tag, VR and length of a defined-length element, or ``None`` where pydicom must write."""
    vr, tag = elem.VR, elem.tag
    group, number = tag >> 16, tag & 0xFFFF
    if implicit:
        return _TAG_UL.pack(group, number, length)
    if not vr or len(vr) != 2 or not vr.isascii():
        return None
    if vr in _LONG_VRS:
        return _TAG_VR_UL.pack(group, number, vr.encode("ascii"), length)
    if length > 0xFFFF:
        return None  # pydicom writes it as UN, with a warning
    return _TAG_VR_US.pack(group, number, vr.encode("ascii"), length)


def _sequence(out: _Chunks, elem: DataElement, *, implicit: bool, encoding: _Encoding) -> None:
    """Append a sequence as ``write_data_element`` / ``write_sequence`` encode it."""
    encodings = convert_encodings(encoding or [default_encoding])
    body: _Chunks = []
    if not elem.is_empty:
        for item in elem.value:
            _item(body, item, implicit=implicit, encodings=encodings)
    tag = elem.tag
    undefined = elem.is_undefined_length
    length = _UNDEFINED if undefined else sum(len(chunk) for chunk in body)
    if implicit:
        out.append(_TAG_UL.pack(tag >> 16, tag & 0xFFFF, length))
    else:
        out.append(_TAG_VR_UL.pack(tag >> 16, tag & 0xFFFF, b"SQ", length))
    out.extend(body)
    if undefined:
        out.append(_SEQUENCE_DELIMITER)


def _item(out: _Chunks, item: Dataset, *, implicit: bool, encodings: list[str]) -> None:
    body: _Chunks = []
    _dataset(body, item, implicit=implicit, parent=encodings)
    if getattr(item, "is_undefined_length_sequence_item", False):
        out.append(_ITEM + _UL.pack(_UNDEFINED))
        out.extend(body)
        out.append(_ITEM_DELIMITER)
    else:
        out.append(_ITEM + _UL.pack(sum(len(chunk) for chunk in body)))
        out.extend(body)


def _with_pydicom(
    elem: DataElement | RawDataElement, *, implicit: bool, encoding: _Encoding
) -> bytes:
    buffer = DicomBytesIO()
    buffer.is_implicit_VR, buffer.is_little_endian = implicit, True
    write_data_element(buffer, elem, encoding)
    return buffer.getvalue()


def encode_value(elem: DataElement, encoding: _Encoding) -> bytes | None:
    """Return the value bytes pydicom writes for a simple element, or ``None`` if not simple.

    Simple: no value; an ASCII string (or several) of a string or, in an ASCII-compatible
    character set, a text VR; one number of a binary numeric VR. Others are left to pydicom.

    Examples
    --------
    >>> encode_value(DataElement(0x0020000D, "UI", "1.2.3"), "iso8859")
    b'1.2.3\\x00'
    >>> encode_value(DataElement(0x00280010, "US", 512), "iso8859")
    b'\\x00\\x02'
    >>> encode_value(DataElement(0x00100010, "PN", "DOE^JANE"), "iso8859") is None
    True
    """
    value, vr = elem.value, elem.VR
    if value is None:
        return b""
    padding = _STRING_PADDING.get(vr)
    if padding is not None or vr in _TEXT_VRS:
        text = _ascii_text(value)
        if text is None:
            return None
        if padding is None:
            if _first_charset(encoding) not in _ASCII_CHARSETS:
                return None
            padding = " "
        return (text + padding if len(text) % 2 else text).encode("ascii")
    number = _NUMBERS.get(vr)
    if number is None or type(value) not in (int, float):
        return None
    try:
        return number.pack(value)
    except struct.error:
        return None  # out of range: pydicom raises its own error


def _ascii_text(value: object) -> str | None:
    if isinstance(value, str):
        return value if value.isascii() else None
    if isinstance(value, MultiValue | list | tuple) and all(isinstance(v, str) for v in value):
        text = "\\".join(value)
        return text if text.isascii() else None
    return None


def _first_charset(encoding: _Encoding) -> str:
    return _first_of(encoding if isinstance(encoding, str) else tuple(encoding))


@lru_cache(maxsize=64)
def _first_of(encoding: str | tuple[str, ...]) -> str:
    if isinstance(encoding, str):
        return convert_encodings(encoding)[0]
    return convert_encodings(list(encoding) or [default_encoding])[0]
