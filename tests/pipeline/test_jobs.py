"""Pipeline jobs: enqueue per routed series, run, save findings, retry, fail with a reason.

What a user would see go wrong: a series analysed twice or its findings listed twice after
a re-run, a disk hiccup failing a job for good, a broken series retried forever, a failed
job without its reason, or a crashing app stopping the whole batch.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pydicom.data import get_testdata_file

from vesalius.core import SeriesRef, Volume
from vesalius.errors import InputError, StoreError
from vesalius.findings import codes
from vesalius.findings.model import Finding, Measurement
from vesalius.findings.persist import load_findings
from vesalius.ingest.folder import import_files
from vesalius.io.scan import SeriesFiles, scan_dicom
from vesalius.pipeline.executors import InlineExecutor, LocalExecutor, ProcessExecutor
from vesalius.pipeline.jobs import JobOutcome, enqueue_routed, requeue_abandoned, run_jobs
from vesalius.pipeline.routing import RoutingRule
from vesalius.store import BlobStore, JobState, Store, open_store, sqlite_url
from vesalius.store.jobs import claim_next, complete
from vesalius.store.models import Job

RULES = (RoutingRule("fake", modality="CT"),)


@dataclass
class FakeApp:
    """Counts its calls; raises ``error`` on the first ``fail_times`` calls."""

    error: Exception | None = None
    fail_times: int = 0
    calls: list[SeriesRef] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, volume: Volume, source: SeriesRef) -> tuple[Finding, ...]:
        with self.lock:
            self.calls.append(source)
            failing = self.error is not None and len(self.calls) <= self.fail_times
        if failing and self.error is not None:
            raise self.error
        mean = float(volume.array.mean())
        return (Finding(codes.LUNG, "fake", "1", source, (Measurement(codes.VOLUME, mean, "mL"),)),)


@dataclass(frozen=True)
class Stored:
    store: Store
    blobs: BlobStore
    series: tuple[SeriesFiles, ...]


@pytest.fixture
def stored(tmp_path: Path) -> Iterator[Stored]:
    store = open_store(sqlite_url(tmp_path / "index.sqlite3"))
    blobs = BlobStore(tmp_path / "blobs")
    files = [Path(str(get_testdata_file(name))) for name in ("CT_small.dcm", "MR_small.dcm")]
    import_files(files, store=store, blobs=blobs)
    yield Stored(store, blobs, scan_dicom(files).series)
    store.close()


def _job(store: Store, job_id: int) -> Job:
    with store.read_session() as session:
        return session.get_one(Job, job_id)


def test_routed_series_get_one_job_each_and_enqueuing_again_adds_none(stored: Stored) -> None:
    """The MR queued for a CT app, or a series queued twice when its study is re-sent."""
    (first,) = enqueue_routed(stored.store, stored.series, rules=RULES)
    (again,) = enqueue_routed(stored.store, stored.series, rules=RULES)
    ct = next(s for s in stored.series if s.modality == "CT")
    assert (first.app, first.series_uid, first.created) == ("fake", ct.series_uid, True)
    assert (again.job_id, again.created) == (first.job_id, False)
    job = _job(stored.store, first.job_id)
    assert (job.kind, job.idempotency_key) == ("fake", f"fake:{ct.series_uid}")


def test_done_job_saves_findings_once_and_is_not_run_again(stored: Stored) -> None:
    """Findings missing from the store, or doubled after running the pipeline again."""
    app = FakeApp()
    (routed,) = enqueue_routed(stored.store, stored.series, rules=RULES)
    seen: list[tuple[JobOutcome, JobState]] = []
    first = run_jobs(
        stored.store,
        apps={"fake": app},
        executor=InlineExecutor(),
        blobs=stored.blobs,
        on_outcome=lambda o, s: seen.append((o, s)),
    )
    enqueue_routed(stored.store, stored.series, rules=RULES)
    second = run_jobs(
        stored.store, apps={"fake": app}, executor=InlineExecutor(), blobs=stored.blobs
    )
    assert (first.done, first.failed, second.done) == (1, 0, 0)
    assert len(app.calls) == 1
    assert seen[0][1] is JobState.DONE
    with stored.store.read_session() as session:
        (finding,) = load_findings(session, routed.study_uid)
    assert finding.source.series_uid == routed.series_uid
    assert finding.measurements[0].value == pytest.approx(
        seen[0][0].findings[0].measurements[0].value
    )
    assert _job(stored.store, routed.job_id).state is JobState.DONE


def test_transient_failure_is_retried_then_fails_with_its_reason(stored: Stored) -> None:
    """A full disk failing a job at once, or a job retried forever without saying why."""
    app = FakeApp(error=OSError(28, "No space left on device"), fail_times=99)
    (routed,) = enqueue_routed(stored.store, stored.series, rules=RULES, max_attempts=3)
    summary = run_jobs(
        stored.store, apps={"fake": app}, executor=InlineExecutor(), blobs=stored.blobs
    )
    job = _job(stored.store, routed.job_id)
    assert (summary.done, summary.failed, summary.retried) == (0, 1, 2)
    assert len(app.calls) == 3
    assert (job.state, job.attempts) == (JobState.FAILED, 3)
    assert job.reason is not None
    assert "No space left on device" in job.reason


def test_transient_failure_that_clears_ends_done(stored: Stored) -> None:
    """A store hiccup on the first try leaving the series without findings."""
    app = FakeApp(error=StoreError("database is locked"), fail_times=1)
    (routed,) = enqueue_routed(stored.store, stored.series, rules=RULES)
    summary = run_jobs(
        stored.store, apps={"fake": app}, executor=InlineExecutor(), blobs=stored.blobs
    )
    assert (summary.done, summary.retried, len(app.calls)) == (1, 1, 2)
    assert _job(stored.store, routed.job_id).state is JobState.DONE


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (InputError(None, "no lung-like air"), "no lung-like air"),
        (ZeroDivisionError("division by zero"), "ZeroDivisionError: division by zero"),
    ],
)
def test_bad_data_or_app_bug_fails_at_once_with_reason(
    stored: Stored, error: Exception, reason: str
) -> None:
    """A series the app refuses retried pointlessly, or an app bug crashing the batch."""
    app = FakeApp(error=error, fail_times=99)
    (routed,) = enqueue_routed(stored.store, stored.series, rules=RULES)
    summary = run_jobs(
        stored.store, apps={"fake": app}, executor=InlineExecutor(), blobs=stored.blobs
    )
    job = _job(stored.store, routed.job_id)
    assert (summary.failed, len(app.calls), job.state, job.reason) == (
        1,
        1,
        JobState.FAILED,
        reason,
    )


def test_job_with_file_paths_runs_on_a_thread_pool_without_a_blob_store(stored: Stored) -> None:
    """Jobs naming their files failing when no blob store is at hand, or the pool hanging."""
    app = FakeApp()
    (routed,) = enqueue_routed(stored.store, stored.series, rules=RULES, keep_paths=True)
    with LocalExecutor(workers=2) as pool:
        summary = run_jobs(stored.store, apps={"fake": app}, executor=pool)
    assert summary.done == 1
    assert [c.series_uid for c in app.calls] == [routed.series_uid]


def test_job_without_files_or_blob_store_fails_with_reason(stored: Stored) -> None:
    """A job that cannot find its series staying 'running' forever."""
    (routed,) = enqueue_routed(stored.store, stored.series, rules=RULES)
    summary = run_jobs(stored.store, apps={"fake": FakeApp()}, executor=InlineExecutor())
    job = _job(stored.store, routed.job_id)
    assert (summary.failed, job.state) == (1, JobState.FAILED)
    assert job.reason is not None
    assert "no blob store" in job.reason


def test_jobs_left_running_by_an_interrupted_run_are_given_back(stored: Stored) -> None:
    """A batch killed mid-run leaving its series 'running' forever, never analysed."""
    (routed,) = enqueue_routed(stored.store, stored.series, rules=RULES)
    with stored.store.session() as session:
        claim_next(session, worker="batch", kinds=["fake"])
    assert requeue_abandoned(stored.store, worker="other", kinds=["fake"]) == 0
    assert requeue_abandoned(stored.store, worker="batch", kinds=["fake"]) == 1
    summary = run_jobs(
        stored.store, apps={"fake": FakeApp()}, executor=InlineExecutor(), blobs=stored.blobs
    )
    job = _job(stored.store, routed.job_id)
    assert (summary.done, job.state, job.attempts) == (1, JobState.DONE, 2)


def test_job_finished_elsewhere_meanwhile_keeps_its_findings_single(stored: Stored) -> None:
    """A job finished by another worker crashing this run or doubling the findings."""
    (routed,) = enqueue_routed(stored.store, stored.series, rules=RULES)

    def finished_elsewhere(volume: Volume, source: SeriesRef) -> tuple[Finding, ...]:
        with stored.store.session() as session:
            complete(session, routed.job_id)
        return FakeApp()(volume, source)

    states: list[JobState] = []
    run_jobs(
        stored.store,
        apps={"fake": finished_elsewhere},
        executor=InlineExecutor(),
        blobs=stored.blobs,
        on_outcome=lambda _o, s: states.append(s),
    )
    with stored.store.read_session() as session:
        assert load_findings(session, routed.study_uid) == []
    assert states == [JobState.DONE]


def _mean_app(volume: Volume, source: SeriesRef) -> tuple[Finding, ...]:
    mean = float(volume.array.mean())
    return (Finding(codes.LUNG, "mean", "1", source, (Measurement(codes.VOLUME, mean, "mL"),)),)


def test_jobs_run_on_a_process_pool_and_save_findings(stored: Stored) -> None:
    """Jobs run in worker processes losing their findings on the way back."""
    rules = (RoutingRule("mean", modality="CT"),)
    (routed,) = enqueue_routed(stored.store, stored.series, rules=rules)
    with ProcessExecutor(workers=1) as pool:
        apps = {"mean": _mean_app}
        summary = run_jobs(stored.store, apps=apps, executor=pool, blobs=stored.blobs)
    assert summary.done == 1
    with stored.store.read_session() as session:
        (finding,) = load_findings(session, routed.study_uid)
    assert finding.algorithm_name == "mean"
