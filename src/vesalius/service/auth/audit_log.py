"""The one helper every router calls to record a read or change of patient data.

``audit(ctx_or_store, principal, action, object_type, object_id)`` appends who (the
principal's username), what (action, object), when (now), from where (the client address)
and the outcome to the audit trail (:mod:`vesalius.store.audit`), in the caller's
``session`` when given (so the event commits or rolls back with the change), else through
the store's :class:`GroupWriter`: the call returns once the event is committed, but the
events that arrive while a commit is under way are committed together by the next one, so
that 50 clients reading the worklist cost a few disk flushes, not 50 (:func:`write_async`
waits the same way without holding a thread).

Examples
--------
>>> import tempfile, pathlib
>>> from vesalius.store import open_store, sqlite_url
>>> from vesalius.store.audit import events_for
>>> from vesalius.store.roles import Role
>>> store = open_store(sqlite_url(pathlib.Path(tempfile.mkdtemp()) / "i.sqlite3"))
>>> grey = Principal("dr.grey", Role.RADIOLOGIST, source="10.0.0.7", via="session")
>>> audit(store, grey, "read", "study", "1.2.3")
>>> with store.read_session() as s:
...     [(e.who, e.action, e.source, e.outcome.value) for e in events_for(s, "study", "1.2.3")]
[('dr.grey', 'read', '10.0.0.7', 'success')]
>>> store.close()
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import weakref
from concurrent.futures import Future
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from vesalius.service.context import AppContext, Principal
from vesalius.store import AuditOutcome, Store
from vesalius.store.audit import AuditRecord, append_event, event_row
from vesalius.store.models import AuditEvent

SUCCESS = AuditOutcome.SUCCESS
FAILURE = AuditOutcome.FAILURE


def record_for(
    who: str,
    source: str | None,
    action: str,
    object_type: str,
    object_id: str,
    *,
    outcome: AuditOutcome = SUCCESS,
    detail: str | None = None,
) -> AuditRecord:
    """The audit record of one action (``source`` empty becomes ``None``)."""
    return AuditRecord(
        who or "anonymous",
        action,
        object_type,
        object_id,
        source=source or None,
        outcome=outcome,
        detail=detail,
    )


class GroupWriter:
    """Commits audit events from many threads with one transaction per group.

    :meth:`submit` hands an event over and returns a future that is done once the event
    is committed (or failed: then the error is the future's). A thread commits what is
    waiting, in one transaction, as soon as the previous commit is done; it ends when idle
    for ``idle_s`` seconds and is started again by the next event.
    """

    def __init__(self, store: Store, *, idle_s: float = 2.0) -> None:
        self._store = weakref.ref(store)  # the writers' registry is keyed by the store
        self._idle_s = idle_s
        self._wake = threading.Condition()
        self._pending: list[tuple[dict[str, Any], _Waiter]] = []
        self._running = False

    def _queue(self, row: dict[str, Any], waiter: _Waiter) -> None:
        with self._wake:
            self._pending.append((row, waiter))
            if not self._running:
                self._running = True
                threading.Thread(target=self._run, name="vesalius-audit", daemon=True).start()
            else:
                self._wake.notify()

    def submit(self, record: AuditRecord) -> Future[None]:
        """Queue ``record``; the future is done when it is committed.

        Raises
        ------
        StoreError
            A record without who, action or object type (nothing is queued).
        """
        done: Future[None] = Future()
        self._queue(event_row(record), done)
        return done

    def write(self, record: AuditRecord) -> None:
        """Commit ``record`` (with whatever else is waiting); raises what the commit raised."""
        self.submit(record).result()

    async def write_async(self, record: AuditRecord) -> None:
        """:meth:`write` for a coroutine: it waits without holding a thread.

        The coroutines of one event loop whose events went in one commit are woken by
        one callback.
        """
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue(event_row(record), done)
        await done

    def _next_batch(self) -> list[tuple[dict[str, Any], _Waiter]]:
        with self._wake:
            if not self._pending:
                self._wake.wait(self._idle_s)
            if not self._pending:
                self._running = False
                return []
            batch, self._pending = self._pending, []
            return batch

    def _run(self) -> None:
        while batch := self._next_batch():
            store = self._store()
            error: Exception | None = None
            try:
                if store is None:
                    raise RuntimeError("the index of these audit events was closed")
                with store.session() as session:  # one INSERT of many rows, one commit
                    for start in range(0, len(batch), 500):  # a statement per 500 events
                        rows = [row for row, _ in batch[start : start + 500]]
                        session.execute(insert(AuditEvent).values(rows))
            except Exception as err:  # every waiting caller gets the error
                error = err
            _settle([waiter for _, waiter in batch], error)


_Waiter = Future[None] | asyncio.Future[None]
"""Who waits for an event to be committed: a thread, or a coroutine of an event loop."""


def _settle(waiters: list[_Waiter], error: Exception | None) -> None:
    """Wake ``waiters`` (with ``error`` if any): threads at once, coroutines by their loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
    for waiter in waiters:
        if isinstance(waiter, Future):
            if error is None:
                waiter.set_result(None)
            else:
                waiter.set_exception(error)
        else:
            by_loop.setdefault(waiter.get_loop(), []).append(waiter)
    for loop, futures in by_loop.items():
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
            loop.call_soon_threadsafe(_settle_in_loop, futures, error)


def _settle_in_loop(futures: list[asyncio.Future[None]], error: Exception | None) -> None:
    for future in futures:
        if future.done():  # cancelled: the client went away
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)


_WRITERS: weakref.WeakKeyDictionary[Store, GroupWriter] = weakref.WeakKeyDictionary()
_WRITERS_LOCK = threading.Lock()


def writer_for(store: Store) -> GroupWriter:
    """The one :class:`GroupWriter` of ``store`` (made on first use)."""
    with _WRITERS_LOCK:
        found = _WRITERS.get(store)
        if found is None:
            found = _WRITERS[store] = GroupWriter(store)
        return found


def write(store: Store, record: AuditRecord, *, session: Session | None = None) -> None:
    """Append ``record``, in ``session`` when given, else committed by the group writer."""
    if session is not None:
        append_event(session, record)
        return
    writer_for(store).write(record)


async def write_async(store: Store, record: AuditRecord) -> None:
    """Commit ``record`` through the group writer, waiting without holding a thread."""
    await writer_for(store).write_async(record)


def audit(
    ctx_or_store: AppContext | Store,
    principal: Principal,
    action: str,
    object_type: str,
    object_id: str,
    outcome: AuditOutcome = SUCCESS,
    detail: str | None = None,
    *,
    session: Session | None = None,
) -> None:
    """Record that ``principal`` did ``action`` to ``object_type`` ``object_id``."""
    store = ctx_or_store.store if isinstance(ctx_or_store, AppContext) else ctx_or_store
    record = record_for(
        principal.username,
        principal.source,
        action,
        object_type,
        object_id,
        outcome=outcome,
        detail=detail,
    )
    write(store, record, session=session)
