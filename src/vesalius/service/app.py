"""The FastAPI application: DICOMweb at ``/dicom-web``, the API routers, ``/health``.

:func:`create_app` takes everything it serves as arguments (an opened
:class:`~vesalius.store.Store`, a :class:`~vesalius.store.BlobStore`, a free-disk floor,
the settings), never global configuration; the caller opens and closes the store.

Access control: every route but ``/health`` and the login (the OpenAPI schema at
``/openapi.json`` and its page at ``/api/docs`` included) needs a signed-in caller
(:class:`~vesalius.service.auth.gate.Gate`: browser session with CSRF, API token, Basic).
DICOMweb reads need ``read-studies``, STOW-RS ``store-instances``; the routers, built from
``routers`` (factories ``make_router(ctx: AppContext) -> APIRouter``), ask for their own.

Examples
--------
>>> import pathlib, tempfile
>>> from fastapi.testclient import TestClient
>>> from vesalius.store import BlobStore, open_store, sqlite_url
>>> from vesalius.store.roles import Role
>>> from vesalius.store.users import add_user, create_token
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> store = open_store(sqlite_url(root / "index.sqlite3"))
>>> with store.session() as s:
...     _ = add_user(s, "pacs", Role.SERVICE, "a long service password")
...     token = create_token(s, "pacs")
>>> app = create_app(store, BlobStore(root / "blobs"), min_free_bytes=0)
>>> with TestClient(app) as client:
...     client.get("/health").json()["status"], client.get("/dicom-web/studies").status_code
('ok', 401)
>>> with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
...     client.get("/dicom-web/studies").json()
[]
>>> store.close()
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from vesalius.ingest.dicomweb.context import DicomWebOptions
from vesalius.ingest.dicomweb.router import make_router
from vesalius.service import exports_api, reports_api, web, worklist_api
from vesalius.service.auth import audit_api, session_api, users_api
from vesalius.service.auth.dicomweb_guard import dicomweb_guard
from vesalius.service.auth.gate import Gate
from vesalius.service.auth.proxy import TrustedProxies
from vesalius.service.context import AppContext, Authorize
from vesalius.service.events import EventHub
from vesalius.settings import Settings
from vesalius.store import BlobStore, DuplicatePolicy, Store
from vesalius.store.roles import Permission

log = logging.getLogger(__name__)

DICOMWEB_PREFIX = "/dicom-web"
OPENAPI_PATH = "/openapi.json"
DOCS_PATH = "/api/docs"

RouterFactory = Callable[[AppContext], APIRouter]
"""``make_router(ctx)`` of a router module."""

DEFAULT_ROUTERS: tuple[RouterFactory, ...] = (
    session_api.make_router,
    users_api.make_router,
    audit_api.make_router,
    worklist_api.make_router,
    reports_api.make_router,
    exports_api.make_router,
    web.make_router,
)
"""The routers :func:`create_app` includes unless told otherwise."""


class Health(BaseModel):
    """The answer of ``GET /health``."""

    status: str
    index: str
    free_bytes: int
    min_free_bytes: int


def _health(store: Store, blobs: BlobStore, min_free_bytes: int) -> JSONResponse:
    try:
        with store.read_session() as session:
            session.execute(text("SELECT 1"))
        index = "ok"
    except SQLAlchemyError as err:
        log.error("health: index unreachable: %s", err)
        index = "unreachable"
    free = blobs.free_bytes()
    healthy = index == "ok" and free >= min_free_bytes
    body = Health(
        status="ok" if healthy else "degraded",
        index=index,
        free_bytes=free,
        min_free_bytes=min_free_bytes,
    )
    return JSONResponse(body.model_dump(), status_code=200 if healthy else 503)


def create_app(
    store: Store,
    blobs: BlobStore,
    *,
    min_free_bytes: int,
    max_body_bytes: int = 1 << 30,
    on_duplicate: DuplicatePolicy = DuplicatePolicy.KEEP_FIRST,
    settings: Settings | None = None,
    routers: Sequence[RouterFactory] = DEFAULT_ROUTERS,
    authorize: Authorize | None = None,
    extras: dict[str, Any] | None = None,
) -> FastAPI:
    """The Vesalius web application over ``store`` and ``blobs``.

    Parameters
    ----------
    store, blobs
        The opened index and blob store (the caller closes them).
    min_free_bytes
        STOW-RS refuses with 507 when less disk than this is free; ``/health`` reports 503.
    max_body_bytes
        The largest STOW-RS request body accepted.
    on_duplicate
        What STOW-RS does with an instance whose SOP Instance UID is already stored.
    settings
        The settings the routers read (defaults when not given).
    routers
        Factories of the API routers to include, each given the :class:`AppContext`.
    authorize
        The access control; the store's accounts (:class:`Gate`) unless given. Another
        one must return dependencies that take the request (DICOMweb calls them).
    extras
        Shared services for the routers (``AppContext.extras``); an :class:`EventHub` is
        made under ``"events"`` unless one is given.
    """
    app = FastAPI(
        title="Vesalius", version="0.1.0", openapi_url=None, docs_url=None, redoc_url=None
    )
    ctx = AppContext(
        store,
        blobs,
        authorize if authorize is not None else Gate(store),
        settings if settings is not None else Settings(),
        {"events": EventHub(), **(extras or {})},
    )
    app.state.context = ctx
    options = DicomWebOptions(
        prefix=DICOMWEB_PREFIX,
        min_free_bytes=min_free_bytes,
        max_body_bytes=max_body_bytes,
        on_duplicate=on_duplicate,
    )
    guard = dicomweb_guard(ctx)
    app.include_router(make_router(store, blobs, options=options, dependencies=[guard]))
    for factory in routers:
        app.include_router(factory(ctx))

    def health() -> JSONResponse:
        return _health(store, blobs, min_free_bytes)

    app.add_api_route("/health", health, methods=["GET"], response_model=Health)
    _add_docs(app, ctx)
    if ctx.settings.trusted_proxies:
        app.add_middleware(TrustedProxies, trusted=ctx.settings.trusted_proxies)
    return app


def _add_docs(app: FastAPI, ctx: AppContext) -> None:
    """The OpenAPI schema and its browsable page, for signed-in users only."""
    signed_in = [Depends(ctx.authorize(Permission.READ_STUDIES))]  # every role has it

    def schema() -> JSONResponse:
        return JSONResponse(app.openapi())

    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=OPENAPI_PATH, title="Vesalius API")

    for path, route in ((OPENAPI_PATH, schema), (DOCS_PATH, docs)):
        app.add_api_route(
            path, route, methods=["GET"], dependencies=signed_in, include_in_schema=False
        )
