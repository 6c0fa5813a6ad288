"""Live updates: an in-process event hub and its Server-Sent Events stream.

Worker threads (the analyser, the routers) :meth:`EventHub.publish` events; each browser
listening on ``GET /api/events`` holds one subscription, an asyncio queue fed from any
thread through its event loop. The hub numbers events and keeps the last few hundred, so
that a client reconnecting with ``Last-Event-ID`` gets what it missed. A slow client's
queue is bounded: when it is full the oldest event is dropped (the worklist is refetched on
the next event anyway). :meth:`EventHub.close` ends every stream (at shutdown, so that the
HTTP server is not kept waiting by open streams).

Examples
--------
>>> import asyncio
>>> hub = EventHub()
>>> _ = hub.worklist("1.2.3", "analysed")
>>> hub.close()
>>> async def read():
...     return [e.sse() async for e in hub.subscribe(after=0)]
>>> print(asyncio.run(read())[0], end="")
id: 1
event: worklist
data: {"study_uid": "1.2.3", "what": "analysed"}
<BLANKLINE>
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

WORKLIST = "worklist"
"""Kind of the events about a study of the worklist."""


@dataclass(frozen=True)
class Event:
    """One numbered event: its kind and JSON data."""

    id: int
    kind: str
    data: dict[str, Any]

    def sse(self) -> str:
        """The event as a Server-Sent Events message."""
        return f"id: {self.id}\nevent: {self.kind}\ndata: {json.dumps(self.data)}\n\n"


@dataclass(eq=False)
class _Subscriber:
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[Event | None]


def _put(queue: asyncio.Queue[Event | None], item: Event | None) -> None:
    """Put ``item`` (in the subscriber's loop), dropping the oldest event when full."""
    if queue.full():
        with contextlib.suppress(asyncio.QueueEmpty):
            queue.get_nowait()
    queue.put_nowait(item)


class EventHub:
    """Publish from any thread; subscribe from asyncio.

    Parameters
    ----------
    history
        How many recent events are kept for reconnecting clients.
    queue_size
        How many events a subscriber may have waiting before the oldest are dropped.
    """

    def __init__(self, *, history: int = 512, queue_size: int = 1000) -> None:
        self._lock = threading.Lock()
        self._history: deque[Event] = deque(maxlen=history)
        self._subscribers: set[_Subscriber] = set()
        self._queue_size = queue_size
        self._next_id = 1
        self._closed = False

    @property
    def last_id(self) -> int:
        """The number of the latest event (0 before the first): a version of the worklist."""
        with self._lock:
            return self._next_id - 1

    @property
    def subscribers(self) -> int:
        """How many subscriptions are open."""
        with self._lock:
            return len(self._subscribers)

    def publish(self, kind: str, data: dict[str, Any]) -> Event:
        """Number ``data`` as an event of ``kind`` and hand it to every subscriber."""
        with self._lock:
            event = Event(self._next_id, kind, dict(data))
            self._next_id += 1
            self._history.append(event)
            targets = list(self._subscribers)
        for subscriber in targets:
            self._deliver(subscriber, event)
        return event

    def worklist(self, study_uid: str, what: str) -> Event:
        """Publish that a study of the worklist changed (``what``: arrived, claimed...)."""
        return self.publish(WORKLIST, {"study_uid": study_uid, "what": what})

    def _deliver(self, subscriber: _Subscriber, item: Event | None) -> None:
        try:
            subscriber.loop.call_soon_threadsafe(_put, subscriber.queue, item)
        except RuntimeError:  # its event loop is closed: the client is gone
            with self._lock:
                self._subscribers.discard(subscriber)

    def close(self) -> None:
        """End every subscription; later subscriptions only replay the history."""
        with self._lock:
            self._closed = True
            targets = list(self._subscribers)
        for subscriber in targets:
            self._deliver(subscriber, None)

    async def subscribe(
        self, *, after: int | None = None, heartbeat_s: float | None = None
    ) -> AsyncIterator[Event | None]:
        """The events after ``after`` (kept ones first), then live ones until :meth:`close`.

        With ``heartbeat_s``, ``None`` is yielded after that many quiet seconds (so that
        the caller can keep its connection alive).
        """
        subscriber = _Subscriber(asyncio.get_running_loop(), asyncio.Queue(self._queue_size))
        with self._lock:
            backlog = [e for e in self._history if after is not None and e.id > after]
            closed = self._closed
            if not closed:
                self._subscribers.add(subscriber)
        try:
            for event in backlog:
                yield event
            while not closed:
                try:
                    item = await asyncio.wait_for(subscriber.queue.get(), heartbeat_s)
                except TimeoutError:
                    yield None
                    continue
                if item is None:
                    return
                yield item
        finally:
            with self._lock:
                self._subscribers.discard(subscriber)

    async def sse(
        self, *, after: int | None = None, heartbeat_s: float = 15.0
    ) -> AsyncIterator[str]:
        """The subscription as Server-Sent Events text (heartbeats as comments)."""
        yield "retry: 3000\n\n"
        async for event in self.subscribe(after=after, heartbeat_s=heartbeat_s):
            yield ": keep-alive\n\n" if event is None else event.sse()
