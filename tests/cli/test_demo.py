"""``vesalius demo --headless``: what a new user sees after the first quick-start line.

The demo starts the real server in a child process and sends the studies through its DICOM
listener; what would go wrong for the user: a study not arriving, the chest CT not analysed
before the summary is printed, a second run storing everything again, or a traceback.
"""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from vesalius.cli.main import app
from vesalius.cli.shared_data import find_shared
from vesalius.findings.persist import load_findings
from vesalius.store import StudyQuery, list_studies, open_store, sqlite_url


def test_demo_ingests_the_phantoms_and_reads_every_series_back(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(app, ["demo", "--headless", "--out", str(out)])
    assert result.exit_code == 0, result.output
    expected = 3 + (find_shared("lung_ct_pat1", "dicom") is not None)
    assert f"{expected} studies in the index" in result.output
    assert "served http://127.0.0.1:" in result.output
    assert "created the administrator account 'admin' with password: " in result.output
    worklist = result.output[result.output.index("Worklist, most urgent first") :]
    assert "critical" in worklist or "urgent" in worklist
    assert "draft" in worklist
    store = open_store(sqlite_url(out / "store" / "index.sqlite3"))
    try:
        with store.read_session() as session:
            page = list_studies(session, StudyQuery())
            chest = next(s for s in page.items if s.patient_id.startswith("VSIM-chest-ct"))
            findings = load_findings(session, chest.study_uid)
    finally:
        store.close()
    modalities = sorted(m for s in page.items for m in s.modalities)
    assert {"CT", "MR", "PT"} <= set(modalities)
    assert (out / "phantoms" / "chest-ct" / "ground_truth.json").is_file()
    kinds = {f.finding_type.meaning for f in findings}
    assert {"Coronary artery calcification", "Lung"} <= kinds
    assert all(f.ai_generated and f.algorithm_version for f in findings)


def _counts(out: Path) -> tuple[int, int]:
    store = open_store(sqlite_url(out / "store" / "index.sqlite3"))
    try:
        with store.read_session() as session:
            page = list_studies(session, StudyQuery())
            instances = sum(s.n_instances for s in page.items)
            findings = sum(len(load_findings(session, s.study_uid)) for s in page.items)
    finally:
        store.close()
    return instances, findings


def test_running_the_demo_twice_stores_nothing_twice(tmp_path: Path) -> None:
    """The quick start is idempotent: a second run stores no instance or finding twice."""
    out = tmp_path / "demo"
    runner = CliRunner()
    first = runner.invoke(app, ["demo", "--headless", "--out", str(out)])
    assert first.exit_code == 0, first.output
    after_first = _counts(out)
    second = runner.invoke(app, ["demo", "--headless", "--out", str(out)])
    assert second.exit_code == 0, second.output
    assert _counts(out) == after_first
    assert after_first[1] > 0


def test_demo_into_a_file_is_a_user_error(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    result = CliRunner().invoke(app, ["demo", "--headless", "--out", str(target)])
    assert result.exit_code == 2
    assert "not a folder" in result.output
