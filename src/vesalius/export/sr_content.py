"""Findings as TID 1500 content (highdicom): measurement groups, derived measurements.

Viewers (OHIF) place every measurement group of "Imaging Measurements" on an image, so a
group there always has a spatial coordinate (its own, or one a value of it is inferred
from). A finding with a place on its images gets one group, the most specific the finding
allows:

- its axial axes (:class:`~vesalius.findings.model.AxisEnds`) on a source slice: a
  bidirectional measurement, as a radiologist draws it (TID 1501, as OHIF writes its own
  bidirectional tool): the long and the short axis are each a value *inferred from* its
  ``POLYLINE`` SCOORD, both on the acquired axial slice through the finding, so that a
  viewer draws both lines, each labelled with its length (a finding with axes but no
  axis value gets a planar ROI group, TID 1410, whose region is its long axis line);
- it has a voxel on its source series: a planar ROI group (TID 1410) whose region is a
  ``POINT`` SCOORD on the source slice;
- it has only a point in the patient: the same with a ``POINT`` SCOORD3D.

A drawn axis carries its own length: the group's long and short axis are those of the
axial axes. A nodule measured for Lung-RADS on a coronal or sagittal reformat (its longest
dimension there) has other values; those go to "Derived Imaging Measurements" with the
finding's Tracking Identifier and the plane as their method, so that the line a viewer
draws is never labelled with a length it does not have.

Its segment, when in a SEG, is a volumetric ROI group (TID 1411) referencing that segment,
with the same Tracking Identifier and Tracking UID (viewers merge groups by Tracking UID);
its measurements and categories are written once, in the first group.

A finding with no place on the images (a study-level finding such as the calcium score or
the Lung-RADS category; a lung's volume) has no group: its measurements are "Derived Imaging
Measurements" (TID 1500 row 10: TID 300 measurements with the finding's Tracking Identifier,
site, algorithm and, when in a SEG, its segment as "Source of Measurement") and its
categories document-level "Qualitative Evaluations" (TID 1500 row 12); a finding with
neither is stated there as a "Finding" code, followed by its sentence (a TEXT item named
by the finding's type: a technique limitation says what limits the analysis).

Measurements keep their concept, value and UCUM unit; categories (CAC-DRS, Lung-RADS) are
qualitative evaluations named "Assessment Category" (DCM 111005). Concepts with no code in a
standard scheme get a code of the local scheme :data:`LOCAL_SCHEME` (a ``99`` designator,
as PS3.16 8.1 prescribes for local codes) whose meaning is the concept's text.

Examples
--------
>>> from vesalius.findings import codes
>>> coded(codes.LUNG).value, coded(codes.LAA_PERCENT).scheme_designator
('39607008', '99VESALIUS')
>>> unit("mL").meaning, unit("1").meaning
('mL', 'no units')
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import highdicom as hd
import numpy as np
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes as dicom_codes

from vesalius.findings import codes as our_codes
from vesalius.findings.model import (
    AxisEnds,
    Category,
    CodedConcept,
    Finding,
    Measurement,
    Segment,
)
from vesalius.io.dicom_write import derive_uid

LOCAL_SCHEME = "99VESALIUS"
"""Coding scheme designator of Vesalius's local codes (concepts no standard codes)."""
SEGMENTATION_STORAGE = "1.2.840.10008.5.1.4.1.1.66.4"
LATERALITY = {"left": dicom_codes.SCT.Left, "right": dicom_codes.SCT.Right}
DERIVED_IMAGING_MEASUREMENTS = hd.sr.CodedConcept("126011", "DCM", "Derived Imaging Measurements")
QUALITATIVE_EVALUATIONS = hd.sr.CodedConcept("C0034375", "UMLS", "Qualitative Evaluations")
ON_SLICE_MM = 0.25
"""Axis end points this close to an image's plane (mm) are drawn on that image."""
AS_DRAWN_MM = 0.05
"""A long or short axis this close to its drawn line's length (mm) was measured on it."""
Group = (
    hd.sr.VolumetricROIMeasurementsAndQualitativeEvaluations
    | hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations
    | hd.sr.MeasurementsAndQualitativeEvaluations
)


