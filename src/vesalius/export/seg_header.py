"""The non-pixel part of a DICOM Segmentation: modules copied from the source, geometry, segments.

:func:`source_grid` checks that the source instances form one single-frame series on one
plane orientation and gives what the SEG needs from them; :func:`seg_header` builds the
dataset of everything but the per-frame functional groups and the pixel data, which
:mod:`vesalius.export.seg` appends as raw bytes.

Examples
--------
>>> from vesalius.store.findings import Code
>>> from vesalius.store.segmentations import SegmentInfo
>>> info = SegmentInfo(1, "Lung", Code("SCT", "91723000", "Anatomical Structure"),
...                    Code("SCT", "39607008", "Lung"))
>>> item = segment_item(1, info, Algorithm("vesalius.chest-ct.lungs", "0.1.0"))
>>> item.SegmentLabel, item.SegmentedPropertyTypeCodeSequence[0].CodeMeaning
('Lung', 'Lung')
>>> len(item.RecommendedDisplayCIELabValue)
3
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from highdicom.color import CIELabColor
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.sr.codedict import codes as dicom_codes
from pydicom.uid import UID, ExplicitVRLittleEndian

import vesalius
from vesalius.export.seg_encode import element, item, sequence
from vesalius.io.dicom_write import derive_uid
from vesalius.store.findings import Algorithm, Code
from vesalius.store.segmentations import SegmentInfo

SEGMENTATION_STORAGE = "1.2.840.10008.5.1.4.1.1.66.4"
MANUFACTURER = "Vesalius"
PATIENT_STUDY = (
    "PatientName",
    "PatientID",
    "IssuerOfPatientID",
    "PatientBirthDate",
    "PatientSex",
    "StudyInstanceUID",
    "StudyDate",
    "StudyTime",
    "ReferringPhysicianName",
    "StudyID",
    "AccessionNumber",
    "StudyDescription",
)
"""Patient and General Study attributes copied from the source (type 2 ones kept empty)."""
TYPE2 = frozenset(
    {
        "PatientName",
        "PatientID",
        "PatientBirthDate",
        "PatientSex",
        "StudyDate",
        "StudyTime",
        "ReferringPhysicianName",
        "StudyID",
        "AccessionNumber",
    }
)
PALETTE = (
    (221, 130, 101),
    (128, 174, 128),
    (241, 214, 145),
    (177, 122, 101),
    (111, 184, 210),
    (216, 101, 79),
    (183, 156, 220),
    (183, 214, 211),
    (152, 189, 207),
    (178, 212, 242),
    (68, 172, 100),
    (111, 197, 131),
    (85, 188, 255),
    (0, 145, 30),
    (214, 230, 130),
    (218, 255, 255),
)
"""Display colours (RGB) given to segments in turn; stored as CIELab as the standard asks."""


@dataclass(frozen=True)
class SegIdentity:
    """Identity of the new SEG instance: UIDs, numbers, description and content label."""

    series_uid: str
    sop_instance_uid: str
    series_number: int = 901
    instance_number: int = 1
    series_description: str = "AI segmentation (not reviewed)"
    content_label: str = "SEGMENTATION"

    @classmethod
    def derived(
        cls,
        *parts: str,
        series_number: int = 901,
        series_description: str = "AI segmentation (not reviewed)",
    ) -> SegIdentity:
        """UIDs derived from ``parts`` (the same parts give the same UIDs: re-exports match).

        >>> a, b = SegIdentity.derived("x", "1"), SegIdentity.derived("x", "1")
        >>> a == b and a.series_uid != a.sop_instance_uid
        True
        """
        return cls(
            derive_uid(*parts, "seg-series"),
            derive_uid(*parts, "seg-instance"),
            series_number=series_number,
            series_description=series_description[:64],
        )


@dataclass(frozen=True, eq=False)
class SourceGrid:
    """What the SEG takes from its source slices, in the label map's slice order."""

    headers: tuple[Dataset, ...]
    rows: int
    columns: int
    orientation: tuple[str, ...]
    pixel_spacing: tuple[str, ...]
    positions: tuple[str, ...]
    position_index: tuple[int, ...]
    slice_spacing: float
    slice_thickness: str


def _same(values: Sequence[object], what: str) -> None:
    distinct = set(values)
    if len(distinct) > 1:
        raise ValueError(f"source slices differ in {what}: {sorted(map(str, distinct))[:3]}")


