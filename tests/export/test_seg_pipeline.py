"""Label maps kept by the pipeline and exported as DICOM SEG from the store.

What a user would see go wrong: a study analysed by ``vesalius serve`` or ``batch`` whose
segmentations are lost (only numbers left), a SEG that does not match what was measured, a
segment not tied to its finding, or a re-export that gives a second, different object.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.sr.codedict import codes as dicom_codes

from tests.export.conftest import AnalysedChest, dciodvfy_errors, needs_dciodvfy
from vesalius.analyze.chest_ct import AIRWAY, LEFT, RIGHT, segment_lungs
from vesalius.core import ProvenanceStep, SeriesRef, Volume
from vesalius.export.seg import SegExport, export_segs, sources_on_grid
from vesalius.export.seg_study import source_headers
from vesalius.findings import codes
from vesalius.findings.model import CodedConcept, Finding, Location, Measurement
from vesalius.ingest.folder import import_files
from vesalius.io.scan import SeriesFiles, scan_dicom
from vesalius.pipeline.apps import (
    ANATOMY,
    LUNG,
    SEGMENT_CODES,
    AppResult,
    LabelMapOutput,
    SegmentOutput,
    calcium_label_map,
    nodule_label_map,
)
from vesalius.pipeline.executors import InlineExecutor
from vesalius.pipeline.jobs import enqueue_routed, run_jobs
from vesalius.pipeline.routing import RoutingRule
from vesalius.store import BlobStore, Store, open_store, sqlite_url
from vesalius.store.findings import Code, findings_of_study
from vesalius.store.models import Job
from vesalius.store.segmentations import (
    SegmentInfo,
    load_label_map,
    segment_infos,
    segmentations_of_study,
)


def _lung_seg(segs: list[SegExport], segmentation_id: int) -> SegExport:
    (seg,) = [s for s in segs if s.segmentation_id == segmentation_id]
    return seg


def test_pipeline_keeps_the_lung_label_map_with_its_findings(analysed_chest: AnalysedChest) -> None:
    """The lung segmentation of an analysed study missing, altered, or not tied to its findings."""
    chest = analysed_chest
    assert chest.done == 1
    with chest.store.read_session() as session:
        rows = segmentations_of_study(session, chest.study_uid)
        (row,) = [r for r in rows if r.algorithm_name == "vesalius.chest-ct.lungs"]
        finding_rows = {f.id: f for f in findings_of_study(session, chest.study_uid)}
    assert (row.series_uid, row.algorithm_name) == (chest.series_uid, "vesalius.chest-ct.lungs")
    stored = load_label_map(chest.blobs, row)
    expected = segment_lungs(chest.ct.volume).label_map
    assert np.array_equal(stored.array, expected.array)
    assert np.allclose(stored.affine, expected.affine, atol=1e-3)
    segments = {s.label_value: s for s in segment_infos(row)}
    assert sorted(segments) == [LEFT, RIGHT, AIRWAY]
    for value, side in ((LEFT, "left"), (RIGHT, "right")):
        (finding_id,) = segments[value].finding_ids
        payload = finding_rows[finding_id].payload
        assert payload["location"]["laterality"] == side
        assert segments[value].type_modifier is not None
        assert segments[value].type_modifier.meaning.lower() == side
    assert segments[AIRWAY].finding_ids == ()


def test_exported_seg_decodes_to_the_kept_label_map(
    analysed_chest: AnalysedChest, tmp_path: Path
) -> None:
    """A SEG from the store that does not overlay what the analysis measured."""
    chest = analysed_chest
    with chest.store.read_session() as session:
        rows = segmentations_of_study(session, chest.study_uid)
        (row,) = [r for r in rows if r.algorithm_name == "vesalius.chest-ct.lungs"]
    seg = _lung_seg(export_segs(chest.store, chest.blobs, chest.study_uid), row.id)
    labels = np.asarray(load_label_map(chest.blobs, row).array)
    headers = sources_on_grid(
        source_headers(chest.store, chest.blobs, chest.study_uid, chest.series_uid),
        load_label_map(chest.blobs, row),
    )
    decoded = hd.seg.segread(io.BytesIO(seg.data)).get_pixels_by_source_instance(
        [str(ds.SOPInstanceUID) for ds in headers],
        combine_segments=True,
        assert_missing_frames_are_empty=True,
    )
    numbers = seg.segment_numbers
    expected = np.zeros_like(labels)
    for value, number in numbers.items():
        expected[labels == value] = number
    assert np.array_equal(decoded, expected)
    assert seg.dataset().StudyInstanceUID == chest.study_uid
    again = _lung_seg(export_segs(chest.store, chest.blobs, chest.study_uid), row.id)
    assert again.sop_instance_uid == seg.sop_instance_uid


@needs_dciodvfy
def test_exported_seg_passes_dciodvfy(analysed_chest: AnalysedChest, tmp_path: Path) -> None:
    """The study's SEG rejected by a validating PACS."""
    segs = export_segs(analysed_chest.store, analysed_chest.blobs, analysed_chest.study_uid)
    assert segs
    for n, seg in enumerate(segs):
        path = tmp_path / f"seg{n}.dcm"
        path.write_bytes(seg.data)
        assert dciodvfy_errors(path) == []