@dataclass(frozen=True)
class SegmentRef:
    """Where a finding's segment is: SEG instance, segment number, segmented series."""

    sop_instance_uid: str
    segment_number: int
    source_series_uid: str


@dataclass(frozen=True)
class StoredFinding:
    """A finding and its row id in the store (what segments name in ``finding_ids``)."""

    id: int
    finding: Finding


def local_code(meaning: str) -> hd.sr.CodedConcept:
    """A code of :data:`LOCAL_SCHEME` for a concept no standard scheme codes.

    >>> local_code("Lung-RADS 4A").value == local_code("Lung-RADS 4A").value
    True
    """
    digest = hashlib.sha256(meaning.encode("utf-8")).hexdigest()[:10].upper()
    return hd.sr.CodedConcept(f"V{digest}", LOCAL_SCHEME, meaning[:64])


def coded(concept: CodedConcept) -> hd.sr.CodedConcept:
    """The concept as a highdicom code (a local code when it has none)."""
    if concept.value is None or concept.scheme is None:
        return local_code(concept.meaning)
    return hd.sr.CodedConcept(concept.value, concept.scheme, concept.meaning[:64])


def unit(ucum: str) -> hd.sr.CodedConcept:
    """A UCUM unit as a code (``"1"`` is "no units")."""
    return hd.sr.CodedConcept(ucum, "UCUM", "no units" if ucum == "1" else ucum)


def category_value(category: Category) -> hd.sr.CodedConcept:
    """A category as the value of an "Assessment Category" evaluation (``"CAC-DRS A2/N3"``)."""
    return local_code(f"{category.system} {category.value}")


def _sites(finding: Finding) -> list[hd.sr.FindingSite]:
    location = finding.location
    if location is None or not location.site.coded:
        return []
    side = LATERALITY.get(location.laterality or "")
    return [hd.sr.FindingSite(coded(location.site), laterality=side)]


def _length(ends: Segment) -> float:
    start, end = np.asarray(ends, np.float64)
    return float(np.linalg.norm(end - start))


def _drawn_lengths(axes: AxisEnds) -> dict[CodedConcept, float]:
    return {
        our_codes.LONG_AXIS: _length(axes.long_axis),
        our_codes.SHORT_AXIS: _length(axes.short_axis),
    }


def _off_line(m: Measurement, lengths: Mapping[CodedConcept, float]) -> bool:
    """Whether ``m`` is an axis whose value is not its drawn line's length (a reformat)."""
    return m.concept in lengths and abs(m.value - lengths[m.concept]) > AS_DRAWN_MM


def as_drawn(finding: Finding, drawn: AxisEnds | None) -> list[Measurement]:
    """The finding's measurements, its long and short axis those of the ``drawn`` axes.

    >>> from vesalius.core import SeriesRef
    >>> axes = AxisEnds(((0.0, 0.0, 5.0), (9.0, 0.0, 5.0)), ((4.5, -3.0, 5.0), (4.5, 3.0, 5.0)))
    >>> finding = Finding(our_codes.NODULE, "a", "1", SeriesRef("1", "2"), measurements=(
    ...     Measurement(our_codes.LONG_AXIS, 11.0, "mm"),  # on a coronal reformat
    ...     Measurement(our_codes.SHORT_AXIS, 6.0, "mm")))
    >>> [(m.concept.meaning, m.value) for m in as_drawn(finding, axes)]
    [('Long axis', 9.0), ('Short axis', 6.0)]
    """
    lengths = {} if drawn is None else _drawn_lengths(drawn)
    return [
        replace(m, value=lengths[m.concept], method="") if _off_line(m, lengths) else m
        for m in finding.measurements
    ]


def measured_elsewhere(finding: Finding, drawn: AxisEnds | None) -> list[Measurement]:
    """The finding's long and short axis when not those of the ``drawn`` axes (a reformat)."""
    lengths = {} if drawn is None else _drawn_lengths(drawn)
    return [m for m in finding.measurements if _off_line(m, lengths)]


