"""The audit trail: append-only records of who read or changed what, when, from where.

Examples
--------
>>> import tempfile, pathlib
>>> from vesalius.store import open_store, sqlite_url
>>> store = open_store(sqlite_url(pathlib.Path(tempfile.mkdtemp()) / "i.sqlite3"))
>>> with store.session() as s:
...     _ = append_event(s, AuditRecord("dr.grey", "read", "study", "1.2.3", source="10.0.0.7"))
>>> with store.read_session() as s:
...     [(e.who, e.action, e.outcome.value) for e in events_for(s, "study", "1.2.3")]
[('dr.grey', 'read', 'success')]
>>> store.close()
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vesalius.errors import StoreError
from vesalius.store._sql import clip
from vesalius.store.models import AuditEvent
from vesalius.store.states import AuditOutcome
from vesalius.store.types import aware_utc, utc_now


@dataclass(frozen=True)
class AuditRecord:
    """One action to record.

    Parameters
    ----------
    who
        The user or system actor (``"dr.grey"``, ``"scp:CT_SCANNER"``).
    action
        What was done (``"read"``, ``"create"``, ``"sign"``, ``"export"``...).
    object_type, object_id
        What it was done to (``"study"`` and its UID, ``"report"`` and its id...).
    source
        Where from: an IP address, an AE title.
    outcome
        Success or failure.
    detail
        Free text, for example why it failed.
    at
        When; now by default.
    """

    who: str
    action: str
    object_type: str
    object_id: str
    source: str | None = None
    outcome: AuditOutcome = AuditOutcome.SUCCESS
    detail: str | None = None
    at: datetime | None = None


def event_row(record: AuditRecord) -> dict[str, Any]:
    """The ``audit_events`` row of ``record``, as column values (texts clipped to fit).

    Raises
    ------
    StoreError
        Without who, action or object type.
    """
    if not (record.who and record.action and record.object_type):
        raise StoreError("an audit event needs who, action and object type")
    texts = {
        "who": record.who,
        "action": record.action,
        "object_type": record.object_type,
        "object_id": record.object_id,
        "source": record.source,
        "detail": record.detail,
    }
    at = aware_utc(record.at or utc_now())
    return {**clip(AuditEvent, texts), "outcome": record.outcome, "at": at}


def append_event(session: Session, record: AuditRecord) -> AuditEvent:
    """Add ``record`` to the trail (there is no update or delete)."""
    event = AuditEvent(**event_row(record))
    session.add(event)
    session.flush()
    return event


def events_for(
    session: Session, object_type: str, object_id: str, *, limit: int = 1000
) -> list[AuditEvent]:
    """The events about one object, oldest first."""
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.object_type == object_type, AuditEvent.object_id == object_id)
        .order_by(AuditEvent.at, AuditEvent.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def events_by(
    session: Session, who: str, *, since: datetime | None = None, limit: int = 1000
) -> list[AuditEvent]:
    """What ``who`` did (since ``since``, if given), oldest first."""
    stmt = select(AuditEvent).where(AuditEvent.who == who)
    if since is not None:
        stmt = stmt.where(AuditEvent.at >= since)
    return list(session.scalars(stmt.order_by(AuditEvent.at, AuditEvent.id).limit(limit)))
