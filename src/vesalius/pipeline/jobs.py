"""Pipeline jobs: enqueue one job per routed (series, app), run them, keep their findings.

:func:`enqueue_routed` routes each series and enqueues a job of kind ``app`` with the
idempotency key ``f"{app}:{series_uid}"``, so enqueuing the same series again refers to the
same job. :func:`run_jobs` claims the queued jobs of the known apps, reads each series (from
the blob store, or from the file paths the job names), runs the app on an executor, and in
one transaction saves the findings and marks the job done: a done job is never run again and
its findings are never saved twice. The label maps an app returns
(:class:`~vesalius.pipeline.apps.AppResult`) are compressed in the worker and kept in the same
transaction: the blob in the blob store, a ``segmentations`` row naming the finding rows
each segment belongs to. A transient failure (``OSError``, ``StoreError``) puts
the job back in the queue until it has used its attempts; any other failure is final. Either
way the job keeps the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from itertools import chain

from sqlalchemy import select
from sqlalchemy.orm import Session

from vesalius.core import SeriesRef
from vesalius.errors import InputError, StoreError
from vesalius.findings.model import Finding
from vesalius.findings.persist import to_record
from vesalius.io.scan import SeriesFiles
from vesalius.pipeline.apps import App, Apps, LabelMapOutput, SegmentOutput, as_result
from vesalius.pipeline.executors import Executor
from vesalius.pipeline.routing import DEFAULT_RULES, RoutingRule, route
from vesalius.store import BlobStore, JobState, Store
from vesalius.store.findings import add_finding
from vesalius.store.index import list_instances
from vesalius.store.jobs import JobSpec, claim_next, complete, enqueue, fail
from vesalius.store.models import Job, Series
from vesalius.store.segmentations import (
    LABEL_MAP_SUFFIX,
    LabelMapRecord,
    add_segmentation,
    encode_label_map,
)

log = logging.getLogger(__name__)

TRANSIENT: tuple[type[Exception], ...] = (OSError, StoreError)
"""Failures worth another attempt: the disk or the store, not the data."""


@dataclass(frozen=True)
class RoutedJob:
    """A job :func:`enqueue_routed` refers to, and whether that call created it."""

    app: str
    study_uid: str
    series_uid: str
    job_id: int
    created: bool


def idempotency_key(app: str, series_uid: str) -> str:
    """The key that makes one job per (app, series).

    Examples
    --------
    >>> idempotency_key("chest-ct", "1.2.3")
    'chest-ct:1.2.3'
    """
    return f"{app}:{series_uid}"


def _spec(app: str, series: SeriesFiles, *, keep_paths: bool, max_attempts: int) -> JobSpec:
    params: dict[str, object] = {"app": app, "series_uid": series.series_uid}
    params["study_uid"] = series.study_uid
    if keep_paths:
        params["paths"] = [header.path for header in series.instances]
    return JobSpec(
        app,
        idempotency_key=idempotency_key(app, series.series_uid),
        params=params,
        max_attempts=max_attempts,
        study_uid=series.study_uid,
        series_uid=series.series_uid,
    )


def enqueue_routed(
    store: Store,
    series: Iterable[SeriesFiles],
    *,
    rules: Sequence[RoutingRule] = DEFAULT_RULES,
    keep_paths: bool = False,
    max_attempts: int = 3,
) -> tuple[RoutedJob, ...]:
    """Route each series and enqueue one job per app it goes to.

    The series' study and series must be indexed. With ``keep_paths`` the job reads the
    series from its files' paths; otherwise from the blob store.

    Raises
    ------
    StoreError
        When a series is not indexed.
    """
    routed: list[RoutedJob] = []
    with store.session() as session:
        for one in series:
            for app in route(one.first_header, rules):
                spec = _spec(app, one, keep_paths=keep_paths, max_attempts=max_attempts)
                done = enqueue(session, spec)
                routed.append(
                    RoutedJob(app, one.study_uid, one.series_uid, done.job_id, done.created)
                )
    log.info("%d jobs routed, %d new", len(routed), sum(r.created for r in routed))
    return tuple(routed)


@dataclass(frozen=True)
class AppTask:
    """One claimed job, ready to run anywhere: the app and the files of its series."""

    job_id: int
    app_name: str
    app: App
    source: SeriesRef
    paths: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class EncodedLabelMap:
    """A label map ready to keep: its blob bytes, algorithm and segments."""

    data: bytes
    algorithm_name: str
    algorithm_version: str
    segments: tuple[SegmentOutput, ...]

    @classmethod
    def of(cls, output: LabelMapOutput) -> EncodedLabelMap:
        """Compress an app's label map (done in the worker: bytes travel light)."""
        return cls(
            encode_label_map(output.volume),
            output.algorithm_name,
            output.algorithm_version,
            output.segments,
        )