def _measurements(finding: Finding, drawn: Drawn | None) -> list[hd.sr.Measurement]:
    """The finding's measurements, each axis inferred from its ``drawn`` line."""
    lines = {} if drawn is None else drawn.lines()
    return [
        hd.sr.Measurement(
            coded(m.concept),
            m.value,
            unit(m.unit),
            referenced_coordinates=[lines[m.concept].coordinates()] if m.concept in lines else None,
        )
        for m in as_drawn(finding, drawn.axes if drawn else None)
    ]


def _evaluations(finding: Finding) -> list[hd.sr.QualitativeEvaluation]:
    name = dicom_codes.DCM.AssessmentCategory
    return [hd.sr.QualitativeEvaluation(name, category_value(c)) for c in finding.categories]


@dataclass(frozen=True)
class OnImage:
    """Points drawn on one source image: (column, row) pixel coordinates and the image."""

    xy: np.ndarray
    image: hd.sr.SourceImageForRegion

    def region(self) -> hd.sr.ImageRegion:
        """As the region of a planar ROI group."""
        return hd.sr.ImageRegion(hd.sr.GraphicTypeValues.POLYLINE, self.xy, self.image)

    def coordinates(self) -> hd.sr.CoordinatesForMeasurement:
        """As the coordinates a measurement is inferred from."""
        return hd.sr.CoordinatesForMeasurement(
            hd.sr.GraphicTypeValues.POLYLINE, self.xy, self.image
        )


def _on_image(ends: Segment, images: Sequence[Dataset]) -> OnImage | None:
    """``ends`` on the single-frame image whose plane holds them, or None."""
    points = np.asarray(ends, np.float64)
    best: tuple[float, Dataset] | None = None
    for ds in images:
        if not all(k in ds for k in ("ImagePositionPatient", "ImageOrientationPatient")):
            continue
        row, column = np.asarray(ds.ImageOrientationPatient, np.float64).reshape(2, 3)
        offset = (points - np.asarray(ds.ImagePositionPatient, np.float64)) @ np.cross(row, column)
        off = float(np.abs(offset).max())
        if off <= ON_SLICE_MM and (best is None or off < best[0]):
            best = (off, ds)
    if best is None or "PixelSpacing" not in best[1]:
        return None
    ds = best[1]
    to_image = hd.spatial.ReferenceToImageTransformer(
        image_position=ds.ImagePositionPatient,
        image_orientation=ds.ImageOrientationPatient,
        pixel_spacing=ds.PixelSpacing,
    )
    xy = to_image(points)[:, :2]
    if (xy < 0).any() or (xy[:, 0] > ds.Columns).any() or (xy[:, 1] > ds.Rows).any():
        return None
    return OnImage(xy, hd.sr.SourceImageForRegion(str(ds.SOPClassUID), str(ds.SOPInstanceUID)))


@dataclass(frozen=True)
class Drawn:
    """A finding's axial axes, both drawn on one source image."""

    axes: AxisEnds
    long_axis: OnImage
    short_axis: OnImage

    def lines(self) -> dict[CodedConcept, OnImage]:
        """Each axis's line by the concept of its measurement."""
        return {our_codes.LONG_AXIS: self.long_axis, our_codes.SHORT_AXIS: self.short_axis}


def drawn_axes(finding: Finding, images: Sequence[Dataset]) -> Drawn | None:
    """The finding's axial axes when both can be drawn on the same one of ``images``."""
    location = finding.location
    if location is None or location.axial_axes is None:
        return None
    axes = location.axial_axes
    long_axis, short_axis = _on_image(axes.long_axis, images), _on_image(axes.short_axis, images)
    if long_axis is None or short_axis is None or long_axis.image != short_axis.image:
        return None
    return Drawn(axes, long_axis, short_axis)


