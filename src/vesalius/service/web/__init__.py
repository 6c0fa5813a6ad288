"""The web UI: our pages (login, worklist, report editor, administration) and OHIF.

:func:`make_router` is the router factory the application includes, like every router of
the service: ``/login``, ``/``, ``/studies/{study_uid}``, ``/admin``, ``/static/...`` and the
OHIF viewer under ``/viewer/`` (:mod:`vesalius.service.web.viewer`). The viewer's dist is
looked for in ``web/node_modules/@ohif/app/dist`` (where ``bash tools/setup.sh`` installs it)
unless ``ctx.extras["ohif_dist"]`` names another folder.

Examples
--------
>>> import pathlib, tempfile
>>> from fastapi import FastAPI
>>> from fastapi.testclient import TestClient
>>> from vesalius.service.context import AppContext
>>> from vesalius.store import BlobStore, open_store, sqlite_url
>>> from fastapi import HTTPException
>>> def nobody(permission):
...     def refuse():
...         raise HTTPException(401, "not signed in")
...     return refuse
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> store = open_store(sqlite_url(root / "i.sqlite3"))
>>> app = FastAPI()
>>> app.include_router(make_router(AppContext(store, BlobStore(root / "b"), nobody)))
>>> client = TestClient(app, follow_redirects=False)
>>> client.get("/").headers["location"], client.get("/login").status_code
('/login?next=%2F', 200)
>>> store.close()
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from vesalius.service.context import AppContext
from vesalius.service.web.ohif import default_dist
from vesalius.service.web.pages import pages_router
from vesalius.service.web.viewer import viewer_router

OHIF_DIST_KEY = "ohif_dist"
"""``AppContext.extras`` key of the OHIF dist folder, when not the default one."""


def ohif_dist(ctx: AppContext) -> Path:
    """The OHIF ``dist/`` folder this application serves."""
    chosen = ctx.extras.get(OHIF_DIST_KEY)
    return Path(chosen) if chosen is not None else default_dist()


def make_router(ctx: AppContext) -> APIRouter:
    """The web UI's routes: pages, static files and the viewer."""
    router = APIRouter(include_in_schema=False)
    router.include_router(pages_router(ctx.authorize))
    router.include_router(viewer_router(ctx.authorize, dist=ohif_dist(ctx)))
    return router
