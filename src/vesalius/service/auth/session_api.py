"""Signing in and out of the browser: ``/api/login``, ``/api/logout``, ``/api/session``.

- ``POST /api/login {"username", "password"}``: 200 with the user and the session's CSRF
  token, and the ``vesalius_session`` cookie (HttpOnly, SameSite=Strict, Path=/, Secure over
  https). A wrong password and an unknown user get the same 401; every failure is audited;
  repeated failures for one user or from one address get 429 for a while.
- ``POST /api/logout``: ends the session (cookie and CSRF token needed), 204.
- ``GET /api/session``: the same body as the login, 401 without a live session.

Examples
--------
>>> import tempfile, pathlib
>>> from fastapi import FastAPI
>>> from fastapi.testclient import TestClient
>>> from vesalius.store import BlobStore, open_store, sqlite_url
>>> from vesalius.store.roles import Role
>>> from vesalius.store.users import add_user
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> store = open_store(sqlite_url(root / "i.sqlite3"))
>>> with store.session() as s:
...     _ = add_user(s, "dr.grey", Role.RADIOLOGIST, "correct horse battery")
>>> app = FastAPI()
>>> app.include_router(make_router(AppContext(store, BlobStore(root / "b"), Gate(store))))
>>> client = TestClient(app)
>>> client.post("/api/login", json={"username": "dr.grey", "password": "nope"}).status_code
401
>>> body = client.post(
...     "/api/login", json={"username": "dr.grey", "password": "correct horse battery"}
... ).json()
>>> body["user"]["role"], client.get("/api/session").json() == body
('radiologist', True)
>>> client.post("/api/logout", headers={"X-CSRF-Token": body["csrf_token"]}).status_code
204
>>> client.get("/api/session").status_code
401
>>> store.close()
"""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel, Field

from vesalius.service.auth.audit_log import record_for, write
from vesalius.service.auth.gate import SESSION_COOKIE, Gate, client_address
from vesalius.service.context import AppContext, Principal
from vesalius.store.users import SESSION_MAX, create_session, end_session

GATE_KEY = "auth.gate"


def gate_of(ctx: AppContext) -> Gate:
    """The application's :class:`Gate` (a new one over the store if ``authorize`` is another)."""
    if isinstance(ctx.authorize, Gate):
        return ctx.authorize
    found = ctx.extras.get(GATE_KEY)
    if not isinstance(found, Gate):
        found = ctx.extras.setdefault(GATE_KEY, Gate(ctx.store))
    return found


class Credentials(BaseModel):
    """What the login form sends."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class UserView(BaseModel):
    """Who is signed in."""

    username: str
    full_name: str
    role: str


class SessionView(BaseModel):
    """The answer of a login and of ``GET /api/session``."""

    user: UserView
    csrf_token: str


def _set_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(SESSION_MAX.total_seconds()),
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def make_router(ctx: AppContext) -> APIRouter:
    """The login, logout and session routes."""
    gate = gate_of(ctx)
    router = APIRouter(tags=["auth"])

    def signed_in(request: Request) -> Principal:
        principal = gate.identify(request)
        if principal.via != "session":
            raise HTTPException(400, "no browser session: this request was not made with one")
        return principal

    @router.post("/api/login", response_model=SessionView)
    def login(body: Credentials, request: Request, response: Response) -> SessionView:
        found = gate.check_password(request, body.username, body.password)
        if found is None:
            raise HTTPException(401, "wrong username or password")
        address = client_address(request)
        with ctx.store.session() as session:
            token, csrf = create_session(session, body.username, source=address)
            write(
                ctx.store,
                record_for(body.username, address, "login", "user", body.username),
                session=session,
            )
        _set_cookie(response, request, token)
        role, full_name = found
        return SessionView(
            user=UserView(username=body.username, full_name=full_name, role=role.value),
            csrf_token=csrf,
        )

    @router.post("/api/logout", status_code=204, response_class=Response)
    def logout(request: Request, principal: Annotated[Principal, Depends(signed_in)]) -> Response:
        with ctx.store.session() as session:
            end_session(session, request.cookies.get(SESSION_COOKIE, ""))
            write(
                ctx.store,
                record_for(
                    principal.username, principal.source, "logout", "user", principal.username
                ),
                session=session,
            )
        answer = Response(status_code=204)
        answer.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
        return answer

    @router.get("/api/session", response_model=SessionView)
    def current(request: Request) -> SessionView:
        token = request.cookies.get(SESSION_COOKIE)
        if not token:
            raise HTTPException(401, "not signed in")
        found = gate.signed_in(token)
        if found is None:
            raise HTTPException(401, "session expired or signed out; sign in again")
        return SessionView(
            user=UserView(
                username=found.username, full_name=found.full_name, role=found.role.value
            ),
            csrf_token=found.csrf_token,
        )

    return router
