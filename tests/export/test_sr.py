"""TID 1500 Measurement Report: what a PACS, highdicom and a viewer read back from our SR.

What a user would see go wrong: a report a validating PACS rejects, a measurement read back
as another value or unit, a category (CAC-DRS, Lung-RADS) lost, a finding not tied to its
SEG segment or drawn on the wrong image, a measurement group a viewer cannot place on an
image (OHIF fails to load the whole SR), or AI output presented as a person's.
"""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path
from typing import Any

import highdicom as hd
import numpy as np
import pydicom
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
    read_derived_measurements,
    read_qualitative_evaluations,
    read_report,
    sr_bytes,
    stored_findings,
)
from vesalius.export.sr_content import LOCAL_SCHEME
from vesalius.findings import codes
from vesalius.findings.model import (
    AxisEnds,
    Category,
    CodedConcept,
    Finding,
    Location,
    Measurement,
)
from vesalius.store.findings import Algorithm, Code
from vesalius.store.index import list_instances
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


def _report_bytes(ct: WrittenCT, findings: list[StoredFinding] | None = None) -> bytes:
    findings = _findings(ct) if findings is None else findings
    sr = build_sr(findings, ct.headers, segs=[_seg(ct)], identity=SrIdentity.derived("t"))
    return sr_bytes(sr)


def _groups(report: hd.sr.MeasurementReport) -> list[object]:
    return [
        *report.get_volumetric_roi_measurement_groups(),
        *report.get_planar_roi_measurement_groups(),
        *report.get_image_measurement_groups(),
    ]


def _identifier(group: object) -> str:
    return str(group.tracking_identifier)  # type: ignore[attr-defined]


def _values(measurements: list[hd.sr.Measurement]) -> list[tuple[str, float, str]]:
    return [(m.name.meaning, m.value, m.unit.value) for m in measurements]


def _wrote(finding: Finding) -> list[tuple[str, float, str]]:
    return [(m.concept.meaning, m.value, m.unit) for m in finding.measurements]


def _cited_segments(measurement: hd.sr.Measurement) -> list[tuple[str, int]]:
    """The SEG segments a derived measurement names as its "Source of Measurement"."""
    return [
        (str(ref.ReferencedSOPInstanceUID), int(ref.ReferencedSegmentNumber))
        for item in measurement[0].ContentSequence
        if item.ValueType == "IMAGE"
        for ref in item.ReferencedSOPSequence
    ]


def _unplaceable_groups(data: bytes) -> list[str]:
    """Measurement groups of "Imaging Measurements" with no SCOORD or SCOORD3D (of their own,
    or that a value of theirs is inferred from) nor a group with the same Tracking UID that
    has one: the groups OHIF fails on (it reads their coordinates unchecked and gives up
    loading the SR)."""
    root = hd.sr.srread(io.BytesIO(data)).ContentSequence
    [imaging] = [i for i in root if i.ConceptNameCodeSequence[0].CodeValue == "126010"]
    placed: dict[str, bool] = {}
    for group in imaging.ContentSequence:
        items = group.ContentSequence
        [uid] = [i.UID for i in items if i.ValueType == "UIDREF" and
                 i.ConceptNameCodeSequence[0].CodeValue == "112040"]  # fmt: skip
        inferred = [c for i in items if i.ValueType == "NUM" for c in i.get("ContentSequence", [])]
        has_coordinates = any(i.ValueType in ("SCOORD", "SCOORD3D") for i in [*items, *inferred])
        placed[uid] = placed.get(uid, False) or has_coordinates
    return [uid for uid, ok in placed.items() if not ok]


def test_measurements_and_categories_read_back_equal(written_ct: WrittenCT) -> None:
    """A value, unit or category that reads back differently from what the analysis found."""
    findings = {s.finding.finding_type.meaning: s.finding for s in _findings(written_ct)}
    report = read_report(_report_bytes(written_ct))
    planar = {g.finding_type.meaning: g for g in report.get_planar_roi_measurement_groups()}
    assert sorted(planar) == ["Calcified atheromatous plaque", "Nodule"]
    for name, group in planar.items():
        assert _values(group.get_measurements()) == _wrote(findings[name])
        evaluations = [e.value.meaning for e in group.get_qualitative_evaluations()]
        assert evaluations == [f"{c.system} {c.value}" for c in findings[name].categories]
    # Study-level values (no place on the images): derived measurements, evaluations.
    derived = read_derived_measurements(report)
    assert _values(derived) == _wrote(findings["Lung"]) + _wrote(
        findings["Coronary artery calcification"]
    )
    assert derived[1].name.scheme_designator == LOCAL_SCHEME
    evaluations = read_qualitative_evaluations(report)
    assert [(e.name.value, e.value.meaning) for e in evaluations] == [("111005", "CAC-DRS A3/N3")]


