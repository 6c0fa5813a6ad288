"""User accounts for administrators: ``/api/users`` (permission ``manage-users``).

- ``GET /api/users``: ``{"items": [{"username", "full_name", "role", "active",
  "created_at", "last_login_at"}]}``;
- ``POST /api/users {"username", "full_name", "role", "password"}``: 201, 409 if taken,
  422 for a short password or a bad username;
- ``PATCH /api/users/{username} {"role"?, "active"?, "password"?, "full_name"?}``: 200.
  An administrator cannot demote or disable their own account (no lock-out by mistake).

Every change is audited (object type ``user``; never the password).

Examples
--------
>>> import tempfile, pathlib
>>> from fastapi import FastAPI
>>> from fastapi.testclient import TestClient
>>> from vesalius.store import BlobStore, open_store, sqlite_url
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> store = open_store(sqlite_url(root / "i.sqlite3"))
>>> def authorize(permission):
...     return lambda: Principal("boss", Role.ADMIN, source="127.0.0.1")
>>> app = FastAPI()
>>> app.include_router(make_router(AppContext(store, BlobStore(root / "b"), authorize)))
>>> client = TestClient(app)
>>> new = {"username": "dr.grey", "full_name": "M. Grey", "role": "radiologist",
...        "password": "correct horse battery"}
>>> client.post("/api/users", json=new).status_code, client.post("/api/users", json=new).status_code
(201, 409)
>>> client.patch("/api/users/dr.grey", json={"active": False}).json()["active"]
False
>>> store.close()
"""

from datetime import datetime
from typing import Annotated, NoReturn

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field

from vesalius.errors import InputError, StoreError
from vesalius.service.auth.audit_log import FAILURE, audit
from vesalius.service.context import AppContext, Principal
from vesalius.store.roles import Permission, Role
from vesalius.store.users import (
    User,
    add_user,
    find_user,
    list_users,
    set_active,
    set_password,
    set_role,
)


class UserItem(BaseModel):
    """One account as the administration page shows it."""

    username: str
    full_name: str
    role: Role
    active: bool
    created_at: datetime
    last_login_at: datetime | None


class UserList(BaseModel):
    """The answer of ``GET /api/users``."""

    items: list[UserItem]


class NewUser(BaseModel):
    """A new account."""

    username: str = Field(min_length=1, max_length=64)
    full_name: str = Field(default="", max_length=128)
    role: Role
    password: str = Field(min_length=1, max_length=1024)


class UserChange(BaseModel):
    """What to change of an account (fields left out stay)."""

    role: Role | None = None
    active: bool | None = None
    password: str | None = Field(default=None, min_length=1, max_length=1024)
    full_name: str | None = Field(default=None, max_length=128)


def _item(user: User) -> UserItem:
    return UserItem(
        username=user.username,
        full_name=user.full_name,
        role=user.role,
        active=user.active,
        created_at=user.created_at,
        last_login_at=user.last_login_at,
    )


def _what(change: UserChange) -> str:
    parts = [f"role={change.role.value}"] if change.role is not None else []
    if change.active is not None:
        parts.append(f"active={change.active}")
    if change.full_name is not None:
        parts.append("full name")
    if change.password is not None:
        parts.append("password")
    return ", ".join(parts) or "nothing"


def make_router(ctx: AppContext) -> APIRouter:
    """The user administration routes."""
    router = APIRouter(tags=["users"])
    admin = Annotated[Principal, Depends(ctx.authorize(Permission.MANAGE_USERS))]

    def refused(
        principal: Principal, action: str, username: str, status: int, words: str
    ) -> NoReturn:
        audit(ctx, principal, action, "user", username, FAILURE, words)
        raise HTTPException(status, words)

    @router.get("/api/users", response_model=UserList)
    def users(principal: admin) -> UserList:
        with ctx.store.read_session() as session:
            return UserList(items=[_item(u) for u in list_users(session)])

    @router.post("/api/users", status_code=201, response_model=UserItem)
    def create(body: NewUser, principal: admin) -> UserItem:
        try:
            with ctx.store.session() as session:
                user = add_user(
                    session, body.username, body.role, body.password, full_name=body.full_name
                )
                audit(
                    ctx,
                    principal,
                    "create",
                    "user",
                    body.username,
                    detail=f"role={body.role.value}",
                    session=session,
                )
                return _item(user)
        except InputError as err:
            refused(principal, "create", body.username, 422, str(err))
        except StoreError as err:
            refused(principal, "create", body.username, 409, str(err))

    @router.patch("/api/users/{username}", response_model=UserItem)
    def change(username: str, body: UserChange, principal: admin) -> UserItem:
        if username == principal.username and (
            body.active is False or (body.role is not None and body.role != Role.ADMIN)
        ):
            refused(
                principal, "update", username, 409, "you cannot demote or disable your own account"
            )
        try:
            with ctx.store.session() as session:
                user = find_user(session, username)
                if user is None:
                    raise HTTPException(404, f"no user {username!r}")
                if body.password is not None:
                    set_password(session, username, body.password)
                if body.role is not None:
                    set_role(session, username, body.role)
                if body.active is not None:
                    set_active(session, username, body.active)
                if body.full_name is not None:
                    user.full_name = body.full_name
                audit(
                    ctx, principal, "update", "user", username, detail=_what(body), session=session
                )
                session.flush()
                return _item(user)
        except InputError as err:
            refused(principal, "update", username, 422, str(err))

    return router