@dataclass(frozen=True)
class JobOutcome:
    """What running a task gave: findings and label maps, or why it failed and whether to retry."""

    job_id: int
    app_name: str
    source: SeriesRef
    findings: tuple[Finding, ...] = ()
    error: str | None = None
    transient: bool = False
    label_maps: tuple[EncodedLabelMap, ...] = ()


def run_task(task: AppTask) -> JobOutcome:
    """Read the task's series and run its app; failures become a :class:`JobOutcome`."""
    from vesalius.io.dicom_read import read_series
    from vesalius.io.scan import scan_dicom

    try:
        series = scan_dicom(list(task.paths)).get(task.source.series_uid)
        volume = read_series(series).volume
        result = as_result(task.app(volume, volume.source or task.source))
        label_maps = tuple(EncodedLabelMap.of(m) for m in result.label_maps)
    except TRANSIENT as err:
        return JobOutcome(task.job_id, task.app_name, task.source, error=str(err), transient=True)
    except InputError as err:
        return JobOutcome(task.job_id, task.app_name, task.source, error=str(err))
    except Exception as err:  # an app's bug fails its job, not the whole batch
        log.exception("app %s crashed on job %d", task.app_name, task.job_id)
        reason = f"{type(err).__name__}: {err}"
        return JobOutcome(task.job_id, task.app_name, task.source, error=reason)
    return JobOutcome(
        task.job_id,
        task.app_name,
        task.source,
        findings=result.findings,
        label_maps=label_maps,
    )


def _paths(session: Session, job: Job, blobs: BlobStore | None) -> tuple[str, ...]:
    listed = job.params.get("paths")
    if isinstance(listed, list) and listed:
        return tuple(str(p) for p in listed)
    if blobs is None:
        raise StoreError(f"job {job.id} names no files and no blob store was given")
    source = _source(job)
    series_uid = source.series_uid
    instances = list_instances(session, source.study_uid, series_uid=series_uid)
    if not instances:
        raise StoreError(f"job {job.id}: series {series_uid} has no stored instances")
    return tuple(str(blobs.locate(i.blob_path)) for i in instances)


def _source(job: Job) -> SeriesRef:
    study_uid, series_uid = job.params.get("study_uid"), job.params.get("series_uid")
    if not isinstance(study_uid, str) or not isinstance(series_uid, str):
        raise StoreError(f"job {job.id} names no study and series UID in its params")
    return SeriesRef(study_uid, series_uid)


def _claim(
    store: Store, apps: Apps, blobs: BlobStore | None, worker: str
) -> tuple[list[AppTask], list[JobOutcome]]:
    """Claim every queued job of ``apps``; those whose series cannot be found fail now."""
    tasks: list[AppTask] = []
    unreadable: list[JobOutcome] = []
    with store.session() as session:
        while (job := claim_next(session, worker=worker, kinds=sorted(apps))) is not None:
            try:
                source = _source(job)
                paths = _paths(session, job, blobs)
            except StoreError as err:
                unreadable.append(JobOutcome(job.id, job.kind, SeriesRef("", ""), error=str(err)))
                continue
            tasks.append(AppTask(job.id, job.kind, apps[job.kind], source, paths))
        for outcome in unreadable:
            fail(session, outcome.job_id, outcome.error or "", retry=False)
    return tasks, unreadable


@dataclass(frozen=True)
class RunSummary:
    """What :func:`run_jobs` did: jobs done, failed for good, and retries along the way."""

    done: int
    failed: int
    retried: int