def _text(values: object) -> tuple[str, ...]:
    return tuple(str(v) for v in values)  # type: ignore[attr-defined]


def _ranks(positions: npt.NDArray[np.float64], orientation: tuple[str, ...]) -> npt.NDArray[Any]:
    cosines = np.array([float(v) for v in orientation])
    normal = np.cross(cosines[:3], cosines[3:])
    along = positions @ normal
    if len(np.unique(np.round(along, 4))) != len(along):
        raise ValueError("two source slices have the same position")
    return np.argsort(np.argsort(along)) + 1


def source_grid(sources: Sequence[Dataset]) -> SourceGrid:
    """Check the sources (one series, single-frame, one orientation) and describe them.

    Raises
    ------
    ValueError
        No sources, several series or orientations, multi-frame or missing geometry.
    """
    if not sources:
        raise ValueError("a segmentation needs at least one source image")
    for ds in sources:
        missing = [k for k in ("ImagePositionPatient", "ImageOrientationPatient") if k not in ds]
        if missing or "PixelSpacing" not in ds or int(ds.get("NumberOfFrames", 1) or 1) != 1:
            raise ValueError(f"source {ds.get('SOPInstanceUID')} is not a single-frame slice")
    for keyword in ("SeriesInstanceUID", "FrameOfReferenceUID", "Rows", "Columns"):
        _same([ds.get(keyword) for ds in sources], keyword)
    _same([tuple(round(float(v), 4) for v in ds.ImageOrientationPatient) for ds in sources], "IOP")
    first = sources[0]
    orientation = _text(first.ImageOrientationPatient)
    positions = np.array([[float(v) for v in ds.ImagePositionPatient] for ds in sources])
    ranks = _ranks(positions, orientation)
    along = np.sort(positions @ np.cross(*np.reshape([float(v) for v in orientation], (2, 3))))
    spacing = float(np.median(np.diff(along))) if len(along) > 1 else 1.0
    thickness = str(first.get("SliceThickness") or f"{spacing:.6g}")
    return SourceGrid(
        tuple(sources),
        int(first.Rows),
        int(first.Columns),
        orientation,
        _text(first.PixelSpacing),
        tuple("\\".join(_text(ds.ImagePositionPatient)) for ds in sources),
        tuple(int(r) for r in ranks),
        spacing,
        thickness,
    )


def _code(code: Code) -> Dataset:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = (
        code.value,
        code.scheme,
        code.meaning,
    )
    return item


def segment_item(number: int, info: SegmentInfo, algorithm: Algorithm) -> Dataset:
    """One item of the Segment Sequence (coded property, algorithm, display colour)."""
    item = Dataset()
    item.SegmentedPropertyCategoryCodeSequence = DicomSequence([_code(info.category)])
    item.SegmentNumber = number
    item.SegmentLabel = info.label[:64]
    family = dicom_codes.cid7162.MorphologicalOperations
    ident = Dataset()
    ident.AlgorithmFamilyCodeSequence = DicomSequence(
        [_code(Code(family.scheme_designator, family.value, family.meaning))]
    )
    ident.AlgorithmVersion = algorithm.version[:64]
    ident.AlgorithmName = algorithm.name[:64]
    item.SegmentationAlgorithmIdentificationSequence = DicomSequence([ident])
    item.SegmentAlgorithmType = "AUTOMATIC"
    item.SegmentAlgorithmName = algorithm.name[:64]
    kind = _code(info.type)
    if info.type_modifier is not None:
        kind.SegmentedPropertyTypeModifierCodeSequence = DicomSequence([_code(info.type_modifier)])
    item.SegmentedPropertyTypeCodeSequence = DicomSequence([kind])
    rgb = PALETTE[(number - 1) % len(PALETTE)]
    item.RecommendedDisplayCIELabValue = list(CIELabColor.from_rgb(*rgb).value)
    return item


REFERENCED_SERIES = 0x00081115
"""Referenced Series Sequence: encoded by :func:`referenced_series`, not by pydicom."""


def referenced_series(grid: SourceGrid) -> bytes:
    """The encoded Referenced Series Sequence (one item per source slice, built as bytes:
    pydicom's writer is slow on hundreds of items)."""
    instances = sequence(
        0x0008114A,
        (
            item(
                element(0x00081150, "UI", str(ds.SOPClassUID))
                + element(0x00081155, "UI", str(ds.SOPInstanceUID))
            )
            for ds in grid.headers
        ),
    )
    series = element(0x0020000E, "UI", str(grid.headers[0].SeriesInstanceUID))
    return sequence(REFERENCED_SERIES, [item(instances + series)])