def test_a_study_s_segs_are_told_apart_by_what_they_segment(
    analysed_chest: AnalysedChest,
) -> None:
    """A viewer listing two SEGs of one study under the same name: the radiologist cannot
    tell the lungs from the nodules without opening each."""
    segs = export_segs(analysed_chest.store, analysed_chest.blobs, analysed_chest.study_uid)
    names = sorted(str(pydicom.dcmread(io.BytesIO(s.data)).SeriesDescription) for s in segs)
    assert len(segs) >= 2
    assert len(set(names)) == len(names)
    assert "AI segmentation: lungs (not reviewed)" in names


def test_study_without_segmentation_exports_no_seg(analysed_chest: AnalysedChest) -> None:
    """An export failing, or inventing a SEG, for a study nothing was segmented in."""
    assert export_segs(analysed_chest.store, analysed_chest.blobs, "1.2.3.999") == []


def test_calcium_lesions_become_a_label_map_tied_to_their_findings(
    analysed_chest: AnalysedChest,
) -> None:
    """A calcified lesion's SEG segment not pointing at the lesion's finding."""
    from vesalius.analyze.cardiac_ct import score_calcium
    from vesalius.findings.from_cardiac import calcium_findings

    ct = analysed_chest.ct.volume
    score = score_calcium(ct)
    findings = calcium_findings(score, source=SeriesRef("1.2.3", "1.2.3.4"))
    out = calcium_label_map(score, ct, findings)
    labels = np.asarray(out.volume.array)
    assert len(out.segments) == len(score.lesions) > 0
    for lesion, segment in zip(score.lesions, out.segments, strict=True):
        k, j, i = lesion.voxels_kji.T
        assert segment.info.label_value == lesion.id
        assert np.all(labels[k, j, i] == lesion.id)
        (index,) = segment.finding_indices
        assert findings[index].description.startswith(f"Calcified lesion {lesion.id},")
    assert int((labels > 0).sum()) == sum(len(lesion.voxels_kji) for lesion in score.lesions)


KEYWORDS = (
    "AnatomicalStructure",
    "MorphologicallyAbnormalStructure",
    "Lung",
    "AirwayStructure",
    "Nodule",
    "CalcifiedAtheromatousPlaque",
    "Left",
    "Right",
)


@pytest.mark.parametrize(("code", "keyword"), list(zip(SEGMENT_CODES, KEYWORDS, strict=True)))
def test_segment_codes_are_real_snomed_codes(code: Code, keyword: str) -> None:
    """A viewer or PACS showing an unknown or misspelt anatomy code."""
    known = getattr(dicom_codes.SCT, keyword)
    assert (code.scheme, code.value) == (known.scheme_designator, known.value)
    assert code.meaning.lower() == known.meaning.lower()


def test_empty_label_map_is_not_kept(analysed_chest: AnalysedChest) -> None:
    """An all-zero label map kept and then failing every export of the study."""
    from vesalius.pipeline.apps import chest_ct_label_maps

    class Run:
        findings = ()
        lungs = segment_lungs(analysed_chest.ct.volume)

    empty = Run.lungs.label_map.with_array(
        np.zeros(analysed_chest.ct.volume.shape, np.uint8), Run.lungs.label_map.provenance[-1]
    )
    object.__setattr__(Run.lungs, "label_map", empty)
    assert chest_ct_label_maps(Run(), analysed_chest.ct.volume) == ()