def _save_findings(session: Session, findings: Sequence[Finding]) -> list[int]:
    """Add the findings; their row ids, in order (a finding of an unindexed series is filed
    under its study only, as :func:`~vesalius.findings.persist.save_findings` does)."""
    ids = []
    for finding in findings:
        series_uid = finding.source.series_uid
        indexed = session.scalar(select(Series.id).where(Series.series_uid == series_uid))
        ids.append(add_finding(session, to_record(finding, series_indexed=indexed is not None)).id)
    return ids


def _save_label_maps(
    session: Session, outcome: JobOutcome, finding_ids: Sequence[int], blobs: BlobStore | None
) -> None:
    if not outcome.label_maps:
        return
    if blobs is None:
        log.info("job %d: no blob store given, its label maps are not kept", outcome.job_id)
        return
    for label_map in outcome.label_maps:
        segments = tuple(
            replace(s.info, finding_ids=tuple(finding_ids[n] for n in s.finding_indices))
            for s in label_map.segments
        )
        record = LabelMapRecord(
            outcome.source.study_uid,
            outcome.source.series_uid,
            label_map.algorithm_name,
            label_map.algorithm_version,
            segments,
        )
        blob = blobs.put(label_map.data, suffix=LABEL_MAP_SUFFIX)
        add_segmentation(session, record, blob.path)


def _record(store: Store, outcome: JobOutcome, blobs: BlobStore | None = None) -> JobState:
    if outcome.error is None:
        try:
            with store.session() as session:
                ids = _save_findings(session, outcome.findings)
                _save_label_maps(session, outcome, ids, blobs)
                complete(session, outcome.job_id)
            return JobState.DONE
        except StoreError as err:
            outcome = JobOutcome(
                outcome.job_id, outcome.app_name, outcome.source, error=str(err), transient=True
            )
    reason = outcome.error or "unknown failure"
    try:
        with store.session() as session:
            return fail(session, outcome.job_id, reason, retry=outcome.transient).state
    except StoreError as err:  # the job was finished or taken back by someone else
        log.warning("job %d: outcome not recorded: %s", outcome.job_id, err)
        with store.read_session() as session:
            return session.get_one(Job, outcome.job_id).state


def requeue_abandoned(store: Store, *, worker: str, kinds: Iterable[str]) -> int:
    """Give back the jobs ``worker`` left running (its run was interrupted); how many.

    Jobs with attempts left go back to the queue, the others fail. Only call this when no
    other process runs under the name ``worker``.
    """
    with store.session() as session:
        jobs = session.scalars(
            select(Job).where(
                Job.state == JobState.RUNNING, Job.worker == worker, Job.kind.in_(list(kinds))
            )
        ).all()
        for job in jobs:
            job.reason = f"the run of {worker} was interrupted"
            job.state = JobState.QUEUED if job.attempts < job.max_attempts else JobState.FAILED
    if jobs:
        log.warning("%d jobs left running by %s given back", len(jobs), worker)
    return len(jobs)


def run_jobs(
    store: Store,
    *,
    apps: Apps,
    executor: Executor,
    blobs: BlobStore | None = None,
    worker: str = "vesalius-pipeline",
    on_outcome: Callable[[JobOutcome, JobState], None] | None = None,
) -> RunSummary:
    """Run every queued job whose kind is one of ``apps`` until none is left.

    Jobs are claimed in rounds: each round claims all queued jobs, runs them on
    ``executor`` and records each outcome as it comes; jobs put back in the queue after a
    transient failure run in the next round. ``on_outcome`` is called with each outcome and
    the state it left the job in (``done``, ``queued`` for a retry, ``failed``).
    """
    done = failed = retried = 0
    while True:
        tasks, unreadable = _claim(store, apps, blobs, worker)
        if not tasks and not unreadable:
            break
        recorded = ((o, JobState.FAILED) for o in unreadable)
        ran = ((o, _record(store, o, blobs)) for o in executor.map(run_task, tasks))
        for outcome, state in chain(recorded, ran):
            done += state is JobState.DONE
            failed += state is JobState.FAILED
            retried += state is JobState.QUEUED
            if on_outcome is not None:
                on_outcome(outcome, state)
    log.info("pipeline run: %d done, %d failed, %d retried", done, failed, retried)
    return RunSummary(done, failed, retried)