def test_a_technique_limitation_is_stated_with_its_sentence(
    written_ct: WrittenCT, tmp_path: Path
) -> None:
    """A PACS reader of the SR must learn why small nodules may be missed, not only that
    there is a "Technique limitation"."""
    sentence = "Slices 5.0 mm apart, thicker than the 2.5 mm Lung-RADS assumes"
    limit = Finding(
        codes.TECHNIQUE_LIMITATION, "vesalius.chest-ct.nodules", "0.1.0",
        _source(written_ct), description=sentence,
    )  # fmt: skip
    data = _report_bytes(written_ct, [*_findings(written_ct), StoredFinding(15, limit)])
    report = read_report(data)
    evaluations = read_qualitative_evaluations(report)
    assert ("121071", "Technique limitation") in [
        (e.name.value, e.value.meaning) for e in evaluations
    ]
    [texts] = [
        [i for i in c.ContentSequence if i.ValueType == "TEXT"]
        for c in report[0].ContentSequence
        if c.ConceptNameCodeSequence[0].CodeMeaning == "Qualitative Evaluations"
    ]
    assert [(t.ConceptNameCodeSequence[0].CodeMeaning, t.TextValue) for t in texts] == [
        ("Technique limitation", sentence)
    ]
    needs_dciodvfy()
    (tmp_path / "sr.dcm").write_bytes(data)
    assert dciodvfy_errors(tmp_path / "sr.dcm") == []


def test_every_group_of_imaging_measurements_has_coordinates(written_ct: WrittenCT) -> None:
    """A group without coordinates: OHIF fails to load the SR, no measurement is shown."""
    assert _unplaceable_groups(_report_bytes(written_ct)) == []


def test_lung_volume_cites_its_seg_segment(written_ct: WrittenCT) -> None:
    """A finding not linked to its segment: the viewer cannot show what was measured."""
    seg = _seg(written_ct)
    report = read_report(_report_bytes(written_ct))
    assert report.get_volumetric_roi_measurement_groups() == []
    lung = [m for m in read_derived_measurements(report) if m.name.meaning == "Volume"]
    assert [_cited_segments(m) for m in lung] == [[(seg.sop_instance_uid, 1)]]
    (site,) = lung[0].finding_sites
    assert site.laterality.meaning == "Left"


def test_a_segmented_finding_with_a_place_has_both_groups_one_tracking_uid(
    written_ct: WrittenCT,
) -> None:
    """A nodule shown twice in a viewer, or its values written twice, or not tied to its SEG."""
    seg = _seg(written_ct)
    findings = _findings(written_ct)
    findings[0] = StoredFinding(11, replace(findings[3].finding))  # the nodule, segment 1
    report = read_report(_report_bytes(written_ct, findings[:1]))
    [planar] = report.get_planar_roi_measurement_groups()
    [volumetric] = report.get_volumetric_roi_measurement_groups()
    assert planar.tracking_uid == volumetric.tracking_uid
    assert _identifier(planar) == _identifier(volumetric)
    assert volumetric.referenced_segment.referenced_sop_instance_uid == seg.sop_instance_uid
    assert volumetric.get_measurements() == []
    assert _values(planar.get_measurements()) == _wrote(findings[0].finding)
    assert read_derived_measurements(report) == []


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


def _with_axes(ct: WrittenCT, k: float) -> list[StoredFinding]:
    """The test nodule with axial axes on (fractional) slice ``k`` of ``ct``."""
    lps = ct.volume.index_to_lps(np.array([[k, 10, 8], [k, 12, 20], [k, 8, 14], [k, 14, 14]]))
    ends = [tuple(float(v) for v in p) for p in lps]
    axes = AxisEnds((ends[0], ends[1]), (ends[2], ends[3]))  # type: ignore[arg-type]
    nodule = _findings(ct)[3]
    assert nodule.finding.location is not None
    location = replace(nodule.finding.location, axial_axes=axes)
    return [StoredFinding(14, replace(nodule.finding, location=location))]