def _dimensions(ds: Dataset) -> None:
    uid = derive_uid(ds.SOPInstanceUID, "dimension-organization")
    org = Dataset()
    org.DimensionOrganizationUID = uid
    ds.DimensionOrganizationSequence = DicomSequence([org])
    indices = []
    for pointer, group, label in (
        (0x0062000B, 0x0062000A, "Referenced Segment Number"),
        (0x00200032, 0x00209113, "Image Position Patient"),
    ):
        index = Dataset()
        index.DimensionOrganizationUID = uid
        index.DimensionIndexPointer = pointer
        index.FunctionalGroupPointer = group
        index.DimensionDescriptionLabel = label
        indices.append(index)
    ds.DimensionIndexSequence = DicomSequence(indices)


def _shared(grid: SourceGrid) -> DicomSequence:
    plane = Dataset()
    plane.ImageOrientationPatient = list(grid.orientation)
    measures = Dataset()
    measures.SliceThickness = grid.slice_thickness
    measures.SpacingBetweenSlices = f"{grid.slice_spacing:.6g}"
    measures.PixelSpacing = list(grid.pixel_spacing)
    shared = Dataset()
    shared.PlaneOrientationSequence = DicomSequence([plane])
    shared.PixelMeasuresSequence = DicomSequence([measures])
    return DicomSequence([shared])


def _copy_source(ds: Dataset, source: Dataset) -> None:
    if "SpecificCharacterSet" in source:
        ds.SpecificCharacterSet = source.SpecificCharacterSet
    for keyword in PATIENT_STUDY:
        value = source.get(keyword)
        if value is not None or keyword in TYPE2:
            setattr(ds, keyword, value if value is not None else "")
    ds.FrameOfReferenceUID = source.FrameOfReferenceUID
    ds.PositionReferenceIndicator = source.get("PositionReferenceIndicator", "")


def _identity(ds: Dataset, identity: SegIdentity, algorithm: Algorithm) -> None:
    now = datetime.datetime.now(datetime.UTC)
    ds.SOPClassUID, ds.SOPInstanceUID = SEGMENTATION_STORAGE, identity.sop_instance_uid
    ds.SeriesInstanceUID, ds.SeriesNumber = identity.series_uid, identity.series_number
    ds.InstanceNumber = identity.instance_number
    ds.Modality, ds.SeriesDescription = "SEG", identity.series_description[:64]
    ds.ImageType = ["DERIVED", "PRIMARY"]
    ds.ContentDate = ds.InstanceCreationDate = now.strftime("%Y%m%d")
    ds.ContentTime = ds.InstanceCreationTime = now.strftime("%H%M%S")
    ds.Manufacturer, ds.ManufacturerModelName = MANUFACTURER, algorithm.name[:64]
    ds.DeviceSerialNumber = "0"
    ds.SoftwareVersions = f"vesalius {vesalius.__version__}"
    ds.ContentLabel, ds.ContentDescription = identity.content_label, identity.series_description
    ds.ContentCreatorName = ""


def _image(ds: Dataset, grid: SourceGrid, n_frames: int) -> None:
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.NumberOfFrames, ds.Rows, ds.Columns = n_frames, grid.rows, grid.columns
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 1, 1, 0, 0
    ds.LossyImageCompression = "00"
    ds.SegmentationType, ds.SegmentsOverlap = "BINARY", "NO"


def seg_header(
    grid: SourceGrid,
    segments: Sequence[SegmentInfo],
    *,
    algorithm: Algorithm,
    identity: SegIdentity,
    n_frames: int,
) -> Dataset:
    """Everything of the SEG but the Referenced Series Sequence (:func:`referenced_series`),
    the per-frame functional groups and the pixel data."""
    ds = Dataset()
    _copy_source(ds, grid.headers[0])
    _identity(ds, identity, algorithm)
    _dimensions(ds)
    _image(ds, grid, n_frames)
    ds.SegmentSequence = DicomSequence(
        [segment_item(n, info, algorithm) for n, info in enumerate(segments, start=1)]
    )
    ds.SharedFunctionalGroupsSequence = _shared(grid)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID(SEGMENTATION_STORAGE)
    meta.MediaStorageSOPInstanceUID = UID(identity.sop_instance_uid)
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta = meta
    return ds
