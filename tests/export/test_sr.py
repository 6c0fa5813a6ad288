"""TID 1500 Measurement Report: what a PACS, highdicom and a viewer read back from our SR.

What a user would see go wrong: a report a validating PACS rejects, a measurement read back
as another value or unit, a category (CAC-DRS, Lung-RADS) lost, a finding not tied to its
SEG segment or drawn on the wrong image, or AI output presented as a person's.
"""

from __future__ import annotations

import io
from pathlib import Path

import highdicom as hd
import numpy as np
import pytest

from tests.export.conftest import AnalysedChest, WrittenCT, dciodvfy_errors, needs_dciodvfy
from vesalius.core import SeriesRef
from vesalius.errors import InputError
from vesalius.export.seg import SegExport, SegIdentity, encode_seg, export_segs
from vesalius.export.sr import (
    SrIdentity,
    StoredFinding,
    build_sr,
    export_sr,
    read_report,
    sr_bytes,
    stored_findings,
)
from vesalius.export.sr_content import LOCAL_SCHEME
from vesalius.findings import codes
from vesalius.findings.model import Category, CodedConcept, Finding, Location, Measurement
from vesalius.store.findings import Algorithm, Code
from vesalius.store.segmentations import SegmentInfo

LEFT = Code("SCT", "7771000", "Left")
NODULE = CodedConcept("27925004", "SCT", "Nodule")


def _source(ct: WrittenCT) -> SeriesRef:
    assert ct.volume.source is not None
    return ct.volume.source


def _findings(ct: WrittenCT) -> list[StoredFinding]:
    source = _source(ct)
    lung = Finding(
        codes.LUNG, "vesalius.chest-ct.lungs", "0.1.0", source,
        measurements=(
            Measurement(codes.VOLUME, 2512.123456789, "mL"),
            Measurement(codes.LAA_PERCENT, 7.25, "%"),
        ),
        location=Location(codes.LUNG, laterality="left"),
        description="Left lung: 2512 mL",
    )  # fmt: skip
    study = Finding(
        codes.CORONARY_CALCIFICATION, "vesalius.cardiac-ct.calcium", "0.1.0", source,
        measurements=(Measurement(codes.CALCIUM_SCORE, 356.0, "1"),),
        categories=(Category("CAC-DRS", "A3/N3"),),
        location=Location(codes.CORONARY_ARTERY),
    )  # fmt: skip
    lesion = Finding(
        codes.CALCIFIED_PLAQUE, "vesalius.cardiac-ct.calcium", "0.1.0", source,
        measurements=(Measurement(codes.CALCIUM_VOLUME, 41.5, "mm3"),),
        location=Location(codes.LAD, voxel_kji=(6, 10, 20), point_lps_mm=(4.0, -1.5, 55.0)),
    )  # fmt: skip
    nodule = Finding(
        NODULE, "vesalius.chest-ct.nodules", "0.1.0",
        SeriesRef(source.study_uid, source.series_uid),
        measurements=(Measurement(CodedConcept.text("Mean diameter"), 9.5, "mm"),),
        categories=(Category("Lung-RADS", "4A"),),
        location=Location(codes.LUNG, laterality="right", point_lps_mm=(-30.0, 2.0, 48.0)),
    )  # fmt: skip
    return [
        StoredFinding(n, f)
        for n, f in zip((11, 12, 13, 14), (lung, study, lesion, nodule), strict=True)
    ]


def _seg(ct: WrittenCT) -> SegExport:
    labels = np.zeros(ct.volume.shape, np.uint8)
    labels[2:6, 3:15, 4:12] = 1
    lung = SegmentInfo(
        1, "Left lung", Code("SCT", "91723000", "Anatomical Structure"),
        Code("SCT", "39607008", "Lung"), LEFT, finding_ids=(11,),
    )  # fmt: skip
    identity = SegIdentity.derived("sr-test")
    data = encode_seg(
        labels, ct.headers, [lung], algorithm=Algorithm("lungs", "1"), identity=identity
    )
    source = str(ct.headers[0].SeriesInstanceUID)
    return SegExport(data, identity.sop_instance_uid, identity.series_uid, source, 1, (lung,))


def _report_bytes(ct: WrittenCT) -> bytes:
    sr = build_sr(_findings(ct), ct.headers, segs=[_seg(ct)], identity=SrIdentity.derived("t"))
    return sr_bytes(sr)


def _groups(report: hd.sr.MeasurementReport) -> list[object]:
    return [
        *report.get_volumetric_roi_measurement_groups(),
        *report.get_planar_roi_measurement_groups(),
        *report.get_image_measurement_groups(),
    ]


def _identifier(group: object) -> str:
    return str(group.tracking_identifier)  # type: ignore[attr-defined]


def test_measurements_and_categories_read_back_equal(written_ct: WrittenCT) -> None:
    """A value, unit or category that reads back differently from what the analysis found."""
    report = read_report(_report_bytes(written_ct))
    groups = _groups(report)
    assert len(groups) == 4
    by_type = {g.finding_type.meaning: g for g in groups}  # type: ignore[attr-defined]
    for stored in _findings(written_ct):
        group = by_type[stored.finding.finding_type.meaning]
        read = [(m.name.meaning, m.value, m.unit.value) for m in group.get_measurements()]
        wrote = [(m.concept.meaning, m.value, m.unit) for m in stored.finding.measurements]
        assert read == wrote
        evaluations = [e.value.meaning for e in group.get_qualitative_evaluations()]
        assert evaluations == [f"{c.system} {c.value}" for c in stored.finding.categories]
    laa = by_type["Lung"].get_measurements()[1].name
    assert laa.scheme_designator == LOCAL_SCHEME


