"""Worklist routes: the prioritized list, one study's details, claim and release, live events.

- ``GET /api/worklist`` (read-studies): filter by status, modality, text, minimum score;
  sort by priority, waiting time or study date; one page.
- ``GET /api/studies/{study_uid}`` (read-studies): the worklist item, the series and the
  findings (with the latest feedback on each and a link to open it in the viewer).
- ``POST /api/studies/{study_uid}/claim`` (claim-study): 409 when another reader holds it.
- ``POST /api/studies/{study_uid}/release`` (claim-study): the holder or an admin.
- ``GET /api/events`` (read-studies): Server-Sent Events, ``worklist`` events.

Every read or change of patient data is written to the audit trail with who, what, the
client address and the outcome (refusals included): a change in its own transaction, a
read through :class:`GroupAudit` (committed before the answer, many requests per commit).
Many open worklists ask for the same page: :class:`PageCache` computes it once for all of
them until the worklist changes (every change publishes an event) or a second has passed.

Examples
--------
>>> import pathlib, tempfile
>>> from fastapi import FastAPI
>>> from fastapi.testclient import TestClient
>>> from vesalius.service.context import AppContext, Principal
>>> from vesalius.store import BlobStore, open_store, sqlite_url
>>> from vesalius.store.roles import Role
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> store = open_store(sqlite_url(root / "i.sqlite3"))
>>> def authorize(permission):
...     return lambda: Principal("dr.grey", Role.RADIOLOGIST, source="127.0.0.1")
>>> app = FastAPI()
>>> app.include_router(make_router(AppContext(store, BlobStore(root / "b"), authorize)))
>>> TestClient(app).get("/api/worklist").json()
{'total': 0, 'items': []}
>>> store.close()
"""

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, Header, HTTPException, Query
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vesalius.errors import InputError, StoreError
from vesalius.reporting.drafts import stored_findings
from vesalius.reporting.templates import StoredFinding
from vesalius.reporting.worklist import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    WorklistQuery,
    claim,
    list_worklist,
    release,
    study_item,
)
from vesalius.service.auth.audit_log import record_for
from vesalius.service.context import AppContext, Principal
from vesalius.service.events import EventHub
from vesalius.store import Store
from vesalius.store.audit import AuditRecord, append_event
from vesalius.store.models import Instance, Series, Study
from vesalius.store.roles import Permission, Role
from vesalius.store.states import AuditOutcome
from vesalius.store.types import utc_now
from vesalius.store.worklist import latest_feedback

log = logging.getLogger(__name__)

T = TypeVar("T")
AUDIT_KEY = "audit-writer"
"""Where the :class:`GroupAudit` of the context lives in ``AppContext.extras``."""
EVENTS_KEY = "events"
"""Where the :class:`~vesalius.service.events.EventHub` lives in ``AppContext.extras``."""


def event_hub(ctx: AppContext) -> EventHub:
    """The context's event hub (created on first use)."""
    hub = ctx.extras.get(EVENTS_KEY)
    if not isinstance(hub, EventHub):
        hub = ctx.extras[EVENTS_KEY] = EventHub()
    return hub


def audit(
    ctx: AppContext,
    principal: Principal,
    action: str,
    object_type: str,
    object_id: str,
    *,
    outcome: AuditOutcome = AuditOutcome.SUCCESS,
    detail: str | None = None,
    session: Session | None = None,
) -> None:
    """Append one audit event (in ``session`` when given, else in its own transaction)."""
    record = record_for(
        principal.username,
        principal.source,
        action,
        object_type,
        object_id,
        outcome=outcome,
        detail=detail,
    )
    if session is not None:
        append_event(session, record)
        return
    writer = ctx.extras.get(AUDIT_KEY)
    if not isinstance(writer, GroupAudit):
        writer = ctx.extras.setdefault(AUDIT_KEY, GroupAudit(ctx.store))
    writer.write(record)


