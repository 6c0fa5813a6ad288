"""The DICOMweb router: QIDO-RS, WADO-RS and STOW-RS routes over one store.

:func:`make_router` builds a FastAPI ``APIRouter`` with every route under
``options.prefix`` (``/dicom-web`` by default). Route-level ``dependencies`` run before
every route: that is where authentication plugs in (the service passes its auth
dependency there, so no route can be reached without it).

Examples
--------
>>> import pathlib, tempfile
>>> from vesalius.store import BlobStore, open_store, sqlite_url
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> store = open_store(sqlite_url(root / "i.sqlite3"))
>>> router = make_router(store, BlobStore(root / "blobs"))
>>> "/dicom-web/studies" in {route.path for route in router.routes}
True
>>> store.close()
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter

from vesalius.ingest.dicomweb.context import DicomWebContext, DicomWebOptions
from vesalius.ingest.dicomweb.routes_qido import add_qido_routes
from vesalius.ingest.dicomweb.routes_stow import add_stow_routes
from vesalius.ingest.dicomweb.routes_wado import add_wado_routes
from vesalius.store import BlobStore, Store


def make_router(
    store: Store,
    blobs: BlobStore,
    *,
    options: DicomWebOptions | None = None,
    dependencies: Sequence[Any] = (),
) -> APIRouter:
    """The DICOMweb routes over ``store`` and ``blobs``.

    Parameters
    ----------
    store, blobs
        The index and the blob store the routes read and write.
    options
        Prefix, free-disk floor, body size limit (see :class:`DicomWebOptions`).
    dependencies
        FastAPI ``Depends(...)`` objects run before every route (authentication).
    """
    ctx = DicomWebContext(store, blobs, options or DicomWebOptions())
    router = APIRouter(
        prefix=ctx.options.prefix, tags=["dicomweb"], dependencies=list(dependencies)
    )
    add_qido_routes(router, ctx)
    add_stow_routes(router, ctx)
    add_wado_routes(router, ctx)
    return router
