"""The job queue in the index: enqueue idempotently, claim safely, finish or fail.

Claiming is safe under concurrency: on PostgreSQL a worker locks the next queued row with
``SELECT ... FOR UPDATE SKIP LOCKED`` (other workers skip it rather than wait); on SQLite a
single ``UPDATE ... WHERE state = 'queued'`` statement takes the job, and SQLite runs one
writer at a time. Either way no job is ever handed to two workers.

Examples
--------
>>> import tempfile, pathlib
>>> from vesalius.store import open_store, sqlite_url
>>> store = open_store(sqlite_url(pathlib.Path(tempfile.mkdtemp()) / "i.sqlite3"))
>>> with store.session() as s:
...     first = enqueue(s, JobSpec("analyze", idempotency_key="series-1.2.3"))
...     again = enqueue(s, JobSpec("analyze", idempotency_key="series-1.2.3"))
>>> first.created, again.created, first.job_id == again.job_id
(True, False, True)
>>> with store.session() as s:
...     job = claim_next(s, worker="w1")
>>> job.state, job.attempts
(<JobState.RUNNING: 'running'>, 1)
>>> with store.session() as s:
...     complete(s, job.id).state
<JobState.DONE: 'done'>
>>> store.close()
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from vesalius.errors import InputError, StoreError
from vesalius.store._sql import dialect_name, insert_ignoring_conflict
from vesalius.store.models import Job, Series, Study
from vesalius.store.states import JobState
from vesalius.store.types import utc_now

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobSpec:
    """A job to enqueue.

    Parameters
    ----------
    kind
        What to do (``"analyze"``, ``"export"``...); workers claim by kind.
    idempotency_key
        Enqueuing twice with the same key gives back the first job instead of a new one.
    params
        JSON-ready parameters of the job.
    priority
        Higher runs first; equal priorities run oldest first.
    max_attempts
        How many times the job may run before a failure is final.
    study_uid, series_uid
        The study or series the job is about, if any (must be indexed already).
    """

    kind: str
    idempotency_key: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    priority: int = 0
    max_attempts: int = 3
    study_uid: str | None = None
    series_uid: str | None = None

    def __post_init__(self) -> None:
        if not self.kind:
            raise InputError(None, "a job needs a kind")
        if self.max_attempts < 1:
            raise InputError(None, f"max_attempts must be at least 1, got {self.max_attempts}")


@dataclass(frozen=True)
class Enqueued:
    """The job a call to :func:`enqueue` refers to, and whether that call created it."""

    job_id: int
    created: bool


def _pk_of(session: Session, model: type[Study] | type[Series], uid: str | None) -> int | None:
    if uid is None:
        return None
    column = model.study_uid if model is Study else Series.series_uid
    pk = session.scalar(select(model.id).where(column == uid))
    if pk is None:
        raise StoreError(f"cannot enqueue a job for unknown {model.__tablename__} UID {uid}")
    return pk


def enqueue(session: Session, spec: JobSpec) -> Enqueued:
    """Add a queued job, unless one with the same idempotency key exists already."""
    values = {
        "kind": spec.kind,
        "idempotency_key": spec.idempotency_key,
        "params": dict(spec.params),
        "priority": spec.priority,
        "max_attempts": spec.max_attempts,
        "study_pk": _pk_of(session, Study, spec.study_uid),
        "series_pk": _pk_of(session, Series, spec.series_uid),
        "state": JobState.QUEUED,
    }
    if spec.idempotency_key is None:
        job = Job(**values)
        session.add(job)
        session.flush()
        return Enqueued(job.id, created=True)
    created = insert_ignoring_conflict(session, Job, values, unique=("idempotency_key",))
    job_id = session.scalar(select(Job.id).where(Job.idempotency_key == spec.idempotency_key))
    if job_id is None:  # pragma: no cover - the insert or the conflict guarantees a row
        raise StoreError(f"job with key {spec.idempotency_key!r} vanished")
    return Enqueued(job_id, created=created)


def _next_queued(kinds: Sequence[str] | None) -> Select[int]:
    stmt = select(Job.id).where(Job.state == JobState.QUEUED)
    if kinds:
        stmt = stmt.where(Job.kind.in_(list(kinds)))
    return stmt.order_by(Job.priority.desc(), Job.created_at, Job.id).limit(1)


def claim_next(session: Session, *, worker: str, kinds: Sequence[str] | None = None) -> Job | None:
    """Take the next queued job (of ``kinds``, if given) for ``worker``; ``None`` if none.

    The job becomes ``running`` with one more attempt. Commit the session promptly: on
    PostgreSQL the row stays locked until then.
    """
    now = utc_now()
    if dialect_name(session) == "postgresql":
        job_id = session.scalar(_next_queued(kinds).with_for_update(skip_locked=True))
    else:
        job_id = session.scalar(
            update(Job)
            .where(Job.id == _next_queued(kinds).scalar_subquery(), Job.state == JobState.QUEUED)
            .values(state=JobState.RUNNING)
            .returning(Job.id)
            .execution_options(synchronize_session=False)
        )
    if job_id is None:
        return None
    job = session.get_one(Job, job_id, populate_existing=True)
    job.state, job.worker, job.started_at, job.finished_at = JobState.RUNNING, worker, now, None
    job.attempts += 1
    session.flush()
    log.info("job %d (%s) claimed by %s, attempt %d", job.id, job.kind, worker, job.attempts)
    return job


def _running(session: Session, job_id: int) -> Job:
    job = session.get(Job, job_id, with_for_update=dialect_name(session) == "postgresql")
    if job is None:
        raise StoreError(f"no job {job_id}")
    if job.state is not JobState.RUNNING:
        raise StoreError(f"job {job_id} is {job.state.value}, not running")
    return job


def complete(session: Session, job_id: int) -> Job:
    """Mark a running job done.

    Raises
    ------
    StoreError
        If the job does not exist or is not running.
    """
    job = _running(session, job_id)
    job.state, job.finished_at, job.reason = JobState.DONE, utc_now(), None
    session.flush()
    return job


def fail(session: Session, job_id: int, reason: str, *, retry: bool = True) -> Job:
    """Record that a running job failed with ``reason``.

    With ``retry`` (the default) the job goes back to the queue while it has attempts
    left; otherwise, or when they are used up, it ends ``failed``.
    """
    job = _running(session, job_id)
    job.reason, job.finished_at = reason, utc_now()
    again = retry and job.attempts < job.max_attempts
    job.state = JobState.QUEUED if again else JobState.FAILED
    session.flush()
    log.warning("job %d failed (attempt %d): %s", job.id, job.attempts, reason)
    return job


def requeue(session: Session, job_id: int, *, extra_attempts: int = 1) -> Job:
    """Put a failed job back in the queue by hand, allowing ``extra_attempts`` more runs."""
    job = session.get(Job, job_id)
    if job is None or job.state is not JobState.FAILED:
        state = "missing" if job is None else job.state.value
        raise StoreError(f"job {job_id} is {state}; only failed jobs can be requeued")
    job.state, job.max_attempts = JobState.QUEUED, job.attempts + extra_attempts
    session.flush()
    return job


def requeue_stale(session: Session, *, older_than: timedelta) -> int:
    """Give running jobs whose worker vanished (started before ``older_than`` ago) back.

    Jobs with attempts left go back to the queue, the others fail. Returns how many.
    """
    cutoff = utc_now() - older_than
    stale = session.scalars(
        select(Job).where(Job.state == JobState.RUNNING, Job.started_at < cutoff)
    ).all()
    for job in stale:
        job.reason = f"worker {job.worker} stopped answering"
        job.state = JobState.QUEUED if job.attempts < job.max_attempts else JobState.FAILED
    session.flush()
    return len(stale)


def count_by_state(session: Session) -> dict[JobState, int]:
    """How many jobs are in each state (states without jobs count 0)."""
    rows = session.execute(select(Job.state, func.count()).group_by(Job.state)).all()
    counts = dict.fromkeys(JobState, 0)
    counts.update({JobState(state): n for state, n in rows})
    return counts
