"""Pages that need a signed-in user: a browser without a session is sent to the login page.

The routers' access-control dependency (``AppContext.authorize``) answers 401 and 403 as
JSON, which is right for the API and wrong for a page a person typed into the address bar.
:class:`PageRoute` is an ``APIRoute`` that turns them, for a page, into a redirect to
``/login?next=<where they were going>`` (401) or a short HTML page that says what is not
allowed (403).

Examples
--------
>>> login_url("/studies/1.2.3?tab=report")
'/login?next=%2Fstudies%2F1.2.3%3Ftab%3Dreport'
>>> login_url("//evil.example/")
'/login'
"""

from __future__ import annotations

import html
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi import HTTPException, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute

LOGIN_PATH = "/login"


def safe_next(target: str) -> str | None:
    """``target`` when it is a path on this site (``/...``, not ``//host``), else None.

    Control characters are refused too: browsers drop tabs and newlines from URLs, so
    ``"/<TAB>/evil.example"`` would become ``//evil.example``.

    >>> safe_next("/studies/1.2"), safe_next("//evil.example")
    ('/studies/1.2', None)
    >>> safe_next("/" + chr(9) + "/evil.example") is None
    True
    """
    controls = any(ord(c) < 0x20 or ord(c) == 0x7F for c in target)
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return None if controls else target
    return None


def login_url(target: str) -> str:
    """The login page, asked to come back to ``target`` once signed in."""
    local = safe_next(target)
    return LOGIN_PATH if local is None else f"{LOGIN_PATH}?next={quote(local, safe='')}"


def forbidden_page(detail: str) -> HTMLResponse:
    """A plain 403 page that says what was refused and links back to the worklist."""
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>Not allowed - Vesalius</title>"
        '<link rel="stylesheet" href="/static/public/style.css"></head><body><main class="narrow">'
        f"<h1>Not allowed</h1><p>{html.escape(detail)}</p>"
        '<p><a href="/">Back to the worklist</a></p></main></body></html>'
    )
    return HTMLResponse(body, status_code=403)


def _where(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


class PageRoute(APIRoute):
    """An ``APIRoute`` whose 401 is a redirect to the login page and whose 403 is HTML."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except HTTPException as err:
                if err.status_code == 401:
                    return RedirectResponse(login_url(_where(request)), status_code=303)
                if err.status_code == 403:
                    return forbidden_page(str(err.detail))
                raise

        return page_handler
