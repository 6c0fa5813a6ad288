"""The whole web application over a store, served by uvicorn on a free port, for a browser.

The service's own application (:func:`vesalius.service.app.create_app`, real accounts,
sessions and CSRF) with the worklist, report, export and web UI routers, and two accounts.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import FastAPI

from vesalius.service import exports_api, reports_api, web, worklist_api
from vesalius.service.app import DEFAULT_ROUTERS, create_app
from vesalius.service.run import HttpServer
from vesalius.settings import Settings
from vesalius.store import BlobStore, Store
from vesalius.store.roles import Role
from vesalius.store.users import add_user

RADIOLOGIST = ("dr.grey", "correct horse battery staple")
ADMIN = ("admin", "admin password 1")


def build_app(store: Store, blobs: BlobStore, data_dir: Path, *, dist: Path | None) -> FastAPI:
    """The application with every router of the UI; ``dist`` is OHIF's (None: the default)."""
    with store.session() as session:
        add_user(session, RADIOLOGIST[0], Role.RADIOLOGIST, RADIOLOGIST[1], full_name="M. Grey")
        add_user(session, ADMIN[0], Role.ADMIN, ADMIN[1], full_name="The Administrator")
    routers = (
        *DEFAULT_ROUTERS,
        worklist_api.make_router,
        reports_api.make_router,
        exports_api.make_router,
        web.make_router,
    )
    extras: dict[str, object] = {} if dist is None else {web.OHIF_DIST_KEY: dist}
    return create_app(
        store,
        blobs,
        min_free_bytes=0,
        settings=Settings(data_dir=data_dir),
        routers=routers,
        extras=extras,
    )


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """``app`` on 127.0.0.1 (a free port) while inside; yields the base URL."""
    with HttpServer(app, host="127.0.0.1", port=0) as server:
        yield server.url
