"""``vesalius batch`` on a folder with two chest CT phantoms and a brain MR phantom.

What a user would see go wrong: a chest CT left unanalysed or its findings not in the store,
the brain MR sent to the chest app, a second run analysing everything again or doubling the
findings, a disk failure failing a job without retries or without its reason, or a
traceback instead of a one-line error for a bad folder, worker count or rules file.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from vesalius.cli.batch import batch
from vesalius.cli.main import user_errors_exit_2
from vesalius.core import SeriesRef, Volume
from vesalius.findings.model import Finding
from vesalius.findings.persist import load_findings
from vesalius.pipeline import apps as pipeline_apps
from vesalius.pipeline.apps import App
from vesalius.simulate.brain_mr import BrainMRSpec, brain_mr, write_brain_mr
from vesalius.simulate.chest_ct import ChestCTSpec, chest_ct, write_chest_ct
from vesalius.store import JobState, open_store, sqlite_url
from vesalius.store.models import Job

SPEC = ChestCTSpec(shape=(60, 176, 176), noise_hu=0.0)


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command()(user_errors_exit_2(batch))
    return app


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("incoming")
    for seed in (3, 4):
        write_chest_ct(chest_ct(SPEC, seed=seed), root / f"chest{seed}")
    write_brain_mr(brain_mr(BrainMRSpec(shape=(12, 32, 32)), seed=1), root / "brain")
    return root


def _jobs(data: Path) -> list[Job]:
    store = open_store(sqlite_url(data / "index.sqlite3"))
    try:
        with store.read_session() as session:
            return list(session.query(Job).order_by(Job.id))
    finally:
        store.close()


def _findings(data: Path, study_uid: str) -> list[Finding]:
    store = open_store(sqlite_url(data / "index.sqlite3"))
    try:
        with store.read_session() as session:
            return load_findings(session, study_uid)
    finally:
        store.close()


def test_two_chest_cts_analysed_mr_not_routed_and_second_run_does_nothing(
    folder: Path, tmp_path: Path
) -> None:
    """Chest CTs without findings, the MR analysed as chest, or a re-run repeating work."""
    data = tmp_path / "data"
    first = CliRunner().invoke(_app(), [str(folder), "--out", str(data), "--workers", "2"])
    assert first.exit_code == 0, first.output
    assert "2 jobs routed (2 new); 1 not routed" in first.output
    assert "not routed: MR" in first.output
    jobs = _jobs(data)
    assert [(j.kind, j.state, j.attempts) for j in jobs] == [("chest-ct", JobState.DONE, 1)] * 2
    counts = []
    for job in jobs:
        findings = _findings(data, str(job.params["study_uid"]))
        assert {f.finding_type.meaning for f in findings} >= {"Lung"}
        assert all(f.source.series_uid == job.params["series_uid"] for f in findings)
        counts.append(len(findings))

    second = CliRunner().invoke(_app(), [str(folder), "--out", str(data)])
    assert second.exit_code == 0, second.output
    assert "imported 0 new files" in second.output
    assert "2 jobs routed (0 new)" in second.output
    assert "ran: 0 done, 0 failed, 0 retried" in second.output
    assert [j.attempts for j in _jobs(data)] == [1, 1]
    assert [len(_findings(data, str(j.params["study_uid"]))) for j in jobs] == counts


def _disk_full(volume: Volume, source: SeriesRef) -> tuple[Finding, ...]:
    raise OSError(28, "No space left on device")


@pytest.mark.parametrize("pool", [["--workers", "1"], ["--workers", "2", "--processes"]])
def test_transient_app_failure_is_retried_then_failed_with_its_reason(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pool: list[str]
) -> None:
    """A disk failure failing a job without retries, or silently, with exit code 0."""
    failing: dict[str, App] = {"chest-ct": _disk_full}
    monkeypatch.setattr(pipeline_apps, "default_apps", lambda: failing)
    data = tmp_path / "data"
    result = CliRunner().invoke(_app(), [str(folder), "--out", str(data), *pool])
    assert result.exit_code == 1, result.output
    assert "ran: 0 done, 2 failed, 4 retried" in result.output
    assert "reason: [Errno 28] No space left on device" in result.output
    jobs = _jobs(data)
    assert [(j.state, j.attempts) for j in jobs] == [(JobState.FAILED, 3)] * 2
    assert all("No space left on device" in (j.reason or "") for j in jobs)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{missing}"], "no such folder"),
        (["{folder}", "--workers", "0"], "--workers must be at least 1"),
        (["{folder}", "--rules", "{rules}"], "unknown apps ['neuro-mr']"),
        (["{folder}", "--executor", "gpu"], "--executor must be one of threads, processes, dask"),
        (["{folder}", "--scheduler", "tcp://127.0.0.1:1"], "--scheduler goes with --executor"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(
    folder: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    """A traceback, or exit code 0, for a missing folder, zero workers or a bad rules file."""
    rules = tmp_path / "rules.toml"
    rules.write_text('[[routing]]\napp = "neuro-mr"\nmodality = "MR"\n')
    values = {"missing": tmp_path / "nope", "folder": folder, "rules": rules}
    argv = [a.format(**values) for a in args] + ["--out", str(tmp_path / "data")]
    result = CliRunner().invoke(_app(), argv)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_dask_executor_runs_the_cohort_on_a_local_cluster(folder: Path, tmp_path: Path) -> None:
    """``--executor dask`` failing, or leaving a chest CT without its findings."""
    data = tmp_path / "data"
    args = [str(folder), "--out", str(data), "--workers", "2", "--executor", "dask"]
    result = CliRunner().invoke(_app(), args)
    assert result.exit_code == 0, result.output
    jobs = _jobs(data)
    assert [(j.kind, j.state) for j in jobs] == [("chest-ct", JobState.DONE)] * 2
    for job in jobs:
        findings = _findings(data, str(job.params["study_uid"]))
        assert {f.finding_type.meaning for f in findings} >= {"Lung"}


def test_unreachable_dask_scheduler_is_a_one_line_error(folder: Path, tmp_path: Path) -> None:
    """A traceback, or a hang, when the scheduler address is wrong."""
    args = [str(folder), "--out", str(tmp_path / "data"), "--executor", "dask"]
    result = CliRunner().invoke(_app(), [*args, "--scheduler", "tcp://127.0.0.1:9"])
    assert result.exit_code == 2, result.output
    assert "cannot reach the Dask scheduler tcp://127.0.0.1:9" in result.output
