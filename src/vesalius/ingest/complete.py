"""Study-complete detection: a study is complete after a quiet period, or when told so.

:class:`StudyCompletion` is told of every stored instance (``arrived``); a study with no new
instance for ``quiet_s`` seconds, or one named in :meth:`StudyCompletion.trigger`, is
declared complete: a :class:`StudyComplete` event goes to every handler subscribed to the
:class:`Notifications` bus, then a ``study-complete`` audit event is committed.

Why the audit trail holds the completion state: it is in the same database as the instance
rows, so it needs no file of its own, works the same on SQLite and PostgreSQL and across
processes, and a completion is something to audit anyway. The audit event records how many
instances the study had when it was declared complete (counted in the same transaction);
on restart, :meth:`StudyCompletion.resume` re-opens every study whose instance count differs
from its last completion (or that never completed), with its timer running from its last
instance's arrival, so that an instance acknowledged before a crash is never forgotten.
Handlers run before the marker is written: after a crash a study may be announced twice
(at least once), never zero times; handlers should be idempotent.

Examples
--------
>>> import tempfile, pathlib
>>> from datetime import timedelta
>>> from pydicom.data import get_testdata_file
>>> from vesalius.ingest.durable import store_instance
>>> from vesalius.store import BlobStore, open_store, sqlite_url
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> store, blobs = open_store(sqlite_url(root / "i.sqlite3")), BlobStore(root / "blobs")
>>> bus = Notifications[StudyComplete]()
>>> seen = []
>>> unsubscribe = bus.subscribe(seen.append)
>>> completion = StudyCompletion(store, quiet_s=30, bus=bus)
>>> data = pathlib.Path(get_testdata_file("CT_small.dcm")).read_bytes()
>>> completion.arrived(store_instance(data, store=store, blobs=blobs).header.study.study_uid)
>>> completion.check(), len(seen)
((), 0)
>>> later = completion.clock() + timedelta(seconds=31)
>>> [(e.n_instances, e.reason.value) for e in completion.check(now=later)]
[(1, 'quiet')]
>>> StudyCompletion(store, quiet_s=30, bus=bus).resume()  # nothing left open
0
>>> store.close()
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Generic, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vesalius.store import Store
from vesalius.store.audit import AuditRecord, append_event
from vesalius.store.models import AuditEvent, Instance, Series, Study
from vesalius.store.types import utc_now

log = logging.getLogger(__name__)

E = TypeVar("E")

ACTION = "study-complete"
ACTOR = "vesalius:study-complete"
_COUNT = re.compile(r"^(\d+) instances")


class Notifications(Generic[E]):
    """A tiny typed event bus: every subscribed handler gets every published event.

    A handler that raises is logged and does not stop the others.

    Examples
    --------
    >>> bus = Notifications[str]()
    >>> got = []
    >>> stop = bus.subscribe(got.append)
    >>> bus.publish("hello")
    1
    >>> stop(); bus.publish("again"), got
    (0, ['hello'])
    """

    def __init__(self) -> None:
        self._handlers: list[Callable[[E], None]] = []
        self._lock = threading.Lock()

    def subscribe(self, handler: Callable[[E], None]) -> Callable[[], None]:
        """Add ``handler``; returns a function that removes it."""
        with self._lock:
            self._handlers.append(handler)

        def unsubscribe() -> None:
            with self._lock:
                if handler in self._handlers:
                    self._handlers.remove(handler)

        return unsubscribe

    def publish(self, event: E) -> int:
        """Call every handler with ``event``; returns how many succeeded."""
        with self._lock:
            handlers = list(self._handlers)
        ok = 0
        for handler in handlers:
            try:
                handler(event)
                ok += 1
            except Exception:
                log.exception("handler %r failed on %r", handler, event)
        return ok


class CompletionReason(StrEnum):
    """Why a study was declared complete."""

    QUIET = "quiet"
    TRIGGER = "trigger"


@dataclass(frozen=True)
class StudyComplete:
    """A study was declared complete: no instance arrived for the quiet period, or told so."""

    study_uid: str
    n_instances: int
    n_series: int
    last_received_at: datetime | None
    reason: CompletionReason


def _counts(session: Session, study_uid: str) -> tuple[int, int, datetime | None]:
    stmt = (
        select(
            func.count(Instance.id),
            func.count(func.distinct(Series.id)),
            func.max(Instance.received_at),
        )
        .join(Series, Instance.series_pk == Series.id)
        .join(Study, Series.study_pk == Study.id)
        .where(Study.study_uid == study_uid)
    )
    n, n_series, last = session.execute(stmt).one()
    return int(n), int(n_series), last


def _completed_counts(session: Session) -> dict[str, int]:
    """Per study, the instance count recorded by its latest completion."""
    stmt = (
        select(AuditEvent.object_id, AuditEvent.detail)
        .where(AuditEvent.action == ACTION, AuditEvent.object_type == "study")
        .order_by(AuditEvent.id)
    )
    out = {}
    for uid, detail in session.execute(stmt):
        match = _COUNT.match(detail or "")
        out[uid] = int(match.group(1)) if match else -1
    return out


def _open_studies(session: Session) -> dict[str, datetime]:
    """Studies whose instance count differs from their last completion: uid -> last arrival."""
    stmt = (
        select(Study.study_uid, func.count(Instance.id), func.max(Instance.received_at))
        .join(Series, Series.study_pk == Study.id)
        .join(Instance, Instance.series_pk == Series.id)
        .group_by(Study.study_uid)
    )
    done = _completed_counts(session)
    return {uid: last for uid, n, last in session.execute(stmt) if done.get(uid) != n}


class StudyCompletion:
    """Tracks open studies and declares them complete.

    Parameters
    ----------
    store
        The index (instances are counted there; completions are audited there).
    quiet_s
        Seconds without a new instance after which a study is complete.
    bus
        Where :class:`StudyComplete` events are published.
    clock
        The current time as an aware datetime (tests pass a fake one).
    """

    def __init__(
        self,
        store: Store,
        *,
        quiet_s: float,
        bus: Notifications[StudyComplete],
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store, self.quiet = store, timedelta(seconds=quiet_s)
        self.bus, self.clock = bus, clock
        self._last: dict[str, datetime] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def arrived(self, study_uid: str, *, at: datetime | None = None) -> None:
        """Note that an instance of ``study_uid`` was stored (re-opens a completed study)."""
        with self._lock:
            self._last[study_uid] = at or self.clock()

    def open_studies(self) -> tuple[str, ...]:
        """The studies waiting for their quiet period."""
        with self._lock:
            return tuple(self._last)

    def resume(self) -> int:
        """Re-open the studies left open by a previous run; returns how many."""
        with self.store.read_session() as session:
            found = _open_studies(session)
        with self._lock:
            for uid, last in found.items():
                self._last[uid] = max(last, self._last.get(uid, last))
        if found:
            log.info("resumed %d open studies", len(found))
        return len(found)

    def check(self, *, now: datetime | None = None) -> tuple[StudyComplete, ...]:
        """Declare complete every study quiet for the period; returns the events."""
        moment = now or self.clock()
        with self._lock:
            due = [uid for uid, last in self._last.items() if moment - last >= self.quiet]
        return tuple(e for uid in due if (e := self._complete(uid, CompletionReason.QUIET)))

    def trigger(self, study_uid: str) -> StudyComplete | None:
        """Declare ``study_uid`` complete now; ``None`` if it has no instance."""
        return self._complete(study_uid, CompletionReason.TRIGGER)

    def _complete(self, study_uid: str, reason: CompletionReason) -> StudyComplete | None:
        with self._lock:
            seen = self._last.pop(study_uid, None)
        with self.store.read_session() as session:
            n, n_series, last = _counts(session, study_uid)
        if n == 0:
            return None
        event = StudyComplete(study_uid, n, n_series, last, reason)
        self.bus.publish(event)
        with self.store.session() as session:
            n_now = _counts(session, study_uid)[0]
            detail = f"{n} instances ({reason.value})"
            append_event(session, AuditRecord(ACTOR, ACTION, "study", study_uid, detail=detail))
        if n_now != n:  # more arrived meanwhile: keep it open
            with self._lock:
                self._last.setdefault(study_uid, seen or self.clock())
        log.info("study %s complete: %d instances (%s)", study_uid, n, reason.value)
        return event

    def start(self, *, tick_s: float = 1.0) -> None:
        """Check for quiet studies every ``tick_s`` seconds in a background thread."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, args=(tick_s,), name="study-complete", daemon=True
        )
        self._thread.start()

    def _run(self, tick_s: float) -> None:
        while not self._stop.wait(tick_s):
            try:
                self.check()
            except Exception:
                log.exception("study-complete check failed")

    def stop(self) -> None:
        """Stop the background thread (open studies stay open, and resume on restart)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
