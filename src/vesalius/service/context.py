"""What every router of the web application is built from.

A router module exposes a factory ``make_router(ctx: AppContext) -> APIRouter``; routes that
need a signed-in caller declare ``principal: Principal = Depends(ctx.authorize(PERMISSION))``.
``authorize`` is the access-control seam: the application passes the real one (sessions,
tokens, CSRF, audit of refusals); a router's own unit tests may pass another.

Examples
--------
>>> p = Principal("jdoe", Role.RADIOLOGIST, "Jane Doe", source="127.0.0.1", via="session")
>>> p.may(Permission.SIGN_REPORT), p.may(Permission.MANAGE_USERS)
(True, False)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from vesalius.settings import Settings
from vesalius.store import BlobStore, Store
from vesalius.store.roles import Permission, Role, may


@dataclass(frozen=True)
class Principal:
    """Who is calling: a signed-in user (browser session), or an API token or Basic caller.

    ``source`` is the client address (for the audit log); ``via`` says how the caller
    authenticated: ``"session"``, ``"token"`` or ``"basic"``.
    """

    username: str
    role: Role
    full_name: str = ""
    source: str = ""
    via: str = "session"

    def may(self, permission: Permission) -> bool:
        """Whether this caller's role has ``permission``."""
        return may(self.role, permission)


Authorize = Callable[[Permission], Callable[..., Any]]
"""``authorize(permission)`` is a FastAPI dependency that yields the :class:`Principal`,
or refuses with 401 (not signed in) or 403 (role lacks ``permission``)."""


@dataclass(frozen=True, eq=False)
class AppContext:
    """The opened store and blob store, the settings and the access-control seam."""

    store: Store
    blobs: BlobStore
    authorize: Authorize
    settings: Settings = field(default_factory=Settings)
    extras: dict[str, Any] = field(default_factory=dict)
    """Shared services routers hand each other (the event hub under ``"events"``)."""