def _fake_app_result(volume: Volume, source: SeriesRef, *, index: int) -> AppResult:
    finding = Finding(codes.LUNG, "fake", "1", source, (Measurement(codes.VOLUME, 1.0, "mL"),))
    labels = np.zeros(volume.shape, np.uint8)
    labels[0, :2, :2] = 1
    segment = SegmentOutput(SegmentInfo(1, "Lung", ANATOMY, LUNG), finding_indices=(index,))
    step = ProvenanceStep("FakeLabels", {})
    return AppResult(
        (finding,), (LabelMapOutput(volume.with_array(labels, step), "fake", "1", (segment,)),)
    )


@pytest.fixture
def stored_ct(tmp_path: Path) -> Iterator[tuple[Store, BlobStore, SeriesFiles]]:
    store = open_store(sqlite_url(tmp_path / "index.sqlite3"))
    blobs = BlobStore(tmp_path / "blobs")
    files = [Path(str(get_testdata_file("CT_small.dcm")))]
    import_files(files, store=store, blobs=blobs)
    yield store, blobs, scan_dicom(files).series[0]
    store.close()


def test_label_maps_of_any_app_are_kept_with_their_finding_rows(
    stored_ct: tuple[Store, BlobStore, SeriesFiles],
) -> None:
    """An app's segmentation lost, or tied to another finding row than its own."""
    store, blobs, series = stored_ct
    rules = (RoutingRule("fake", modality="CT"),)
    enqueue_routed(store, [series], rules=rules)
    app = partial(_fake_app_result, index=0)
    summary = run_jobs(store, apps={"fake": app}, executor=InlineExecutor(), blobs=blobs)
    assert summary.done == 1
    with store.read_session() as session:
        (row,) = segmentations_of_study(session, series.study_uid)
        (finding,) = findings_of_study(session, series.study_uid)
    assert segment_infos(row)[0].finding_ids == (finding.id,)
    assert int(np.asarray(load_label_map(blobs, row).array).sum()) == 4


def test_app_naming_a_missing_finding_fails_its_job_with_a_reason(
    stored_ct: tuple[Store, BlobStore, SeriesFiles],
) -> None:
    """A buggy app stopping the whole batch, or its job failing without saying why."""
    store, blobs, series = stored_ct
    (routed,) = enqueue_routed(store, [series], rules=(RoutingRule("fake", modality="CT"),))
    app = partial(_fake_app_result, index=3)
    summary = run_jobs(store, apps={"fake": app}, executor=InlineExecutor(), blobs=blobs)
    assert (summary.done, summary.failed) == (0, 1)
    with store.read_session() as session:
        reason = session.get_one(Job, routed.job_id).reason
        assert segmentations_of_study(session, series.study_uid) == []
    assert reason is not None
    assert "names findings (3,)" in reason


@dataclass(frozen=True)
class _Nodule:
    id: int
    centre_lps_mm: tuple[float, float, float]


@dataclass(frozen=True)
class _NoduleResult:
    nodules: tuple[_Nodule, ...]
    label_map: Volume


def test_nodule_label_map_ties_each_nodule_to_the_finding_at_its_centre() -> None:
    """Nodule 2's SEG segment pointing at nodule 1's measurements."""
    labels = np.zeros((4, 6, 6), np.uint16)
    labels[1, 1, 1], labels[2, 4, 4] = 1, 2
    volume = Volume.from_spacing(labels, spacing=(2.0, 1.0, 1.0))
    centres = [
        tuple(float(v) for v in volume.index_to_lps([kji])[0]) for kji in ((1, 1, 1), (2, 4, 4))
    ]
    result = _NoduleResult((_Nodule(1, centres[0]), _Nodule(2, centres[1])), volume)  # type: ignore[arg-type]
    source = SeriesRef("1.2.3", "1.2.3.4")
    findings = [
        Finding(
            CodedConcept("27925004", "SCT", "Nodule"), "n", "1", source,
            location=Location(codes.LUNG, point_lps_mm=centre),  # type: ignore[arg-type]
        )
        for centre in reversed(centres)
    ]  # fmt: skip
    out = nodule_label_map(result, findings)
    assert out is not None
    assert [(s.info.label_value, s.finding_indices) for s in out.segments] == [(1, (1,)), (2, (0,))]
    assert out.volume.array.dtype == np.uint16