def _region(
    finding: Finding, drawn: Drawn | None, frame_of_reference_uid: str | None
) -> hd.sr.ImageRegion | hd.sr.ImageRegion3D | None:
    location, source = finding.location, finding.source
    if location is None:
        return None
    if drawn is not None:
        return drawn.long_axis.region()
    if location.voxel_kji is not None and source.sop_class_uid:
        k, j, i = location.voxel_kji
        if 0 <= k < len(source.sop_instance_uids):
            image = hd.sr.SourceImageForRegion(source.sop_class_uid, source.sop_instance_uids[k])
            point = np.array([[i + 0.5, j + 0.5]])
            return hd.sr.ImageRegion(hd.sr.GraphicTypeValues.POINT, point, image)
    if location.point_lps_mm is not None and frame_of_reference_uid:
        point3 = np.array([location.point_lps_mm])
        return hd.sr.ImageRegion3D(hd.sr.GraphicTypeValues3D.POINT, point3, frame_of_reference_uid)
    return None


def _tracking(stored: StoredFinding) -> hd.sr.TrackingIdentifier:
    finding = stored.finding
    label = (finding.description or finding.finding_type.meaning)[:64].rstrip()
    uid = derive_uid("vesalius.finding", finding.source.study_uid, stored.id)
    return hd.sr.TrackingIdentifier(uid=uid, identifier=label)


def _algorithm(finding: Finding) -> hd.sr.AlgorithmIdentification:
    return hd.sr.AlgorithmIdentification(
        finding.algorithm_name[:64], finding.algorithm_version[:64]
    )


def _volumetric(stored: StoredFinding, segment: SegmentRef) -> Group:
    """The TID 1411 group of a finding's segment (its values are in the planar group)."""
    finding = stored.finding
    reference = hd.sr.ReferencedSegment(
        SEGMENTATION_STORAGE,
        segment.sop_instance_uid,
        segment.segment_number,
        source_series=hd.sr.SourceSeriesForSegmentation(segment.source_series_uid),
    )
    return hd.sr.VolumetricROIMeasurementsAndQualitativeEvaluations(
        _tracking(stored),
        referenced_segment=reference,
        finding_type=coded(finding.finding_type),
        algorithm_id=_algorithm(finding),
        finding_sites=_sites(finding) or None,
    )


def measurement_groups(
    stored: StoredFinding,
    *,
    segment: SegmentRef | None,
    drawn: Drawn | None,
    frame_of_reference_uid: str | None,
) -> list[Group]:
    """The finding's groups: bidirectional or planar, then volumetric when segmented; none
    without a place on the images.

    ``drawn`` is :func:`drawn_axes` of the finding on its source series.
    """
    first: Group | None = _bidirectional(stored, drawn)
    if first is None:
        first = _planar(stored, drawn, frame_of_reference_uid)
    if first is None:
        return []
    return [first] if segment is None else [first, _volumetric(stored, segment)]


def _bidirectional(
    stored: StoredFinding, drawn: Drawn | None
) -> hd.sr.MeasurementsAndQualitativeEvaluations | None:
    """The finding's values with its axes drawn (TID 1501); None without drawn axes."""
    if drawn is None or not any(m.concept in drawn.lines() for m in stored.finding.measurements):
        return None  # no axis value to label a line with
    return hd.sr.MeasurementsAndQualitativeEvaluations(**_group_items(stored, drawn))


def _planar(
    stored: StoredFinding, drawn: Drawn | None, frame_of_reference_uid: str | None
) -> hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations | None:
    """The finding's values on its region (TID 1410); None without a region."""
    region = _region(stored.finding, drawn, frame_of_reference_uid)
    if region is None:
        return None
    return hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
        referenced_region=region, **_group_items(stored, drawn)
    )


def _group_items(stored: StoredFinding, drawn: Drawn | None) -> dict[str, Any]:
    """What a finding's measurement group holds, whatever its template."""
    finding = stored.finding
    return {
        "tracking_identifier": _tracking(stored),
        "finding_type": coded(finding.finding_type),
        "algorithm_id": _algorithm(finding),
        "finding_sites": _sites(finding) or None,
        "measurements": _measurements(finding, drawn) or None,
        "qualitative_evaluations": _evaluations(finding) or None,
    }


