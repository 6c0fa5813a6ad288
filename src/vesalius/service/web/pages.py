"""Our own pages (login, worklist, report editor, administration) and their static files.

Pages are plain HTML files in ``static/`` that load vanilla JavaScript modules; the data
comes from the JSON API. A page that needs a signed-in user sends a browser without a
session to ``/login?next=...`` (:class:`~vesalius.service.web.guard.PageRoute`).
The login page's own files are under ``/static/public/`` and need no session; every other
file under ``/static/`` does.

Examples
--------
>>> sorted(PAGES)
['/', '/admin', '/studies/{study_uid}']
"""

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import FileResponse, Response

from vesalius.service.context import Authorize, Principal
from vesalius.service.web.files import PAGE_SECURITY_HEADERS, inside, media_type
from vesalius.service.web.guard import PageRoute
from vesalius.store.roles import Permission

STATIC_DIR = Path(__file__).resolve().parent / "static"
PUBLIC_DIR = STATIC_DIR / "public"

PAGES: dict[str, tuple[str, Permission]] = {
    "/": ("worklist.html", Permission.READ_STUDIES),
    "/studies/{study_uid}": ("study.html", Permission.READ_STUDIES),
    "/admin": ("admin.html", Permission.READ_AUDIT),
}
"""Each page's path, its HTML file and the permission it needs."""


def _file(folder: Path, name: str) -> Response:
    path = inside(folder, name)
    if path is None or (path.parent == STATIC_DIR and path.suffix == ".html"):
        raise HTTPException(404, f"no file {name!r}")
    cache = "no-cache" if path.suffix in {".html", ".js", ".css"} else "max-age=3600"
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": cache}
    return FileResponse(path, media_type=media_type(path.name), headers=headers)


def _page(name: str) -> FileResponse:
    path = STATIC_DIR / name
    return FileResponse(path, media_type=media_type(name), headers=PAGE_SECURITY_HEADERS)


def _add_page(
    router: APIRouter, authorize: Authorize, path: str, name: str, need: Permission
) -> None:
    signed_in = Annotated[Principal, Depends(authorize(need))]

    def page(principal: signed_in) -> FileResponse:
        return _page(name)

    router.add_api_route(path, page, methods=["GET"], name=f"page:{name}")


def pages_router(authorize: Authorize) -> APIRouter:
    """The page routes and ``/static/`` files."""
    router = APIRouter(route_class=PageRoute, include_in_schema=False)
    for path, (name, need) in PAGES.items():
        _add_page(router, authorize, path, name, need)
    reader = Annotated[Principal, Depends(authorize(Permission.READ_STUDIES))]

    @router.get("/login")
    def login() -> FileResponse:
        return _page("login.html")

    @router.get("/static/public/{name}")
    def public_file(name: str) -> Response:
        return _file(PUBLIC_DIR, name)

    @router.get("/static/{name}")
    def private_file(name: str, principal: reader) -> Response:
        return _file(STATIC_DIR, name)

    return router
