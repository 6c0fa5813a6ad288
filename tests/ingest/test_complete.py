"""Study-complete detection, as the pipeline waiting for whole studies would see it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydicom.data import get_testdata_file

from vesalius.ingest.complete import (
    CompletionReason,
    Notifications,
    StudyComplete,
    StudyCompletion,
)
from vesalius.ingest.durable import store_instance
from vesalius.store import BlobStore, Store, open_store, sqlite_url

START = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(sqlite_url(tmp_path / "index.sqlite3"))
    yield opened
    opened.close()


def _ingest(store: Store, tmp_path: Path, name: str) -> str:
    data = Path(str(get_testdata_file(name))).read_bytes()
    stored = store_instance(data, store=store, blobs=BlobStore(tmp_path / "blobs"))
    return stored.header.study.study_uid


def _tracker(store: Store, clock: Clock) -> tuple[StudyCompletion, list[StudyComplete]]:
    bus = Notifications[StudyComplete]()
    seen: list[StudyComplete] = []
    bus.subscribe(seen.append)
    return StudyCompletion(store, quiet_s=60, bus=bus, clock=clock), seen


def test_a_study_is_complete_only_after_the_quiet_period(store: Store, tmp_path: Path) -> None:
    clock = Clock()
    completion, seen = _tracker(store, clock)
    uid = _ingest(store, tmp_path, "CT_small.dcm")
    completion.arrived(uid)
    clock.now += timedelta(seconds=59)
    assert completion.check() == ()
    clock.now += timedelta(seconds=1)
    events = completion.check()
    assert [(e.study_uid, e.n_instances, e.reason) for e in events] == [
        (uid, 1, CompletionReason.QUIET)
    ]
    assert seen == list(events)
    assert completion.open_studies() == ()


def test_an_explicit_trigger_completes_at_once(store: Store, tmp_path: Path) -> None:
    completion, seen = _tracker(store, Clock())
    uid = _ingest(store, tmp_path, "MR_small.dcm")
    completion.arrived(uid)
    event = completion.trigger(uid)
    assert event is not None
    assert event.reason is CompletionReason.TRIGGER
    assert [e.study_uid for e in seen] == [uid]
    assert completion.trigger("1.2.3.unknown") is None


def test_open_studies_resume_after_a_crash(store: Store, tmp_path: Path) -> None:
    """Instances acknowledged before a crash still make their study complete after restart."""
    clock = Clock()
    first, _ = _tracker(store, clock)
    ct = _ingest(store, tmp_path, "CT_small.dcm")
    mr = _ingest(store, tmp_path, "MR_small.dcm")
    first.arrived(ct)
    first.arrived(mr)
    first.trigger(mr)  # mr completed before the "crash"; ct was still open
    clock.now = datetime.now(UTC) + timedelta(minutes=5)
    restarted, _ = _tracker(store, clock)
    assert restarted.resume() == 1
    assert restarted.open_studies() == (ct,)
    assert [e.study_uid for e in restarted.check()] == [ct]
    assert _tracker(store, clock)[0].resume() == 0


def test_a_new_instance_reopens_a_completed_study(store: Store, tmp_path: Path) -> None:
    completion, _ = _tracker(store, Clock())
    uid = _ingest(store, tmp_path, "CT_small.dcm")
    completion.trigger(uid)
    completion.arrived(uid)
    assert completion.open_studies() == (uid,)


def test_a_failing_handler_does_not_stop_the_others() -> None:
    bus = Notifications[int]()
    got: list[int] = []

    def broken(_: int) -> None:
        raise RuntimeError("handler bug")

    bus.subscribe(broken)
    bus.subscribe(got.append)
    assert bus.publish(7) == 1
    assert got == [7]
