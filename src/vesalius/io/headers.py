"""Header-only view of one DICOM instance: what a volume reader needs, nothing decoded.

:func:`read_header` parses a file with pydicom without loading its pixel data (large values
are deferred, so the Pixel Data element only records where its bytes start) and turns it into
an :class:`InstanceHeader`. Each frame of the instance gets a :class:`FrameInfo` with its
position, orientation, pixel spacing and rescale, taken from the classic attributes, the
Shared / Per-frame Functional Groups of enhanced multi-frame objects, or the Grid Frame Offset
Vector of classic multi-frame objects such as RT Dose.

Examples
--------
>>> from pydicom.data import get_testdata_file
>>> h = read_header(get_testdata_file("CT_small.dcm"))
>>> h.modality, h.rows, h.columns, h.n_frames
('CT', 128, 128, 1)
>>> h.frames[0].position
(-158.135803, -179.035797, -75.699997)
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from os import PathLike
from typing import Any, Protocol

import pydicom
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset

from vesalius.errors import DicomReadError
from vesalius.io._fastheader import RawHeader, scan_header

logger = logging.getLogger(__name__)

PIXEL_DATA_TAGS = (0x7FE00010, 0x7FE00008, 0x7FE00009)
NATIVE_LITTLE_ENDIAN = ("1.2.840.10008.1.2", "1.2.840.10008.1.2.1")
_DEFER_BYTES = 4096

Vec3 = tuple[float, float, float]
Orientation = tuple[float, float, float, float, float, float]


@dataclass(frozen=True)
class FrameInfo:
    """Geometry and rescale of one frame (one 2-D image) of an instance.

    ``pixel_spacing`` is DICOM's ``(row spacing, column spacing)`` in mm.
    """

    index: int
    position: Vec3 | None
    orientation: Orientation | None
    pixel_spacing: tuple[float, float] | None
    slope: float = 1.0
    intercept: float = 0.0


@dataclass(frozen=True, eq=False)
class InstanceHeader:
    """What the readers need from one instance, parsed without decoding pixels.

    :attr:`dataset` is the full header (pydicom Dataset, no pixel data), parsed on first
    use when the fast scanner read the file. ``pixel_offset`` / ``pixel_length`` locate
    native (uncompressed) pixel bytes in the file; they are ``None`` for encapsulated data.
    """

    path: str
    study_uid: str
    series_uid: str
    sop_instance_uid: str
    sop_class_uid: str
    modality: str
    frame_of_reference_uid: str | None
    instance_number: int | None
    rows: int
    columns: int
    samples_per_pixel: int
    bits_allocated: int
    bits_stored: int
    pixel_representation: int
    photometric: str
    transfer_syntax: str
    has_pixels: bool
    float_pixels: bool
    pixel_offset: int | None
    pixel_length: int | None
    frames: tuple[FrameInfo, ...]
    slice_spacing_hint: float | None
    preloaded: Dataset | None = field(default=None, repr=False)

    @cached_property
    def dataset(self) -> Dataset:
        """The full header as a pydicom Dataset, without pixel data.

        Raises
        ------
        DicomReadError
            If pydicom cannot parse the file any more (for example it changed on disk).
        """
        if self.preloaded is not None:
            return self.preloaded
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                ds = pydicom.dcmread(self.path, stop_before_pixels=True, force=True)
            except Exception as err:  # pydicom raises many types on corrupt headers
                raise DicomReadError(self.path, f"broken DICOM header: {err}") from None
        for warning in caught:
            logger.info("%s: %s", self.path, warning.message)
        return ds

    @property
    def n_frames(self) -> int:
        """Number of frames in the instance."""
        return len(self.frames)

    @property
    def frame_bytes(self) -> int:
        """Bytes of one native frame."""
        return self.rows * self.columns * self.samples_per_pixel * (self.bits_allocated // 8)

    @property
    def native_fast_path(self) -> bool:
        """Whether pixel bytes can be read straight from the file (no pydicom decoding)."""
        return (
            self.pixel_offset is not None
            and self.pixel_length is not None
            and not self.float_pixels
            and self.transfer_syntax in NATIVE_LITTLE_ENDIAN
            and self.samples_per_pixel == 1
            and self.bits_allocated in (8, 16)
            and (self.pixel_representation == 0 or self.bits_stored == self.bits_allocated)
            and self.pixel_length >= self.frame_bytes * self.n_frames
        )


def read_header(path: str | PathLike[str]) -> InstanceHeader:
    """Parse the header of one DICOM file without decoding its pixel data.

    Raises
    ------
    DicomReadError
        If the file is not DICOM or its header cannot be parsed.
    """
    name = str(path)
    raw = scan_header(name)
    if raw is not None:
        sop_class = raw.text("SOPClassUID") or raw.media_sop_class
        if sop_class:
            return _build(
                name,
                _RawValues(raw),
                sop_class,
                raw.transfer_syntax,
                (raw.pixel_tag, raw.pixel_offset, raw.pixel_length),
                None,
            )
    try:
        ds = _parse(name)
    except DicomReadError:
        raise
    except (OSError, EOFError) as err:
        raise DicomReadError(name, f"cannot read file: {err}") from None
    except Exception as err:  # pydicom raises many types on corrupt headers
        raise DicomReadError(name, f"broken DICOM header: {type(err).__name__}: {err}") from None
    try:
        return _header_from_dataset(name, ds)
    except DicomReadError:
        raise
    except Exception as err:  # malformed values inside an otherwise parsed header
        raise DicomReadError(name, f"unusable DICOM header: {type(err).__name__}: {err}") from None


def _parse(name: str) -> Dataset:
    """Parse with pydicom; files without the DICM preamble are accepted if they name a SOP class."""
    try:
        return pydicom.dcmread(name, defer_size=_DEFER_BYTES)
    except pydicom.errors.InvalidDicomError:
        pass
    ds = pydicom.dcmread(name, defer_size=_DEFER_BYTES, force=True)
    if "SOPClassUID" not in ds:
        raise DicomReadError(name, "not a DICOM file (no 'DICM' prefix and no SOP Class UID)")
    return ds


def _header_from_dataset(path: str, ds: Dataset) -> InstanceHeader:
    sop_class = _text(ds, "SOPClassUID") or _meta(ds, "MediaStorageSOPClassUID")
    if not sop_class:
        raise DicomReadError(path, "no SOP Class UID: not a usable DICOM object")
    pixel_tag = next((t for t in PIXEL_DATA_TAGS if t in ds), None)
    offset, length = _pixel_location(ds, pixel_tag)
    if pixel_tag is not None:
        del ds[pixel_tag]
    return _build(
        path,
        _DatasetValues(ds),
        sop_class,
        _meta(ds, "TransferSyntaxUID"),
        (pixel_tag, offset, length),
        ds,
    )


class _Values(Protocol):
    def text(self, keyword: str) -> str: ...
    def integer(self, keyword: str) -> int | None: ...
    def number(self, keyword: str) -> float | None: ...
    def numbers(self, keyword: str, count: int | None) -> tuple[float, ...] | None: ...


class _DatasetValues:
    def __init__(self, ds: Dataset) -> None:
        self.ds = ds

    def text(self, keyword: str) -> str:
        return _text(self.ds, keyword)

    def integer(self, keyword: str) -> int | None:
        return _int(self.ds, keyword)

    def number(self, keyword: str) -> float | None:
        return _float(self.ds, keyword)

    def numbers(self, keyword: str, count: int | None) -> tuple[float, ...] | None:
        return _floats(self.ds, keyword, count)


class _RawValues:
    def __init__(self, raw: RawHeader) -> None:
        self.raw = raw

    def text(self, keyword: str) -> str:
        return self.raw.text(keyword)

    def integer(self, keyword: str) -> int | None:
        return self.raw.integer(keyword)

    def number(self, keyword: str) -> float | None:
        values = self.raw.numbers(keyword)
        return values[0] if values else None

    def numbers(self, keyword: str, count: int | None) -> tuple[float, ...] | None:
        values = self.raw.numbers(keyword)
        return None if values is None or (count is not None and len(values) != count) else values


def _build(
    path: str,
    v: _Values,
    sop_class: str,
    syntax: str,
    pixel: tuple[int | None, int | None, int | None],
    ds: Dataset | None,
) -> InstanceHeader:
    pixel_tag, offset, length = pixel
    bits_allocated = v.integer("BitsAllocated") or 0
    return InstanceHeader(
        path=path,
        study_uid=v.text("StudyInstanceUID"),
        series_uid=v.text("SeriesInstanceUID"),
        sop_instance_uid=v.text("SOPInstanceUID"),
        sop_class_uid=sop_class,
        modality=v.text("Modality") or "OT",
        frame_of_reference_uid=v.text("FrameOfReferenceUID") or None,
        instance_number=v.integer("InstanceNumber"),
        rows=v.integer("Rows") or 0,
        columns=v.integer("Columns") or 0,
        samples_per_pixel=v.integer("SamplesPerPixel") or 1,
        bits_allocated=bits_allocated,
        bits_stored=v.integer("BitsStored") or bits_allocated,
        pixel_representation=v.integer("PixelRepresentation") or 0,
        photometric=v.text("PhotometricInterpretation").upper(),
        transfer_syntax=syntax,
        has_pixels=pixel_tag is not None,
        float_pixels=pixel_tag is not None and pixel_tag != 0x7FE00010,
        pixel_offset=offset,
        pixel_length=length,
        frames=_enhanced_frames(ds) if ds is not None and _is_enhanced(ds) else _frames(v),
        slice_spacing_hint=v.number("SpacingBetweenSlices") or v.number("SliceThickness"),
        preloaded=ds,
    )


def _pixel_location(ds: Dataset, tag: int | None) -> tuple[int | None, int | None]:
    if tag is None:
        return None, None
    raw = ds.get_item(tag, keep_deferred=True)
    if not isinstance(raw, RawDataElement) or raw.length == 0xFFFFFFFF:
        return None, None
    return int(raw.value_tell), int(raw.length)


def _is_enhanced(ds: Dataset) -> bool:
    return "PerFrameFunctionalGroupsSequence" in ds or "SharedFunctionalGroupsSequence" in ds


def _enhanced_frames(ds: Dataset) -> tuple[FrameInfo, ...]:
    n = max(_int(ds, "NumberOfFrames") or 1, 1)
    per_frame = ds.get("PerFrameFunctionalGroupsSequence")
    shared_seq = ds.get("SharedFunctionalGroupsSequence")
    shared = shared_seq[0] if shared_seq else Dataset()
    items = list(per_frame) if per_frame else [Dataset()] * n
    return tuple(_enhanced_frame(i, item, shared, ds) for i, item in enumerate(items[:n]))


def _frames(v: _Values) -> tuple[FrameInfo, ...]:
    n = max(v.integer("NumberOfFrames") or 1, 1)
    base = _classic_frame(v)
    offsets = v.numbers("GridFrameOffsetVector", None)
    if n == 1:
        return (base,)
    if offsets is None or len(offsets) != n or base.position is None or base.orientation is None:
        return tuple(
            FrameInfo(i, None, None, base.pixel_spacing, base.slope, base.intercept)
            for i in range(n)
        )
    normal = _normal(base.orientation)
    origin = base.position
    return tuple(
        FrameInfo(
            i,
            (
                origin[0] + normal[0] * (d - offsets[0]),
                origin[1] + normal[1] * (d - offsets[0]),
                origin[2] + normal[2] * (d - offsets[0]),
            ),
            base.orientation,
            base.pixel_spacing,
            base.slope,
            base.intercept,
        )
        for i, d in enumerate(offsets)
    )


def _classic_frame(v: _Values) -> FrameInfo:
    slope = v.number("RescaleSlope")
    if slope is None:
        slope = v.number("DoseGridScaling")
    return FrameInfo(
        0,
        _vec3(v.numbers("ImagePositionPatient", 3)),
        _orientation(v.numbers("ImageOrientationPatient", 6)),
        _pair(v.numbers("PixelSpacing", 2) or v.numbers("ImagerPixelSpacing", 2)),
        1.0 if slope is None else slope,
        v.number("RescaleIntercept") or 0.0,
    )


def _enhanced_frame(index: int, item: Dataset, shared: Dataset, top: Dataset) -> FrameInfo:
    position = _group(item, shared, "PlanePositionSequence")
    orient = _group(item, shared, "PlaneOrientationSequence")
    measures = _group(item, shared, "PixelMeasuresSequence")
    transform = _group(item, shared, "PixelValueTransformationSequence")
    slope = _float(transform, "RescaleSlope") if transform is not None else None
    intercept = _float(transform, "RescaleIntercept") if transform is not None else None
    return FrameInfo(
        index,
        _vec3(_floats(position, "ImagePositionPatient", 3)) if position is not None else None,
        _orientation(_floats(orient, "ImageOrientationPatient", 6)) if orient is not None else None,
        _pair(_floats(measures, "PixelSpacing", 2)) if measures is not None else None,
        slope if slope is not None else (_float(top, "RescaleSlope") or 1.0),
        intercept if intercept is not None else (_float(top, "RescaleIntercept") or 0.0),
    )


def _group(item: Dataset, shared: Dataset, keyword: str) -> Dataset | None:
    for source in (item, shared):
        seq = source.get(keyword)
        if seq:
            first: Dataset = seq[0]
            return first
    return None


def _normal(orientation: Orientation) -> Vec3:
    r, c = orientation[:3], orientation[3:]
    return (r[1] * c[2] - r[2] * c[1], r[2] * c[0] - r[0] * c[2], r[0] * c[1] - r[1] * c[0])


def _meta(ds: Dataset, keyword: str) -> str:
    meta = getattr(ds, "file_meta", None)
    return _text(meta, keyword) if meta is not None else ""


def _text(ds: Dataset, keyword: str) -> str:
    value: Any = ds.get(keyword)
    return "" if value is None else str(value).strip()


def _int(ds: Dataset, keyword: str) -> int | None:
    try:
        value: Any = ds.get(keyword)
        return None if value is None or value == "" else int(value)
    except (TypeError, ValueError):
        return None


def _float(ds: Dataset, keyword: str) -> float | None:
    try:
        value: Any = ds.get(keyword)
        if value is None or value == "":
            return None
        if isinstance(value, list | tuple | pydicom.multival.MultiValue):
            value = value[0]
        return float(value)
    except (TypeError, ValueError, IndexError):
        return None


def _floats(ds: Dataset, keyword: str, count: int | None) -> tuple[float, ...] | None:
    try:
        value: Any = ds.get(keyword)
        if value is None or value == "":
            return None
        values = tuple(float(v) for v in (value if hasattr(value, "__iter__") else [value]))
    except (TypeError, ValueError):
        return None
    if count is not None and len(values) != count:
        return None
    return values


def _vec3(values: tuple[float, ...] | None) -> Vec3 | None:
    return None if values is None else (values[0], values[1], values[2])


def _pair(values: tuple[float, ...] | None) -> tuple[float, float] | None:
    if values is None or min(values) <= 0:
        return None
    return (values[0], values[1])


def _orientation(values: tuple[float, ...] | None) -> Orientation | None:
    if values is None:
        return None
    r, c = values[:3], values[3:]
    nr = sum(v * v for v in r) ** 0.5
    nc = sum(v * v for v in c) ** 0.5
    if nr < 1e-6 or nc < 1e-6:
        return None
    return (r[0] / nr, r[1] / nr, r[2] / nr, c[0] / nc, c[1] / nc, c[2] / nc)
