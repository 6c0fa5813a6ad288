"""Routes of the image viewer at ``/viewer/``: OHIF's dist, its config, or how to install it.

- ``GET /viewer`` redirects to ``/viewer/`` (query kept);
- ``GET /viewer/?StudyInstanceUIDs=...`` opens the study: redirect to OHIF's viewer route
  ``/viewer/viewer?StudyInstanceUIDs=...`` (OHIF's own root is its study list);
- ``GET /viewer/app-config.js`` is made by :func:`~vesalius.service.web.ohif.app_config_js`;
- ``GET /viewer/<file>`` serves the dist's file, its public path rewritten; any other path
  is one of OHIF's client-side routes and gets its ``index.html``;
- without the dist, every page says how to install it.

Every route needs a signed-in caller who may read studies (the browser's session cookie
travels with OHIF's requests, which go to the same origin).

Examples
--------
>>> import pathlib, tempfile
>>> from fastapi import FastAPI
>>> from fastapi.testclient import TestClient
>>> from vesalius.service.context import Principal
>>> from vesalius.store.roles import Role
>>> def authorize(permission):
...     return lambda: Principal("dr.grey", Role.RADIOLOGIST)
>>> app = FastAPI()
>>> app.include_router(viewer_router(authorize, dist=pathlib.Path(tempfile.mkdtemp())))
>>> answer = TestClient(app).get("/viewer/")
>>> answer.status_code, "bash tools/setup.sh" in answer.text
(503, True)
"""

import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

from vesalius.service.context import Authorize, Principal
from vesalius.service.web.files import inside, media_type
from vesalius.service.web.guard import PageRoute
from vesalius.service.web.ohif import OHIF_VERSION, app_config_js, has_dist, rewrite_public_path
from vesalius.store.roles import Permission

PREFIX = "/viewer"
_REWRITTEN = (".html", ".js", ".css", ".json")
_NO_SERVICE_WORKER = (
    "// Vesalius does not install OHIF's service worker: no caching past a session.\n"
)
_VIEWER_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
}


def missing_page(dist: Path) -> HTMLResponse:
    """503: the viewer is not installed, and the command that installs it."""
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>Image viewer not installed - Vesalius</title>"
        '<link rel="stylesheet" href="/static/public/style.css"></head>'
        '<body><main class="narrow"><h1>The image viewer is not installed</h1>'
        f"<p>Vesalius shows images with the OHIF viewer (npm package <code>@ohif/app</code> "
        f"{OHIF_VERSION}), which was not found in <code>{html.escape(str(dist))}</code>.</p>"
        "<p>Install it with Node.js 20 or later present (<code>node</code> and <code>npm</code> "
        "on the PATH), from the Vesalius folder:</p><pre>bash tools/setup.sh</pre>"
        "<p>then reload this page. The worklist and reports work without it.</p>"
        '<p><a href="/">Back to the worklist</a></p></main></body></html>'
    )
    return HTMLResponse(body, status_code=503, headers={"Cache-Control": "no-cache"})


@dataclass
class DistFiles:
    """The viewer's dist folder, its text files rewritten once for ``prefix`` and kept."""

    root: Path
    prefix: str = PREFIX + "/"
    _cache: dict[Path, tuple[int, bytes]] = field(default_factory=dict)

    def response(self, relative: str) -> Response | None:
        """The file ``relative`` of the dist, or None when there is none."""
        path = inside(self.root, relative)
        if path is None:
            return None
        kind = media_type(path.name)
        cache = "no-cache" if path.name == "index.html" else "private, max-age=3600"
        headers = {**_VIEWER_HEADERS, "Cache-Control": cache}
        if not path.name.endswith(_REWRITTEN):
            return FileResponse(path, media_type=kind, headers=headers)
        return Response(self._rewritten(path), media_type=kind, headers=headers)

    def _rewritten(self, path: Path) -> bytes:
        stamp = path.stat().st_mtime_ns
        kept = self._cache.get(path)
        if kept is not None and kept[0] == stamp:
            return kept[1]
        content = rewrite_public_path(path.name, path.read_bytes(), self.prefix)
        self._cache[path] = (stamp, content)
        return content


def _open_study_redirect(request: Request) -> RedirectResponse | None:
    if "StudyInstanceUIDs" not in request.query_params:
        return None
    return RedirectResponse(f"{PREFIX}/viewer?{request.url.query}", status_code=307)


def viewer_router(authorize: Authorize, *, dist: Path) -> APIRouter:
    """The ``/viewer`` routes over the OHIF ``dist`` folder (which may not exist yet)."""
    router = APIRouter(route_class=PageRoute, include_in_schema=False)
    reader = Annotated[Principal, Depends(authorize(Permission.READ_STUDIES))]
    files = DistFiles(dist)

    @router.get(PREFIX)
    def bare(request: Request, principal: reader) -> RedirectResponse:
        query = request.url.query
        return RedirectResponse(f"{PREFIX}/" + (f"?{query}" if query else ""), status_code=307)

    @router.get(PREFIX + "/app-config.js")
    def config(principal: reader) -> Response:
        body = app_config_js(router_basename=PREFIX)
        kind = media_type("app-config.js")
        return Response(body, media_type=kind, headers={"Cache-Control": "no-cache"})

    @router.get(PREFIX + "/init-service-worker.js")
    def service_worker(principal: reader) -> Response:
        return Response(_NO_SERVICE_WORKER, media_type=media_type("init-service-worker.js"))

    @router.get(PREFIX + "/{path:path}")
    def viewer(path: str, request: Request, principal: reader) -> Response:
        if not has_dist(dist):
            return missing_page(dist)
        if not path:
            opened = _open_study_redirect(request)
            if opened is not None:
                return opened
        if path == "sw.js":
            raise HTTPException(404, "no service worker")
        found = files.response(path) if path else None
        if found is not None:
            return found
        if "." in path.rsplit("/", 1)[-1]:
            raise HTTPException(404, f"the viewer has no file {path!r}")
        index = files.response("index.html")
        if index is None:
            return missing_page(dist)
        return index

    return router
