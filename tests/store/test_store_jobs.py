"""The job queue: idempotent enqueue, safe concurrent claims, retries."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import update

from vesalius.errors import InputError, StoreError
from vesalius.store import JobState, Store
from vesalius.store.header import PatientInfo, StudyInfo
from vesalius.store.index import upsert_patient, upsert_study
from vesalius.store.jobs import (
    JobSpec,
    claim_next,
    complete,
    count_by_state,
    enqueue,
    fail,
    requeue,
    requeue_stale,
)
from vesalius.store.models import Job
from vesalius.store.types import utc_now


def test_enqueue_with_same_key_gives_the_same_job(store: Store) -> None:
    """A study announced twice is analyzed once: the key makes enqueue idempotent."""
    with store.session() as s:
        first = enqueue(s, JobSpec("analyze", idempotency_key="k1", params={"series": "1.2"}))
    with store.session() as s:
        second = enqueue(s, JobSpec("analyze", idempotency_key="k1"))
        other = enqueue(s, JobSpec("analyze", idempotency_key="k2"))
    assert (first.created, second.created, other.created) == (True, False, True)
    assert first.job_id == second.job_id != other.job_id
    with store.read_session() as s:
        assert count_by_state(s)[JobState.QUEUED] == 2


def test_enqueue_for_unknown_study_is_refused(store: Store) -> None:
    """A job pointing at a study that is not indexed is a StoreError."""
    with pytest.raises(StoreError, match=r"unknown studies UID 9\.9"), store.session() as s:
        enqueue(s, JobSpec("analyze", study_uid="9.9"))


def test_job_linked_to_its_study(store: Store) -> None:
    """A job about a study keeps the reference."""
    with store.session() as s:
        study = upsert_study(s, StudyInfo("1.2"), patient=upsert_patient(s, PatientInfo("P")))
        job_id = enqueue(s, JobSpec("analyze", study_uid="1.2")).job_id
    with store.read_session() as s:
        assert s.get_one(Job, job_id).study_pk == study.id


def test_bad_job_spec_is_an_input_error() -> None:
    """No kind or no attempts allowed is the caller's mistake."""
    with pytest.raises(InputError):
        JobSpec("")
    with pytest.raises(InputError):
        JobSpec("x", max_attempts=0)


def test_claim_order_priority_then_age_and_kind_filter(store: Store) -> None:
    """Higher priority first, then oldest; a worker only takes the kinds it asks for."""
    with store.session() as s:
        low = enqueue(s, JobSpec("analyze")).job_id
        high = enqueue(s, JobSpec("analyze", priority=5)).job_id
        export = enqueue(s, JobSpec("export", priority=9)).job_id
    claimed = []
    for _ in range(3):
        with store.session() as s:
            job = claim_next(s, worker="w", kinds=["analyze"])
            claimed.append(None if job is None else job.id)
    assert claimed == [high, low, None]
    with store.session() as s:
        job = claim_next(s, worker="w")
        assert job is not None
        assert job.id == export


def test_fail_retries_until_attempts_are_used_up(store: Store) -> None:
    """A failing job runs max_attempts times, then stays failed with its reason."""
    with store.session() as s:
        job_id = enqueue(s, JobSpec("analyze", max_attempts=2)).job_id
    states = []
    for attempt in (1, 2):
        with store.session() as s:
            job = claim_next(s, worker="w")
            assert job is not None
            assert job.attempts == attempt
            states.append(fail(s, job_id, f"boom {attempt}").state)
    assert states == [JobState.QUEUED, JobState.FAILED]
    with store.session() as s:
        assert claim_next(s, worker="w") is None
        failed = s.get_one(Job, job_id)
        assert (failed.reason, failed.attempts) == ("boom 2", 2)
        assert failed.finished_at is not None
        requeued = requeue(s, job_id)
        assert (requeued.state, requeued.max_attempts) == (JobState.QUEUED, 3)


def test_fail_without_retry_is_final(store: Store) -> None:
    """retry=False fails the job at once even with attempts left."""
    with store.session() as s:
        job_id = enqueue(s, JobSpec("analyze")).job_id
        claim_next(s, worker="w")
        assert fail(s, job_id, "bad input", retry=False).state is JobState.FAILED


def test_finishing_a_job_that_is_not_running_is_refused(store: Store) -> None:
    """complete/fail on a queued, done or missing job raise StoreError."""
    with store.session() as s:
        job_id = enqueue(s, JobSpec("analyze")).job_id
    with pytest.raises(StoreError, match="queued, not running"), store.session() as s:
        complete(s, job_id)
    with store.session() as s:
        claim_next(s, worker="w")
        complete(s, job_id)
    with pytest.raises(StoreError, match="done, not running"), store.session() as s:
        fail(s, job_id, "late")
    with pytest.raises(StoreError, match="no job"), store.session() as s:
        complete(s, 12345)
    with pytest.raises(StoreError, match="only failed jobs"), store.session() as s:
        requeue(s, job_id)


def test_stale_running_jobs_go_back_to_the_queue(store: Store) -> None:
    """A job whose worker died is requeued (or failed when out of attempts)."""
    with store.session() as s:
        retry_id = enqueue(s, JobSpec("analyze")).job_id
        last_id = enqueue(s, JobSpec("analyze", max_attempts=1)).job_id
        claim_next(s, worker="dead")
        claim_next(s, worker="dead")
        s.execute(update(Job).values(started_at=utc_now() - timedelta(hours=2)))
    with store.session() as s:
        assert requeue_stale(s, older_than=timedelta(hours=1)) == 2
        assert s.get_one(Job, retry_id).state is JobState.QUEUED
        assert s.get_one(Job, last_id).state is JobState.FAILED


def test_concurrent_workers_never_get_the_same_job(store: Store) -> None:
    """Four threads claiming 40 jobs: every job is run exactly once."""
    n_jobs, n_workers = 40, 4
    with store.session() as s:
        ids = {
            enqueue(s, JobSpec("analyze", idempotency_key=f"k{i}")).job_id for i in range(n_jobs)
        }
    claimed: list[int] = []
    lock, start = threading.Lock(), threading.Barrier(n_workers)
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            start.wait()
            while True:
                with store.session() as s:
                    job = claim_next(s, worker=name)
                if job is None:
                    return
                with lock:
                    claimed.append(job.id)
                with store.session() as s:
                    complete(s, job.id)
        except BaseException as err:  # reported by the main thread
            errors.append(err)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(n_workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sorted(claimed) == sorted(ids)  # each job once, none lost
    with store.read_session() as s:
        assert count_by_state(s)[JobState.DONE] == n_jobs
