"""Write a :class:`~vesalius.core.Volume` as a classic single-frame DICOM series.

One file per slice, explicit VR little endian, named from the instance number only
(``IMG00001.dcm``...), never from DICOM values. Every file is written to a temporary name
in the target folder, flushed, fsynced and then moved into place, so a crash never leaves
half a file. Writing is strict: the type 1 and type 2 attributes of the Patient, General
Study, General Series, Frame of Reference, General Equipment, General Image, Image Plane,
Image Pixel, CT / MR / PET Image and SOP Common modules are always present; modality
specific attributes a caller knows better (PET isotope, units) come in ``extra``.

Examples
--------
>>> import tempfile, numpy as np
>>> from vesalius.core import Volume
>>> vol = Volume.from_spacing(np.zeros((2, 4, 4), np.int16), spacing=(2.0, 0.5, 0.5),
...                           modality="CT", frame_of_reference_uid=derive_uid("doc", "for"))
>>> meta = SeriesMetadata(study=StudyInfo(study_uid=derive_uid("doc", "study")),
...                       series=SeriesInfo(series_uid=derive_uid("doc", "series")))
>>> with tempfile.TemporaryDirectory() as tmp:
...     out = write_series(vol, tmp, meta=meta)
...     [p.name for p in out.files]
['IMG00001.dcm', 'IMG00002.dcm']
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian
from pydicom.valuerep import format_number_as_ds

from vesalius.core import Volume
from vesalius.errors import GeometryError, InputError, UnsupportedError
from vesalius.io.atomic import write_atomic

log = logging.getLogger(__name__)

SOP_CLASS_BY_MODALITY: dict[str, str] = {
    "CT": "1.2.840.10008.5.1.4.1.1.2",
    "MR": "1.2.840.10008.5.1.4.1.1.4",
    "PT": "1.2.840.10008.5.1.4.1.1.128",
}
"""SOP Class UIDs: CT Image, MR Image and Positron Emission Tomography Image Storage."""

IMPLEMENTATION_VERSION = "VESALIUS_0_1"
_INT16_MAX = 32767


def derive_uid(*parts: object) -> str:
    """A DICOM UID under the ``2.25`` root, derived deterministically from ``parts``.

    The first 128 bits of the SHA-256 of the parts become the decimal integer after
    ``2.25.`` (PS3.5 B.2), so the same parts always give the same UID.

    Examples
    --------
    >>> uid = derive_uid("seed", 7, "study")
    >>> uid.startswith("2.25.") and len(uid) <= 64 and uid == derive_uid("seed", 7, "study")
    True
    """
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).digest()
    return f"2.25.{int.from_bytes(digest[:16], 'big')}"


IMPLEMENTATION_CLASS_UID = derive_uid("vesalius", "implementation-class")


@dataclass(frozen=True)
class PatientInfo:
    """Patient module values (type 2: empty strings are allowed)."""

    name: str = "PHANTOM^VESALIUS"
    patient_id: str = "VESALIUS-PHANTOM"
    birth_date: str = ""
    sex: str = "O"
    weight_kg: float | None = None


@dataclass(frozen=True)
class StudyInfo:
    """General Study module values."""

    study_uid: str
    date: str = "20240101"
    time: str = "120000"
    study_id: str = "1"
    accession_number: str = ""
    description: str = ""
    referring_physician: str = ""


@dataclass(frozen=True)
class SeriesInfo:
    """General Series, Frame of Reference and equipment values.

    ``slice_thickness_mm`` defaults to the slice spacing of the volume. ``window`` is the
    (centre, width) written in the VOI LUT module, or ``None`` to derive one.
    """

    series_uid: str
    number: int = 1
    description: str = ""
    date: str = "20240101"
    time: str = "120000"
    slice_thickness_mm: float | None = None
    body_part: str = ""
    patient_position: str = "HFS"
    manufacturer: str = "Vesalius"
    model_name: str = "vesalius.simulate"
    window: tuple[float, float] | None = None


@dataclass(frozen=True, eq=False)
class SeriesMetadata:
    """Everything but the voxels and geometry: patient, study, series and extras.

    ``extra`` holds modality-specific attributes copied into every instance (for
    example the PET Series and Isotope modules); they override the defaults.
    """

    study: StudyInfo
    series: SeriesInfo
    patient: PatientInfo = field(default_factory=PatientInfo)
    extra: Dataset | None = None


@dataclass(frozen=True)
class WrittenSeries:
    """What :func:`write_series` wrote: files in instance order and their UIDs."""

    folder: Path
    files: tuple[Path, ...]
    sop_instance_uids: tuple[str, ...]
    series_uid: str
    sop_class_uid: str
    rescale_slope: float
    rescale_intercept: float


@dataclass(frozen=True)
class StoredPixels:
    """Integer pixels and the linear map ``value = stored * slope + intercept``."""

    stored: npt.NDArray[Any]
    slope: float
    intercept: float


def quantize(array: npt.NDArray[Any]) -> StoredPixels:
    """Choose stored pixels for ``array``: integers as they are, floats scaled to int16.

    Integer arrays that fit in int16 (or uint16) are kept with slope 1 and intercept 0.
    Float arrays are scaled so that the largest magnitude becomes 32767 (intercept 0),
    so ``stored * slope`` reproduces the values within ``slope / 2``.

    Examples
    --------
    >>> q = quantize(np.array([0.0, 1.5, 3.0]))
    >>> q.stored.tolist(), q.slope * 32767
    ([0, 16384, 32767], 3.0)
    """
    if array.dtype.kind in "iub":
        lo, hi = (int(array.min()), int(array.max())) if array.size else (0, 0)
        if lo >= -32768 and hi <= 32767:
            return StoredPixels(array.astype(np.int16, copy=False), 1.0, 0.0)
        if lo >= 0 and hi <= 65535:
            return StoredPixels(array.astype(np.uint16, copy=False), 1.0, 0.0)
    elif array.dtype.kind != "f":
        raise UnsupportedError(None, f"cannot write voxels of dtype {array.dtype} as DICOM")
    peak = float(np.max(np.abs(array))) if array.size else 0.0
    if not np.isfinite(peak):
        raise InputError(None, "the volume holds NaN or infinite values")
    slope = peak / _INT16_MAX if peak > 0 else 1.0
    stored = np.rint(np.asarray(array, np.float64) / slope).astype(np.int16)
    return StoredPixels(stored, slope, 0.0)


def _ds(value: float) -> str:
    return format_number_as_ds(float(value)) if value != 0 else "0"


@dataclass(frozen=True)
class _Plane:
    row_dir: npt.NDArray[np.float64]
    col_dir: npt.NDArray[np.float64]
    pixel_spacing: tuple[float, float]
    normal: npt.NDArray[np.float64]


def _plane_of(volume: Volume) -> _Plane:
    direction = volume.direction
    row_dir, col_dir, slice_dir = direction[:, 2], direction[:, 1], direction[:, 0]
    if abs(float(row_dir @ col_dir)) > 1e-6:
        raise GeometryError(None, "rows and columns of the volume are not orthogonal")
    normal = np.cross(row_dir, col_dir)
    if abs(abs(float(normal @ slice_dir)) - 1.0) > 1e-6:
        raise GeometryError(None, "slices are not perpendicular to the image plane (tilt)")
    spacing = volume.spacing
    return _Plane(row_dir, col_dir, (spacing[1], spacing[2]), normal)


def _common_dataset(volume: Volume, meta: SeriesMetadata, plane: _Plane) -> Dataset:
    ds = Dataset()
    _patient_study_series(ds, volume, meta)
    _image_plane_pixel(ds, volume, meta, plane)
    _modality_defaults(ds, volume.modality, meta)
    if meta.extra is not None:
        for element in meta.extra:
            ds.add(element)
    return ds


def _patient_study_series(ds: Dataset, volume: Volume, meta: SeriesMetadata) -> None:
    p, st, se = meta.patient, meta.study, meta.series
    ds.PatientName, ds.PatientID = p.name, p.patient_id
    ds.PatientBirthDate, ds.PatientSex = p.birth_date, p.sex
    if p.weight_kg is not None:
        ds.PatientWeight = _ds(p.weight_kg)
    ds.StudyInstanceUID, ds.StudyDate, ds.StudyTime = st.study_uid, st.date, st.time
    ds.StudyID, ds.AccessionNumber = st.study_id, st.accession_number
    ds.ReferringPhysicianName, ds.StudyDescription = st.referring_physician, st.description
    ds.Modality, ds.SeriesInstanceUID = volume.modality, se.series_uid
    ds.SeriesNumber, ds.SeriesDescription = se.number, se.description
    ds.SeriesDate, ds.SeriesTime = se.date, se.time
    ds.ContentDate, ds.ContentTime = se.date, se.time
    ds.AcquisitionDate, ds.AcquisitionTime = se.date, se.time
    ds.PatientPosition, ds.BodyPartExamined = se.patient_position, se.body_part
    ds.FrameOfReferenceUID = volume.frame_of_reference_uid
    ds.PositionReferenceIndicator = ""
    ds.Manufacturer, ds.ManufacturerModelName = se.manufacturer, se.model_name
    ds.SoftwareVersions = IMPLEMENTATION_VERSION
    ds.PatientOrientation = ""
    ds.AcquisitionNumber = 1


def _image_plane_pixel(ds: Dataset, volume: Volume, meta: SeriesMetadata, plane: _Plane) -> None:
    ds.ImageOrientationPatient = [_ds(v) for v in (*plane.row_dir, *plane.col_dir)]
    ds.PixelSpacing = [_ds(plane.pixel_spacing[0]), _ds(plane.pixel_spacing[1])]
    thickness = meta.series.slice_thickness_mm
    ds.SliceThickness = _ds(volume.spacing[0] if thickness is None else thickness)
    ds.SpacingBetweenSlices = _ds(volume.spacing[0])
    ds.Rows, ds.Columns = volume.shape[1], volume.shape[2]
    if volume.modality == "PT":
        ds.NumberOfSlices = volume.shape[0]
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 16, 15


def _modality_defaults(ds: Dataset, modality: str, meta: SeriesMetadata) -> None:
    if modality == "CT":
        ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
        ds.KVP, ds.RescaleType = "120", "HU"
        ds.ConvolutionKernel = "STANDARD"
    elif modality == "MR":
        ds.ImageType = ["ORIGINAL", "PRIMARY", "OTHER"]
        ds.ScanningSequence, ds.SequenceVariant = ["GR", "IR"], ["SP", "MP"]
        ds.ScanOptions, ds.MRAcquisitionType = "", "3D"
        ds.RepetitionTime, ds.EchoTime, ds.InversionTime = "2300", "2.98", "900"
        ds.EchoTrainLength, ds.MagneticFieldStrength = 1, "3"
        ds.ImagedNucleus, ds.SequenceName = "1H", "MPRAGE"
    elif modality == "PT":
        ds.ImageType = ["ORIGINAL", "PRIMARY"]
        ds.FrameReferenceTime, ds.ActualFrameDuration = "0", 120000
        ds.PatientOrientationCodeSequence = []
        ds.PatientGantryRelationshipCodeSequence = []
        ds.Units, ds.CountsSource, ds.SeriesType = "BQML", "EMISSION", ["STATIC", "IMAGE"]
        ds.CorrectedImage, ds.DecayCorrection = ["DECY", "ATTN"], "START"
        ds.DecayFactor, ds.CollimatorType = "1", "NONE"
        ds.RadiopharmaceuticalInformationSequence = []
        del ds.PatientPosition
    else:
        raise UnsupportedError(None, f"no DICOM writer for modality {modality!r} (CT, MR, PT)")


def _file_meta(sop_class: str) -> FileMetaDataset:
    fm = FileMetaDataset()
    fm.MediaStorageSOPClassUID = UID(sop_class)
    fm.TransferSyntaxUID = ExplicitVRLittleEndian
    fm.ImplementationClassUID = UID(IMPLEMENTATION_CLASS_UID)
    fm.ImplementationVersionName = IMPLEMENTATION_VERSION
    return fm


def _window(meta: SeriesMetadata, pixels: StoredPixels) -> tuple[float, float]:
    if meta.series.window is not None:
        return meta.series.window
    stored = pixels.stored
    sub = stored[:: max(1, stored.shape[0] // 16)].astype(np.float64)
    lo, hi = np.percentile(sub, [1.0, 99.5]) * pixels.slope + pixels.intercept
    return (float((lo + hi) / 2), float(max(hi - lo, 1.0)))


def _atomic_write(ds: Dataset, path: Path) -> None:
    try:
        write_atomic(path, lambda handle: ds.save_as(handle, enforce_file_format=True))
    except OSError as err:
        raise InputError(path, f"cannot write DICOM file: {err.strerror or err}") from err


def slice_positions(volume: Volume) -> npt.NDArray[np.float64]:
    """ImagePositionPatient of every slice: the LPS centre of voxel ``(k, 0, 0)``.

    Examples
    --------
    >>> vol = Volume.from_spacing(np.zeros((2, 2, 2)), spacing=(3.0, 1.0, 1.0))
    >>> slice_positions(vol).tolist()
    [[0.0, 0.0, 0.0], [0.0, 0.0, 3.0]]
    """
    ks = np.arange(volume.shape[0], dtype=np.float64)
    idx = np.stack([ks, np.zeros_like(ks), np.zeros_like(ks)], axis=1)
    return volume.index_to_lps(idx)


def write_series(
    volume: Volume,
    folder: str | os.PathLike[str],
    *,
    meta: SeriesMetadata,
    pixels: StoredPixels | None = None,
) -> WrittenSeries:
    """Write ``volume`` as one DICOM file per slice into ``folder``.

    Parameters
    ----------
    volume
        The image; its ``modality`` picks the SOP class (CT, MR or PT) and its
        ``frame_of_reference_uid`` must be set.
    folder
        Created if missing; files are named ``IMG<instance number>.dcm``.
    meta
        Patient, study and series values and modality extras.
    pixels
        Stored integers and rescale, when the caller has chosen them (see
        :func:`quantize`); by default :func:`quantize` of the volume's voxels.

    Returns
    -------
    WrittenSeries
        The files in instance order, their SOP Instance UIDs and the rescale used.
    """
    sop_class = SOP_CLASS_BY_MODALITY.get(volume.modality)
    if sop_class is None:
        raise UnsupportedError(None, f"no DICOM writer for modality {volume.modality!r}")
    if not volume.frame_of_reference_uid:
        raise InputError(None, "a volume written as DICOM needs a frame_of_reference_uid")
    stored = quantize(volume.array) if pixels is None else pixels
    if stored.stored.shape != volume.shape:
        raise InputError(
            None, f"pixels of shape {stored.stored.shape} do not match the volume's {volume.shape}"
        )
    plane = _plane_of(volume)
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    ds = _common_dataset(volume, meta, plane)
    ds.SOPClassUID = sop_class
    _set_pixel_format(ds, stored)
    center, width = _window(meta, stored)
    ds.WindowCenter, ds.WindowWidth = _ds(center), _ds(width)
    files, uids = _write_slices(ds, volume, out, stored, plane)
    log.info("wrote %d %s instances to %s", len(files), volume.modality, out)
    return WrittenSeries(
        out, files, uids, meta.series.series_uid, sop_class, stored.slope, stored.intercept
    )


def _set_pixel_format(ds: Dataset, pixels: StoredPixels) -> None:
    ds.PixelRepresentation = 1 if pixels.stored.dtype == np.int16 else 0
    identity = pixels.slope == 1.0 and pixels.intercept == 0.0
    if ds.Modality != "MR" or not identity:  # the MR Image module has no rescale
        ds.RescaleSlope, ds.RescaleIntercept = _ds(pixels.slope), _ds(pixels.intercept)


def _write_slices(
    ds: Dataset, volume: Volume, out: Path, pixels: StoredPixels, plane: _Plane
) -> tuple[tuple[Path, ...], tuple[str, ...]]:
    positions = slice_positions(volume)
    files: list[Path] = []
    uids: list[str] = []
    for k in range(volume.shape[0]):
        number = k + 1
        uid = derive_uid(ds.SeriesInstanceUID, "instance", number)
        ds.file_meta = _file_meta(ds.SOPClassUID)
        ds.file_meta.MediaStorageSOPInstanceUID = UID(uid)
        ds.SOPInstanceUID, ds.InstanceNumber = uid, number
        ds.ImagePositionPatient = [_ds(v) for v in positions[k]]
        ds.SliceLocation = _ds(float(positions[k] @ plane.normal))
        if volume.modality == "PT":
            ds.ImageIndex = number
        ds.PixelData = (
            np.ascontiguousarray(pixels.stored[k])
            .astype("<i2" if ds.PixelRepresentation else "<u2")
            .tobytes()
        )
        path = out / f"IMG{number:05d}.dcm"
        _atomic_write(ds, path)
        files.append(path)
        uids.append(uid)
    return tuple(files), tuple(uids)


def series_affine(
    positions: Sequence[Sequence[float]],
    orientation: Sequence[float],
    pixel_spacing: Sequence[float],
) -> npt.NDArray[np.float64]:
    """The (k, j, i) -> LPS affine of a series from its per-slice IPP, IOP and spacing.

    Examples
    --------
    >>> series_affine([[0, 0, 0], [0, 0, 2]], [1, 0, 0, 0, 1, 0], [0.5, 0.7]).tolist()[0]
    [0.0, 0.0, 0.7, 0.0]
    """
    pos = np.asarray(positions, np.float64)
    iop = np.asarray(orientation, np.float64)
    affine = np.eye(4)
    affine[:3, 2] = iop[:3] * float(pixel_spacing[1])
    affine[:3, 1] = iop[3:] * float(pixel_spacing[0])
    affine[:3, 0] = pos[1] - pos[0] if len(pos) > 1 else np.cross(iop[:3], iop[3:])
    affine[:3, 3] = pos[0]
    return affine
