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
read through the store's group writer (:mod:`vesalius.service.auth.audit_log`: committed
before the answer, many requests per commit). Many open worklists ask for the same page:
:class:`PageCache` keeps its JSON until the worklist changes (every change publishes an
event) or a second has passed; the list route then answers on the event loop, without a
thread, unless the page must be computed.

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
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Self, TypeVar

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

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
from vesalius.service.auth.audit_log import record_for, write, write_async
from vesalius.service.context import AppContext, Principal
from vesalius.service.events import EventHub
from vesalius.store.models import Instance, Series, Study
from vesalius.store.roles import Permission, Role
from vesalius.store.states import AuditOutcome
from vesalius.store.types import utc_now
from vesalius.store.worklist import latest_feedback

log = logging.getLogger(__name__)

T = TypeVar("T")
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
    """Append one audit event (in ``session`` when given, else group-committed)."""
    record = record_for(
        principal.username,
        principal.source,
        action,
        object_type,
        object_id,
        outcome=outcome,
        detail=detail,
    )
    write(ctx.store, record, session=session)


class WorklistParams(BaseModel):
    """The query parameters of ``GET /api/worklist`` (validated in one go)."""

    status: Literal["unread", "claimed", "reported", "all"] = "unread"
    modality: str | None = Field(None, max_length=16)
    q: str | None = Field(None, max_length=128)
    min_score: float | None = None
    sort: Literal["priority", "waiting", "date"] = "priority"
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0)

    @classmethod
    def parse(cls, given: Mapping[str, str]) -> Self:
        """The parameters of a request (the last of a repeated one), or a 422 as FastAPI's.

        One model validation instead of one per parameter: the list is the busiest route.
        """
        try:
            return cls.model_validate(dict(given))
        except ValidationError as err:
            errors = err.errors(include_url=False)
            raise RequestValidationError(
                [{**e, "loc": ("query", *e["loc"])} for e in errors]
            ) from None

    @classmethod
    def openapi(cls) -> list[dict[str, Any]]:
        """The parameters as the OpenAPI schema describes them."""
        fields = cls.model_json_schema()["properties"].items()
        return [{"name": k, "in": "query", "required": False, "schema": v} for k, v in fields]

    def query(self) -> WorklistQuery:
        """The worklist query these parameters ask for (empty texts mean no filter)."""
        return WorklistQuery(
            self.status,
            self.modality or None,
            self.q or None,
            self.min_score,
            self.sort,
            self.limit,
            self.offset,
        )


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


@dataclass(frozen=True)
class _Page:
    version: int
    made_at: float
    body: bytes
    shown: int


class PageCache:
    """Worklist pages as JSON bytes, computed once for all the clients asking.

    A kept page is served while no event was published since it was computed (a claim,
    a release, a report signed, a study analysed: every change of the worklist announces
    itself on the event hub, whose last event number is the worklist's version) and for
    at most ``ttl_s`` seconds (waiting times and ranks move with the clock). When only its
    time is up, the first request to notice recomputes it and the others meanwhile get the
    kept page (at most that computation late); after a change, every request waits for
    the new page. Each request is still audited.
    """

    def __init__(self, ctx: AppContext, *, ttl_s: float = 1.0, size: int = 256) -> None:
        self._ctx, self._ttl_s, self._size = ctx, ttl_s, size
        self._lock = threading.Lock()
        self._pages: dict[WorklistQuery, _Page] = {}
        self._refreshing: set[WorklistQuery] = set()
        self._computing: dict[WorklistQuery, threading.Lock] = {}

    def kept(self, query: WorklistQuery) -> tuple[bytes, int] | None:
        """The kept page of ``query`` if it may be served now; ``None``: call :meth:`get`.

        Never touches the index (cheap enough for the event loop).
        """
        version, now = event_hub(self._ctx).last_id, time.monotonic()
        with self._lock:
            page = self._pages.get(query)
            if page is None or page.version != version:
                return None
            if now - page.made_at < self._ttl_s or query in self._refreshing:
                return page.body, page.shown
            self._refreshing.add(query)  # this caller refreshes it (through get)
            return None

    def get(self, query: WorklistQuery) -> tuple[bytes, int]:
        """The JSON body of the page ``query`` asks for, and how many studies it shows."""
        asked = time.monotonic()
        with self._lock:
            computing = self._computing.setdefault(query, threading.Lock())
        try:
            with computing:  # one computes, the others asking meanwhile wait and share
                version, now = event_hub(self._ctx).last_id, time.monotonic()
                with self._lock:
                    page = self._pages.get(query)
                if (
                    page is not None
                    and page.version == version
                    and (page.made_at >= asked or now - page.made_at < self._ttl_s)
                ):
                    return page.body, page.shown  # current, or computed while this one waited
                with self._ctx.store.read_session() as session:
                    listed = list_worklist(session, query, now=utc_now())
                items = [item.to_json() for item in listed.items]
                body = json.dumps({"total": listed.total, "items": items}).encode()
                with self._lock:
                    if len(self._pages) >= self._size:
                        self._pages.clear()
                        self._computing = {query: computing}
                    self._pages[query] = _Page(version, now, body, len(items))
                return body, len(items)
        finally:
            with self._lock:
                self._refreshing.discard(query)


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


def on_event_loop(dependency: Callable[..., Any]) -> Callable[..., Any]:
    """The awaitable twin of an access check when it has one (``asynchronous``), else itself.

    The gate's twin answers a remembered caller without a worker thread; a route that
    does its own work on the event loop then never leaves it.
    """
    twin = getattr(dependency, "asynchronous", None)
    return twin if callable(twin) else dependency


def make_router(ctx: AppContext) -> APIRouter:
    """The worklist routes over ``ctx``."""
    router = APIRouter(tags=["worklist"])
    reader = Annotated[Principal, Depends(ctx.authorize(Permission.READ_STUDIES))]
    claimer = Annotated[Principal, Depends(ctx.authorize(Permission.CLAIM_STUDY))]
    listing_reader = Annotated[
        Principal, Depends(on_event_loop(ctx.authorize(Permission.READ_STUDIES)))
    ]
    pages = PageCache(ctx)

    @router.get("/api/worklist", openapi_extra={"parameters": WorklistParams.openapi()})
    async def worklist(principal: listing_reader, request: Request) -> Response:
        query = WorklistParams.parse(request.query_params).query()
        found = pages.kept(query)
        body, shown = found if found is not None else await run_in_threadpool(pages.get, query)
        detail = f"status={query.status} sort={query.sort} offset={query.offset}: {shown} studies"
        who, source = principal.username, principal.source
        await write_async(ctx.store, record_for(who, source, "read", "worklist", "", detail=detail))
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
