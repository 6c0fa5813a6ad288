"""Findings as TID 1500 measurement groups (highdicom), one group per finding.

Each finding becomes one group, the most specific the finding allows:

- its segment is in a SEG: a volumetric ROI group (TID 1411) referencing that segment;
- it has a voxel on its source series: a planar ROI group (TID 1410) with an image region,
  a ``POINT`` SCOORD on the source slice, so a viewer can draw it;
- it has only a point in the patient: the same with a ``POINT`` SCOORD3D;
- otherwise (a study-level finding such as the calcium score): a TID 1501 group.

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
from dataclasses import dataclass

import highdicom as hd
import numpy as np
from pydicom.sr.codedict import codes as dicom_codes

from vesalius.findings.model import Category, CodedConcept, Finding
from vesalius.io.dicom_write import derive_uid

LOCAL_SCHEME = "99VESALIUS"
"""Coding scheme designator of Vesalius's local codes (concepts no standard codes)."""
SEGMENTATION_STORAGE = "1.2.840.10008.5.1.4.1.1.66.4"
LATERALITY = {"left": dicom_codes.SCT.Left, "right": dicom_codes.SCT.Right}
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


def _measurements(finding: Finding) -> list[hd.sr.Measurement]:
    return [
        hd.sr.Measurement(coded(m.concept), m.value, unit(m.unit)) for m in finding.measurements
    ]


def _evaluations(finding: Finding) -> list[hd.sr.QualitativeEvaluation]:
    name = dicom_codes.DCM.AssessmentCategory
    return [hd.sr.QualitativeEvaluation(name, category_value(c)) for c in finding.categories]


def _region(
    finding: Finding, frame_of_reference_uid: str | None
) -> hd.sr.ImageRegion | hd.sr.ImageRegion3D | None:
    location, source = finding.location, finding.source
    if location is None:
        return None
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


def measurement_group(
    stored: StoredFinding,
    *,
    segment: SegmentRef | None,
    frame_of_reference_uid: str | None,
) -> Group:
    """The TID 1500 measurement group of one finding (see the module doc for which)."""
    finding = stored.finding
    label = (finding.description or finding.finding_type.meaning)[:64]
    tracking = hd.sr.TrackingIdentifier(
        uid=derive_uid("vesalius.finding", finding.source.study_uid, stored.id), identifier=label
    )
    algorithm = hd.sr.AlgorithmIdentification(
        finding.algorithm_name[:64], finding.algorithm_version[:64]
    )
    kind, sites = coded(finding.finding_type), _sites(finding) or None
    measurements, evaluations = _measurements(finding) or None, _evaluations(finding) or None
    if segment is not None:
        reference = hd.sr.ReferencedSegment(
            SEGMENTATION_STORAGE,
            segment.sop_instance_uid,
            segment.segment_number,
            source_series=hd.sr.SourceSeriesForSegmentation(segment.source_series_uid),
        )
        return hd.sr.VolumetricROIMeasurementsAndQualitativeEvaluations(
            tracking,
            referenced_segment=reference,
            finding_type=kind,
            algorithm_id=algorithm,
            finding_sites=sites,
            measurements=measurements,
            qualitative_evaluations=evaluations,
        )
    region = _region(finding, frame_of_reference_uid)
    if region is not None:
        return hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
            tracking,
            referenced_region=region,
            finding_type=kind,
            algorithm_id=algorithm,
            finding_sites=sites,
            measurements=measurements,
            qualitative_evaluations=evaluations,
        )
    return hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking,
        finding_type=kind,
        algorithm_id=algorithm,
        finding_sites=sites,
        measurements=measurements,
        qualitative_evaluations=evaluations,
    )


def measurement_groups(
    findings: Sequence[StoredFinding],
    segments: Mapping[int, SegmentRef],
    frames_of_reference: Mapping[str, str],
) -> list[Group]:
    """One group per finding; ``segments`` by finding id, frames of reference by series UID."""
    return [
        measurement_group(
            stored,
            segment=segments.get(stored.id),
            frame_of_reference_uid=frames_of_reference.get(stored.finding.source.series_uid),
        )
        for stored in findings
    ]
