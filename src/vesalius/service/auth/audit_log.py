"""The one helper every router calls to record a read or change of patient data.

``audit(ctx_or_store, principal, action, object_type, object_id)`` appends who (the
principal's username), what (action, object), when (now), from where (the client address)
and the outcome to the audit trail (:mod:`vesalius.store.audit`), in the caller's
``session`` when given (so the event commits or rolls back with the change), else in a
transaction of its own.

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

from sqlalchemy.orm import Session

from vesalius.service.context import AppContext, Principal
from vesalius.store import AuditOutcome, Store
from vesalius.store.audit import AuditRecord, append_event

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


def write(store: Store, record: AuditRecord, *, session: Session | None = None) -> None:
    """Append ``record``, in ``session`` when given, else in its own transaction."""
    if session is not None:
        append_event(session, record)
        return
    with store.session() as own:
        append_event(own, record)


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
