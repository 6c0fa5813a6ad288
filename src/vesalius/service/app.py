"""The FastAPI application: DICOMweb at ``/dicom-web`` and a ``/health`` route.

:func:`create_app` takes everything it serves as arguments (an opened
:class:`~vesalius.store.Store`, a :class:`~vesalius.store.BlobStore`, a free-disk floor),
never global configuration; the caller opens and closes the store.

Authentication plugs in through ``dependencies``: each is a FastAPI ``Depends(...)``
applied to every DICOMweb route (and to every router added later the same way), while
``/health`` stays open for load balancers and probes. A dependency that raises
``HTTPException(401)`` refuses the request before any route code runs.

Examples
--------
>>> import pathlib, tempfile
>>> from fastapi.testclient import TestClient
>>> from vesalius.store import BlobStore, open_store, sqlite_url
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> store = open_store(sqlite_url(root / "index.sqlite3"))
>>> app = create_app(store, BlobStore(root / "blobs"), min_free_bytes=0)
>>> with TestClient(app) as client:
...     client.get("/health").json()["status"], client.get("/dicom-web/studies").json()
('ok', [])
>>> store.close()
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from vesalius.ingest.dicomweb.context import DicomWebOptions
from vesalius.ingest.dicomweb.router import make_router
from vesalius.store import BlobStore, DuplicatePolicy, Store

log = logging.getLogger(__name__)

DICOMWEB_PREFIX = "/dicom-web"


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
    dependencies: Sequence[Any] = (),
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
    dependencies
        ``Depends(...)`` objects run before every DICOMweb route (authentication).
    """
    app = FastAPI(title="Vesalius", version="0.1.0", docs_url="/api/docs", redoc_url=None)
    options = DicomWebOptions(
        prefix=DICOMWEB_PREFIX,
        min_free_bytes=min_free_bytes,
        max_body_bytes=max_body_bytes,
        on_duplicate=on_duplicate,
    )
    app.include_router(make_router(store, blobs, options=options, dependencies=dependencies))

    def health() -> JSONResponse:
        return _health(store, blobs, min_free_bytes)

    app.add_api_route("/health", health, methods=["GET"], response_model=Health)
    return app
