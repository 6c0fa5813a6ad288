"""Analysis results to findings, the skipped analyses, and the store round trip."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import vesalius
from vesalius.analyze.cardiac_ct import score_calcium
from vesalius.analyze.chest_ct import LEFT, LungSegmentation, emphysema_index, segment_lungs
from vesalius.core import SeriesRef, Volume
from vesalius.errors import StoreError
from vesalius.findings import codes
from vesalius.findings.from_cardiac import calcium_findings
from vesalius.findings.from_chest import lung_findings
from vesalius.findings.persist import load_findings, save_findings
from vesalius.findings.run import analyze_ct
from vesalius.simulate.chest_ct import ChestCT, ChestCTSpec, chest_ct
from vesalius.store import open_store, sqlite_url
from vesalius.store.header import PatientInfo, SeriesInfo, StudyInfo
from vesalius.store.index import upsert_patient, upsert_series, upsert_study

SOURCE = SeriesRef("1.2.3", "1.2.3.4", ("1.2.3.4.1",))


@pytest.fixture(scope="module")
def ct() -> ChestCT:
    return chest_ct(ChestCTSpec(shape=(60, 176, 176), noise_hu=5.0), seed=2)


def test_calcium_findings_carry_score_category_and_territories(ct: ChestCT) -> None:
    """A user would see a score, grade or lesion site in the findings that differs from the
    calcium scorer's result."""
    score = score_calcium(ct.volume)
    study, *lesions = calcium_findings(score, source=SOURCE)
    assert study.measurement(codes.CALCIUM_SCORE).value == score.agatston
    assert study.measurement(codes.CALCIUM_SCORE).value == pytest.approx(
        ct.truth.agatston_total_written, rel=0.05
    )
    assert study.measurement(codes.CALCIUM_VOLUME).unit == "mm3"
    assert study.category("CAC-DRS").value == score.cac_drs.label  # type: ignore[union-attr]
    assert len(lesions) == len(score.lesions)
    for finding, lesion in zip(lesions, score.lesions, strict=True):
        assert finding.location is not None
        assert finding.location.site == codes.TERRITORY_SITES[lesion.territory]
        assert finding.location.point_lps_mm == pytest.approx(lesion.centre_lps_mm)
        k, j, i = finding.location.voxel_kji  # type: ignore[misc]
        assert ct.volume.array[k, j, i] >= 130
    assert {f.algorithm_version for f in (study, *lesions)} == {vesalius.__version__}


def test_lung_findings_volumes_and_laa_per_side(ct: ChestCT) -> None:
    """A user would see lung volumes or %LAA-950 swapped between sides or off the truth."""
    seg = segment_lungs(ct.volume)
    laa = emphysema_index(ct.volume, seg)
    left, right = lung_findings(seg, laa, source=SOURCE)
    truth = {lung.side: lung for lung in ct.truth.lungs}
    for finding, side in ((left, "left"), (right, "right")):
        assert finding.location is not None
        assert finding.location.laterality == side
        volume = finding.measurement(codes.VOLUME)
        assert volume.unit == "mL"
        assert volume.value == pytest.approx(truth[side].volume_ml, rel=0.03)
        percent = finding.measurement(codes.LAA_PERCENT)
        assert percent.unit == "%"
        assert percent.value == pytest.approx(truth[side].laa950_percent_noisy, abs=1.0)
    only_volumes = lung_findings(seg, source=SOURCE)
    assert [len(f.measurements) for f in only_volumes] == [1, 1]


def test_a_lung_outside_the_scan_gets_no_zero_volume_finding(ct: ChestCT) -> None:
    """A CT cropped to the right side would otherwise report a "left lung: 0 mL"."""
    seg = segment_lungs(ct.volume)
    labels = seg.label_map.array
    right_only = LungSegmentation.from_label_map(
        replace(seg.label_map, array=np.where(labels == LEFT, 0, labels).astype(labels.dtype)),
        trachea_found=seg.trachea_found,
    )
    found = lung_findings(right_only, emphysema_index(ct.volume, right_only), source=SOURCE)
    assert [f.location.laterality for f in found if f.location] == ["right"]


def test_refused_analyses_are_skipped_with_their_reason() -> None:
    """On a CT without lungs or heart a user would otherwise get a crash, not a report."""
    water = Volume.from_spacing(
        np.zeros((20, 64, 64), np.int16), spacing=(5.0, 2.0, 2.0), modality="CT"
    )
    run = analyze_ct(water, source=SOURCE)
    assert run.findings == ()
    assert run.lungs is None
    assert [s.analysis for s in run.skipped] == ["coronary calcium", "lungs and emphysema"]
    assert all(s.reason for s in run.skipped)


def test_findings_round_trip_through_sqlite(ct: ChestCT, tmp_path: Path) -> None:
    """Findings saved to the index would otherwise come back changed or not at all."""
    seg = segment_lungs(ct.volume)
    findings = [
        *calcium_findings(score_calcium(ct.volume), source=SOURCE),
        *lung_findings(seg, emphysema_index(ct.volume, seg), source=SOURCE),
    ]
    store = open_store(sqlite_url(tmp_path / "index.sqlite3"))
    try:
        with store.session() as s:
            study = upsert_study(s, StudyInfo("1.2.3"), patient=upsert_patient(s, PatientInfo("P")))
            upsert_series(s, SeriesInfo("1.2.3.4", modality="CT"), study=study)
            assert save_findings(s, findings) == len(findings)
        with store.read_session() as s:
            assert load_findings(s, "1.2.3") == findings
            assert load_findings(s, "9.9.9") == []
    finally:
        store.close()


def test_saving_for_an_unknown_study_is_refused(tmp_path: Path) -> None:
    """Findings filed under a study that is not in the index would be orphaned."""
    from vesalius.findings import Finding

    store = open_store(sqlite_url(tmp_path / "index.sqlite3"))
    try:
        with pytest.raises(StoreError, match="unknown study"), store.session() as s:
            save_findings(s, [Finding(codes.LUNG, "alg", "1", SOURCE)])
    finally:
        store.close()