class GroupAudit:
    """Writes audit events from many request threads with one commit per group.

    :meth:`write` returns once the event is committed (it is never lost), but the events
    that arrive while a commit is under way are committed together by the next one, so
    that 50 clients reading the worklist cost a few disk flushes, not 50.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self._wake = threading.Condition()
        self._pending: list[tuple[AuditRecord, Future[None]]] = []
        self._thread: threading.Thread | None = None

    def write(self, record: AuditRecord) -> None:
        """Commit ``record`` (with whatever else is waiting)."""
        done: Future[None] = Future()
        with self._wake:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="vesalius-audit", daemon=True
                )
                self._thread.start()
            self._pending.append((record, done))
            self._wake.notify()
        done.result()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._pending:
                    self._wake.wait()
                batch, self._pending = self._pending, []
            try:
                with self._store.session() as session:
                    for record, _ in batch:
                        append_event(session, record)
            except Exception as err:
                for _, done in batch:
                    done.set_exception(err)
            else:
                for _, done in batch:
                    done.set_result(None)


_STATUS = {NotFoundError: 404, ForbiddenError: 403, ConflictError: 409}


@contextmanager
def audited_errors(
    ctx: AppContext, principal: Principal, action: str, object_type: str, object_id: str
) -> Iterator[None]:
    """Turn a refusal into its HTTP error, recording it as a failed action."""
    try:
        yield
    except (StoreError, InputError) as err:
        status = next((code for cls, code in _STATUS.items() if isinstance(err, cls)), None)
        if status is None:
            status = 422 if isinstance(err, InputError) else 409
        words = err.problem if isinstance(err, InputError) else str(err)
        audit(
            ctx,
            principal,
            action,
            object_type,
            object_id,
            outcome=AuditOutcome.FAILURE,
            detail=words,
        )
        raise HTTPException(status, words) from None


def write_audited(
    ctx: AppContext,
    principal: Principal,
    action: tuple[str, str, str],
    work: Callable[[Session], T],
    *,
    detail: Callable[[T], str | None] = lambda _: None,
) -> T:
    """Run ``work`` in one write transaction with its audit event (``action``: verb, type, id)."""
    verb, object_type, object_id = action
    with audited_errors(ctx, principal, verb, object_type, object_id), ctx.store.session() as s:
        result = work(s)
        audit(ctx, principal, verb, object_type, object_id, detail=detail(result), session=s)
    return result


class PageCache:
    """Worklist pages, computed once for all the clients asking within ``ttl_s``.

    Many open worklists ask for the same page; each answer is kept for at most ``ttl_s``
    seconds and only while no event was published (a claim, a release, a report signed,
    a study analysed: every change of the worklist announces itself on the event hub), so
    a page is never staler than that. Each request is still audited.
    """

    def __init__(self, ctx: AppContext, *, ttl_s: float = 1.0, size: int = 256) -> None:
        self._ctx, self._ttl_s, self._size = ctx, ttl_s, size
        self._lock, self._computing = threading.Lock(), threading.Lock()
        self._pages: dict[WorklistQuery, tuple[int, float, bytes, int]] = {}

    def get(self, query: WorklistQuery) -> tuple[bytes, int]:
        """The JSON body of the page ``query`` asks for, and how many studies it shows."""
        kept = self._fresh(query)
        if kept is not None:
            return kept
        with self._computing:  # one computes, the others asking meanwhile wait and share
            kept = self._fresh(query)
            if kept is not None:
                return kept
            version, now = event_hub(self._ctx).last_id, time.monotonic()
            with self._ctx.store.read_session() as session:
                page = list_worklist(session, query, now=utc_now())
            items = [item.to_json() for item in page.items]
            body = json.dumps({"total": page.total, "items": items}).encode()
            with self._lock:
                if len(self._pages) >= self._size:
                    self._pages.clear()
                self._pages[query] = (version, now, body, len(items))
            return body, len(items)

    def _fresh(self, query: WorklistQuery) -> tuple[bytes, int] | None:
        version, now = event_hub(self._ctx).last_id, time.monotonic()
        with self._lock:
            kept = self._pages.get(query)
        if kept is not None and kept[0] == version and now - kept[1] < self._ttl_s:
            return kept[2], kept[3]
        return None


def _series(session: Session, study_uid: str) -> list[dict[str, Any]]:
    stmt = (
        select(Series.series_uid, Series.modality, Series.description, func.count(Instance.id))
        .join(Study, Study.id == Series.study_pk)
        .outerjoin(Instance, Instance.series_pk == Series.id)
        .where(Study.study_uid == study_uid)
        .group_by(Series.id)
        .order_by(Series.series_number, Series.id)
    )
    return [
        {"series_uid": uid, "modality": modality, "description": text, "n_instances": n}
        for uid, modality, text, n in session.execute(stmt)
    ]


def finding_json(stored: StoredFinding, feedback: dict[str, Any] | None) -> dict[str, Any]:
    """A finding as the study view shows it."""
    f = stored.finding
    location = None
    if f.location is not None:
        side = f"{f.location.laterality} " if f.location.laterality else ""
        location = side + f.location.site.meaning
    study, series = f.source.study_uid, f.source.series_uid
    return {
        "id": stored.id,
        "type": f.finding_type.meaning,
        "code": f.finding_type.to_json(),
        "description": f.description,
        "measurements": [
            {"name": m.concept.meaning, "value": m.value, "unit": m.unit} for m in f.measurements
        ],
        "categories": [{"scheme": c.system, "value": c.value} for c in f.categories],
        "location": location,
        "algorithm": f"{f.algorithm_name} {f.algorithm_version}",
        "ai": f.ai_generated,
        "series_uid": series,
        "feedback": feedback,
        "viewer_url": f"/viewer?StudyInstanceUIDs={study}&SeriesInstanceUIDs={series}",
    }


def study_view(session: Session, study_uid: str) -> dict[str, Any]:
    """The study page: its worklist item, series and findings."""
    item = study_item(session, study_uid, now=utc_now())
    found = stored_findings(session, study_uid)
    feedback = latest_feedback(session, [s.id for s in found])
    findings = []
    for stored in found:
        row = feedback.get(stored.id)
        judged = None
        if row is not None:
            judged = {
                "decision": row.decision,
                "by": row.given_by,
                "at": row.given_at.isoformat(),
                "comment": row.comment,
            }
        findings.append(finding_json(stored, judged))
    return {"study": item.to_json(), "series": _series(session, study_uid), "findings": findings}


def make_router(ctx: AppContext) -> APIRouter:
    """The worklist routes over ``ctx``."""
    router = APIRouter(tags=["worklist"])
    reader = Annotated[Principal, Depends(ctx.authorize(Permission.READ_STUDIES))]
    claimer = Annotated[Principal, Depends(ctx.authorize(Permission.CLAIM_STUDY))]
    pages = PageCache(ctx)

    @router.get("/api/worklist")
    def worklist(
        principal: reader,
        status: Literal["unread", "claimed", "reported", "all"] = "unread",
        modality: Annotated[str | None, Query(max_length=16)] = None,
        q: Annotated[str | None, Query(max_length=128)] = None,
        min_score: float | None = None,
        sort: Literal["priority", "waiting", "date"] = "priority",
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> Response:
        query = WorklistQuery(status, modality or None, q or None, min_score, sort, limit, offset)
        body, shown = pages.get(query)
        detail = f"status={status} sort={sort} offset={offset}: {shown} studies"
        audit(ctx, principal, "read", "worklist", "", detail=detail)
        return Response(body, media_type="application/json")

    @router.get("/api/studies/{study_uid}")
    def study(study_uid: str, principal: reader) -> dict[str, Any]:
        with audited_errors(ctx, principal, "read", "study", study_uid):
            with ctx.store.read_session() as session:
                view = study_view(session, study_uid)
            audit(ctx, principal, "read", "study", study_uid)
            return view

    @router.post("/api/studies/{study_uid}/claim")
    def claim_route(study_uid: str, principal: claimer) -> dict[str, Any]:
        item = write_audited(
            ctx,
            principal,
            ("claim", "study", study_uid),
            lambda s: claim(s, study_uid, principal.username, now=utc_now()),
        )
        event_hub(ctx).worklist(study_uid, "claimed")
        return item.to_json()

    @router.post("/api/studies/{study_uid}/release")
    def release_route(study_uid: str, principal: claimer) -> dict[str, Any]:
        admin = principal.role is Role.ADMIN
        item = write_audited(
            ctx,
            principal,
            ("release", "study", study_uid),
            lambda s: release(s, study_uid, principal.username, admin=admin, now=utc_now()),
        )
        event_hub(ctx).worklist(study_uid, "released")
        return item.to_json()

    @router.get("/api/events")
    def events(
        principal: reader,
        last_event_id: Annotated[int | None, Header(alias="Last-Event-ID")] = None,
    ) -> StreamingResponse:
        log.debug("%s listens to events", principal.username)
        return StreamingResponse(
            event_hub(ctx).sse(after=last_event_id),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    return router