def test_lung_group_references_its_seg_segment(written_ct: WrittenCT) -> None:
    """A finding not linked to its segment: the viewer cannot show what was measured."""
    seg = _seg(written_ct)
    report = read_report(_report_bytes(written_ct))
    (volumetric,) = report.get_volumetric_roi_measurement_groups()
    segment = volumetric.roi if hasattr(volumetric, "roi") else None
    reference = volumetric.referenced_segment
    assert segment is None or segment is not None
    assert reference.referenced_sop_instance_uid == seg.sop_instance_uid
    assert reference.referenced_segment_numbers == [1]
    (site,) = volumetric.finding_sites
    assert site.laterality.meaning == "Left"


def test_points_are_drawn_on_the_right_image_or_in_3d(written_ct: WrittenCT) -> None:
    """A lesion's mark drawn on another slice, or a nodule with no mark at all."""
    report = read_report(_report_bytes(written_ct))
    planar = {g.finding_type.meaning: g for g in report.get_planar_roi_measurement_groups()}
    lesion = planar["Calcified atheromatous plaque"].roi
    assert lesion.graphic_type == hd.sr.GraphicTypeValues.POINT
    assert np.allclose(lesion.value, [[20.5, 10.5]])
    source_uid = lesion.ContentSequence[0].ReferencedSOPSequence[0].ReferencedSOPInstanceUID
    assert source_uid == written_ct.headers[6].SOPInstanceUID
    nodule = planar["Nodule"].roi
    assert nodule.graphic_type == hd.sr.GraphicTypeValues3D.POINT
    assert np.allclose(nodule.value, [[-30.0, 2.0, 48.0]])
    assert nodule.frame_of_reference_uid == written_ct.volume.frame_of_reference_uid


def test_report_is_marked_as_device_output_not_verified(written_ct: WrittenCT) -> None:
    """AI output presented as a person's verified report."""
    data = _report_bytes(written_ct)
    sr = hd.sr.srread(io.BytesIO(data))
    assert (sr.CompletionFlag, sr.VerificationFlag) == ("PARTIAL", "UNVERIFIED")
    report = read_report(data)
    assert report.get_observer_contexts(observer_type=hd.sr.CodedConcept("121007", "DCM", "Device"))
    names = {
        item.TextValue
        for group in _groups(report)
        for item in group[0].ContentSequence  # type: ignore[index]
        if item.ConceptNameCodeSequence[0].CodeValue == "111001"  # Algorithm Name
    }
    assert names == {
        "vesalius.chest-ct.lungs",
        "vesalius.cardiac-ct.calcium",
        "vesalius.chest-ct.nodules",
    }


@needs_dciodvfy
def test_dciodvfy_finds_no_error(written_ct: WrittenCT, tmp_path: Path) -> None:
    """A PACS that validates IODs rejecting our SR."""
    path = tmp_path / "sr.dcm"
    path.write_bytes(_report_bytes(written_ct))
    assert dciodvfy_errors(path) == []


def test_no_finding_no_sr(written_ct: WrittenCT) -> None:
    """An empty report sent as if something had been measured."""
    with pytest.raises(InputError, match="no finding"):
        build_sr([], written_ct.headers, identity=SrIdentity.derived("e"))


def test_study_sr_reports_every_stored_finding_and_its_segments(
    analysed_chest: AnalysedChest,
) -> None:
    """The study's SR missing findings, changing values or not citing the study's SEG."""
    chest = analysed_chest
    segs = export_segs(chest.store, chest.blobs, chest.study_uid)
    exported = export_sr(chest.store, chest.blobs, chest.study_uid, segs=segs)
    report = read_report(exported.data)
    stored = stored_findings(chest.store, chest.study_uid)
    groups = _groups(report)
    assert len(groups) == len(stored)
    read = sorted(
        (m.name.meaning, m.value, m.unit.value) for g in groups for m in g.get_measurements()
    )
    wrote = sorted(
        (m.concept.meaning, m.value, m.unit) for s in stored for m in s.finding.measurements
    )
    assert read == wrote
    volumetric = report.get_volumetric_roi_measurement_groups()
    cited = [
        (g.referenced_segment.referenced_sop_instance_uid, number)
        for g in volumetric
        for number in g.referenced_segment.referenced_segment_numbers
    ]
    assert {uid for uid, _ in cited} <= {seg.sop_instance_uid for seg in segs}
    (lungs,) = [seg for seg in segs if any("lung" in i.label.lower() for i in seg.segments)]
    assert sorted(n for uid, n in cited if uid == lungs.sop_instance_uid) == [1, 2]


@needs_dciodvfy
def test_study_sr_passes_dciodvfy(analysed_chest: AnalysedChest, tmp_path: Path) -> None:
    """The study's SR (with its SEG as evidence) rejected by a validating PACS."""
    exported = export_sr(analysed_chest.store, analysed_chest.blobs, analysed_chest.study_uid)
    path = tmp_path / "study-sr.dcm"
    path.write_bytes(exported.data)
    assert dciodvfy_errors(path) == []


def test_study_without_findings_has_no_sr(analysed_chest: AnalysedChest) -> None:
    """An SR written for a study nothing was found in."""
    with pytest.raises(InputError, match="has no finding"):
        export_sr(analysed_chest.store, analysed_chest.blobs, "1.2.3.999")
