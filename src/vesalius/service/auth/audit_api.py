"""The audit log for administrators: ``GET /api/audit`` (permission ``read-audit``).

Filters (all optional, exact match): ``who``, ``action``, ``object_type``, ``object_id``;
``limit`` (1-1000, 100 by default); ``before_id`` pages back: the answer is
``{"items": [...]}`` newest first, and the next page asks ``before_id`` = the last id.

Examples
--------
>>> import tempfile, pathlib
>>> from fastapi import FastAPI
>>> from fastapi.testclient import TestClient
>>> from vesalius.service.auth.audit_log import audit
>>> from vesalius.store.roles import Role
>>> from vesalius.store import BlobStore, open_store, sqlite_url
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> store = open_store(sqlite_url(root / "i.sqlite3"))
>>> boss = Principal("boss", Role.ADMIN, source="127.0.0.1")
>>> for uid in ("1.2.3", "1.2.4"):
...     audit(store, boss, "read", "study", uid)
>>> app = FastAPI()
>>> ctx = AppContext(store, BlobStore(root / "b"), lambda permission: lambda: boss)
>>> app.include_router(make_router(ctx))
>>> [e["object_id"] for e in TestClient(app).get("/api/audit?action=read").json()["items"]]
['1.2.4', '1.2.3']
>>> store.close()
"""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy import select

from vesalius.service.auth.audit_log import audit
from vesalius.service.context import AppContext, Principal
from vesalius.store.models import AuditEvent
from vesalius.store.roles import Permission


class AuditItem(BaseModel):
    """One audit event."""

    id: int
    at: datetime
    who: str
    action: str
    object_type: str
    object_id: str
    source: str | None
    outcome: str
    detail: str | None


class AuditPage(BaseModel):
    """The answer of ``GET /api/audit``: newest first."""

    items: list[AuditItem]


def make_router(ctx: AppContext) -> APIRouter:
    """The audit log route."""
    router = APIRouter(tags=["audit"])
    auditor = Annotated[Principal, Depends(ctx.authorize(Permission.READ_AUDIT))]

    @router.get("/api/audit", response_model=AuditPage)
    def audit_log(
        principal: auditor,
        who: Annotated[str | None, Query(max_length=128)] = None,
        action: Annotated[str | None, Query(max_length=64)] = None,
        object_type: Annotated[str | None, Query(max_length=64)] = None,
        object_id: Annotated[str | None, Query(max_length=128)] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        before_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    ) -> AuditPage:
        stmt = select(AuditEvent)
        for column, value in (
            (AuditEvent.who, who),
            (AuditEvent.action, action),
            (AuditEvent.object_type, object_type),
            (AuditEvent.object_id, object_id),
        ):
            if value is not None:
                stmt = stmt.where(column == value)
        if before_id is not None:
            stmt = stmt.where(AuditEvent.id < before_id)
        with ctx.store.read_session() as session:
            rows = session.scalars(stmt.order_by(AuditEvent.id.desc()).limit(limit))
            items = [
                AuditItem(
                    id=e.id,
                    at=e.at,
                    who=e.who,
                    action=e.action,
                    object_type=e.object_type,
                    object_id=e.object_id,
                    source=e.source,
                    outcome=e.outcome.value,
                    detail=e.detail,
                )
                for e in rows
            ]
        audit(ctx, principal, "read", "audit-log", "", detail=f"{len(items)} events")
        return AuditPage(items=items)

    return router