def _axis_lines(group: hd.sr.MeasurementsAndQualitativeEvaluations) -> dict[str, tuple[Any, str]]:
    """Each axis measurement's line: (column, row) end points and the image they are on."""
    lines = {}
    for measurement in group.get_measurements():
        for line in measurement.referenced_coordinates or []:
            assert line.graphic_type == hd.sr.GraphicTypeValues.POLYLINE
            image = line.ContentSequence[0].ReferencedSOPSequence[0].ReferencedSOPInstanceUID
            lines[measurement.name.meaning] = (line.value, str(image))
    return lines


def test_a_nodule_s_axes_are_both_drawn_on_the_axial_slice_through_it(
    written_ct: WrittenCT,
) -> None:
    """An axis drawn on another slice or at other pixels than the analysis measured, or the
    short axis not drawn at all (a radiologist draws both: a bidirectional measurement)."""
    [stored] = _with_axes(written_ct, 4.0)
    axial = (Measurement(codes.LONG_AXIS, 12.2, "mm"), Measurement(codes.SHORT_AXIS, 6.0, "mm"))
    measured = replace(stored.finding, measurements=stored.finding.measurements + axial)
    report = read_report(_report_bytes(written_ct, [StoredFinding(stored.id, measured)]))
    assert report.get_planar_roi_measurement_groups() == []
    [group] = report.get_image_measurement_groups()
    lines = _axis_lines(group)
    assert sorted(lines) == ["Long axis", "Short axis"]
    slice_uid = written_ct.headers[4].SOPInstanceUID
    assert [uid for _, uid in lines.values()] == [slice_uid, slice_uid]
    long_axis, short_axis = lines["Long axis"][0], lines["Short axis"][0]
    assert np.allclose(long_axis, [[8.5, 10.5], [20.5, 12.5]], atol=1e-3)  # (column, row)
    assert np.allclose(short_axis, [[14.5, 8.5], [14.5, 14.5]], atol=1e-3)


def test_axes_without_axis_values_draw_the_long_axis_as_the_region(
    written_ct: WrittenCT,
) -> None:
    """A finding with axes but no long or short axis value: a line with no value to label it
    would be lost; its long axis is then the region of a planar group, as before."""
    report = read_report(_report_bytes(written_ct, _with_axes(written_ct, 4.0)))
    [group] = report.get_planar_roi_measurement_groups()
    assert group.roi.graphic_type == hd.sr.GraphicTypeValues.POLYLINE
    assert np.allclose(group.roi.value, [[8.5, 10.5], [20.5, 12.5]], atol=1e-3)


def test_a_line_is_labelled_with_its_own_length_and_a_reformat_value_kept(
    written_ct: WrittenCT, tmp_path: Path
) -> None:
    """A nodule whose Lung-RADS axes are on a coronal reformat: a viewer drawing the axial
    line must not label it with the longer coronal length, and the coronal values (what
    Lung-RADS used) must still be in the report, tied to the nodule."""
    [stored] = _with_axes(written_ct, 4.0)
    location = stored.finding.location
    assert location is not None
    assert location.axial_axes is not None
    method = "ellipsoid fit; coronal plane"
    coronal = (
        Measurement(codes.LONG_AXIS, 17.5, "mm", method=method),
        Measurement(codes.SHORT_AXIS, 9.0, "mm", method=method),
    )
    nodule = StoredFinding(
        stored.id, replace(stored.finding, measurements=stored.finding.measurements + coronal)
    )
    data = _report_bytes(written_ct, [nodule])
    report = read_report(data)
    [group] = report.get_image_measurement_groups()
    drawn = {m.name.meaning: m.value for m in group.get_measurements()}
    long_ends, short_ends = (np.asarray(e) for e in location.axial_axes.to_json().values())
    assert drawn["Long axis"] == pytest.approx(np.linalg.norm(long_ends[1] - long_ends[0]))
    assert drawn["Short axis"] == pytest.approx(np.linalg.norm(short_ends[1] - short_ends[0]))
    assert drawn["Mean diameter"] == 9.5  # not a line: kept as measured
    derived = read_derived_measurements(report)
    assert _values(derived) == [("Long axis", 17.5, "mm"), ("Short axis", 9.0, "mm")]
    tracking = {
        str(item.TextValue)
        for m in derived
        for item in m[0].ContentSequence
        if item.ConceptNameCodeSequence[0].CodeValue == "112039"  # Tracking Identifier
    }
    assert tracking == {_identifier(group)}
    assert {m.method.meaning for m in derived if m.method is not None} == {method}
    needs_dciodvfy()
    path = tmp_path / "sr.dcm"
    path.write_bytes(data)
    assert dciodvfy_errors(path) == []