def derived_measurements(
    stored: StoredFinding,
    *,
    segment: SegmentRef | None,
    measurements: Sequence[Measurement] | None = None,
) -> list[hd.sr.Measurement]:
    """A finding's measurements (default: all) as TID 300 measurements, for "Derived
    Imaging Measurements"; a measurement's method text is its Measurement Method."""
    finding = stored.finding
    found = []
    for m in finding.measurements if measurements is None else measurements:
        measurement = hd.sr.Measurement(
            coded(m.concept),
            m.value,
            unit(m.unit),
            tracking_identifier=_tracking(stored),
            method=local_code(m.method) if m.method else None,
            finding_sites=_sites(finding) or None,
            algorithm_id=_algorithm(finding),
        )
        if segment is not None:
            measurement[0].ContentSequence.append(
                hd.sr.ImageContentItem(
                    dicom_codes.DCM.SourceOfMeasurement,
                    SEGMENTATION_STORAGE,
                    segment.sop_instance_uid,
                    referenced_segment_numbers=segment.segment_number,
                    relationship_type=hd.sr.RelationshipTypeValues.INFERRED_FROM,
                )
            )
        found.append(measurement)
    return found


def document_evaluations(finding: Finding) -> list[hd.sr.ContentItem]:
    """A finding's categories as qualitative evaluations; with no value at all, its type
    and (as TEXT named by the type) its sentence."""
    evaluations = _evaluations(finding)
    if evaluations or finding.measurements:
        return [item for evaluation in evaluations for item in evaluation]
    kind = coded(finding.finding_type)
    items: list[hd.sr.ContentItem] = [*hd.sr.QualitativeEvaluation(dicom_codes.DCM.Finding, kind)]
    if finding.description:
        contains = hd.sr.RelationshipTypeValues.CONTAINS
        items.append(hd.sr.TextContentItem(kind, finding.description, contains))
    return items


@dataclass(frozen=True, eq=False)
class ReportContent:
    """A report's content: measurement groups, derived measurements, qualitative evaluations."""

    groups: tuple[Group, ...]
    derived: tuple[hd.sr.Measurement, ...]
    evaluations: tuple[hd.sr.ContentItem, ...]

    def containers(self) -> list[hd.sr.ContainerContentItem]:
        """The "Derived Imaging Measurements" and "Qualitative Evaluations" that have items."""
        derived: list[hd.sr.ContentItem] = [item for m in self.derived for item in m]
        found = []
        for name, items in [
            (DERIVED_IMAGING_MEASUREMENTS, derived),
            (QUALITATIVE_EVALUATIONS, list(self.evaluations)),
        ]:
            if items:
                container = hd.sr.ContainerContentItem(
                    name=name, relationship_type=hd.sr.RelationshipTypeValues.CONTAINS
                )
                container.ContentSequence = hd.sr.ContentSequence(items)
                found.append(container)
        return found


def report_content(
    findings: Sequence[StoredFinding],
    segments: Mapping[int, SegmentRef],
    images: Sequence[Dataset],
) -> ReportContent:
    """The content of the findings' report (see the module doc).

    ``segments`` are by finding id; ``images`` are the headers of the source images (their
    planes and frames of reference place the findings).
    """
    by_series: dict[str, list[Dataset]] = {}
    for ds in images:
        by_series.setdefault(str(ds.SeriesInstanceUID), []).append(ds)
    groups: list[Group] = []
    derived: list[hd.sr.Measurement] = []
    evaluations: list[hd.sr.ContentItem] = []
    for stored in findings:
        series = by_series.get(stored.finding.source.series_uid, [])
        frame = str(series[0].FrameOfReferenceUID) if series else None
        segment = segments.get(stored.id)
        drawn = drawn_axes(stored.finding, series)
        placed = measurement_groups(
            stored, segment=segment, drawn=drawn, frame_of_reference_uid=frame
        )
        if placed:
            groups.extend(placed)
            elsewhere = measured_elsewhere(stored.finding, drawn.axes if drawn else None)
            derived.extend(derived_measurements(stored, segment=None, measurements=elsewhere))
            continue
        derived.extend(derived_measurements(stored, segment=segment))
        evaluations.extend(document_evaluations(stored.finding))
    return ReportContent(tuple(groups), tuple(derived), tuple(evaluations))