def test_axes_between_slices_fall_back_to_a_point(written_ct: WrittenCT) -> None:
    """A line drawn on a slice it is not on (axes of a reformat, or a stale geometry)."""
    report = read_report(_report_bytes(written_ct, _with_axes(written_ct, 4.5)))
    [group] = report.get_planar_roi_measurement_groups()
    assert group.roi.graphic_type == hd.sr.GraphicTypeValues3D.POINT


def test_report_is_marked_as_device_output_not_verified(written_ct: WrittenCT) -> None:
    """AI output presented as a person's verified report."""
    data = _report_bytes(written_ct)
    sr = hd.sr.srread(io.BytesIO(data))
    assert (sr.CompletionFlag, sr.VerificationFlag) == ("PARTIAL", "UNVERIFIED")
    report = read_report(data)
    assert report.get_observer_contexts(observer_type=hd.sr.CodedConcept("121007", "DCM", "Device"))
    items = [
        *(item for group in _groups(report) for item in group[0].ContentSequence),  # type: ignore[index]
        *(item for m in read_derived_measurements(report) for item in m[0].ContentSequence),
    ]
    names = {
        item.TextValue
        for item in items
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
    placed = [*report.get_planar_roi_measurement_groups(), *report.get_image_measurement_groups()]
    derived = read_derived_measurements(report)
    read = sorted([*(v for g in placed for v in _values(g.get_measurements())), *_values(derived)])
    assert read == sorted(v for s in stored for v in _wrote(s.finding))
    assert _unplaceable_groups(exported.data) == []
    volumetric = report.get_volumetric_roi_measurement_groups()
    assert all(g.get_measurements() == [] for g in volumetric)  # values once, in the first
    cited = [
        *(
            (g.referenced_segment.referenced_sop_instance_uid, number)
            for g in volumetric
            for number in g.referenced_segment.referenced_segment_numbers
        ),
        *(ref for m in derived for ref in _cited_segments(m)),
    ]
    assert {uid for uid, _ in cited} <= {seg.sop_instance_uid for seg in segs}
    (lungs,) = [seg for seg in segs if any("lung" in i.label.lower() for i in seg.segments)]
    # each lung's volume and %LAA cite its segment
    assert sorted({n for uid, n in cited if uid == lungs.sop_instance_uid}) == [1, 2]


def test_study_sr_draws_each_nodule_s_axes_on_its_axial_slice(
    analysed_chest: AnalysedChest,
) -> None:
    """A nodule's axes drawn on another slice than the one through it, or elsewhere on the
    slice than where the analysis measured them."""
    chest = analysed_chest
    exported = export_sr(chest.store, chest.blobs, chest.study_uid)
    report = read_report(exported.data)
    nodules = [
        s.finding
        for s in stored_findings(chest.store, chest.study_uid)
        if s.finding.location is not None and s.finding.location.axial_axes is not None
    ]
    assert nodules, "the phantom's nodules should be found and carry their axes"
    lines = {g.tracking_identifier: _axis_lines(g) for g in report.get_image_measurement_groups()}
    assert len(lines) == len(nodules)
    headers = {
        str(ds.SOPInstanceUID): ds
        for ds in (pydicom.dcmread(f, stop_before_pixels=True) for f in _ct_files(chest))
    }
    for finding in nodules:
        assert finding.location is not None
        assert finding.location.axial_axes is not None
        assert finding.location.voxel_kji is not None
        axes = finding.location.axial_axes
        drawn = lines[finding.description[:64].rstrip()]
        assert sorted(drawn) == ["Long axis", "Short axis"]
        for name, ends in (("Long axis", axes.long_axis), ("Short axis", axes.short_axis)):
            xy, uid = drawn[name]
            k = finding.source.sop_instance_uids.index(uid)
            assert abs(k - finding.location.voxel_kji[0]) <= 1  # the slice through the nodule
            ds = headers[uid]
            to_lps = hd.spatial.ImageToReferenceTransformer(
                image_position=ds.ImagePositionPatient,
                image_orientation=ds.ImageOrientationPatient,
                pixel_spacing=ds.PixelSpacing,
            )
            assert to_lps(np.asarray(xy)) == pytest.approx(np.asarray(ends), abs=0.01)


def _ct_files(chest: AnalysedChest) -> list[Path]:
    """The stored files of the study's CT series."""
    with chest.store.read_session() as session:
        instances = list_instances(session, chest.study_uid, series_uid=chest.series_uid)
        return [chest.blobs.locate(i.blob_path) for i in instances]


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
