"""The access-control dependency: who is calling, may they, and CSRF for the browser.

:class:`Gate` is the application's :data:`~vesalius.service.context.Authorize`:
``gate(permission)`` is a FastAPI dependency that returns the
:class:`~vesalius.service.context.Principal` or refuses:

- ``Authorization: Bearer <token>``: an API token (``vesalius user token``);
- ``Authorization: Basic``: username and password (for DICOMweb clients); a successful
  check is remembered for a minute, so a client sending every request with Basic does not
  pay an argon2 verification each time (a changed password is noticed at once);
- the ``vesalius_session`` cookie of a signed-in browser; a POST, PUT, PATCH or DELETE
  must then carry the session's CSRF token in ``X-CSRF-Token`` (403 otherwise).

Looking a caller up reads the index without taking its write lock; only recording a use
(at most once a minute per session or token) and password checks write.

No credentials, or wrong ones: 401. A role without the permission: 403. Wrong credentials,
CSRF failures and 403s are written to the audit trail with the client address.

Examples
--------
>>> import tempfile, pathlib
>>> from fastapi import Depends, FastAPI
>>> from fastapi.testclient import TestClient
>>> from vesalius.store import open_store, sqlite_url
>>> from vesalius.store.users import add_user, create_token
>>> store = open_store(sqlite_url(pathlib.Path(tempfile.mkdtemp()) / "i.sqlite3"))
>>> with store.session() as s:
...     _ = add_user(s, "scanner", Role.SERVICE, "a long service password")
...     token = create_token(s, "scanner")
>>> gate, app = Gate(store), FastAPI()
>>> @app.get("/who")
... def who(p: Principal = Depends(gate(Permission.READ_STUDIES))) -> str:
...     return p.username
>>> client = TestClient(app)
>>> client.get("/who").status_code, client.get("/who", auth=("scanner", "nope")).status_code
(401, 401)
>>> client.get("/who", headers={"Authorization": f"Bearer {token}"}).json()
'scanner'
>>> client.get("/who", auth=("scanner", "a long service password")).json()
'scanner'
>>> store.close()
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import threading
import time
from collections.abc import Callable

from fastapi import HTTPException, Request

from vesalius.service.auth.audit_log import FAILURE, record_for, write
from vesalius.service.auth.throttle import LoginThrottle
from vesalius.service.context import Principal
from vesalius.store import Store
from vesalius.store.roles import Permission, Role
from vesalius.store.users import (
    SignedIn,
    check_session,
    check_token,
    find_user,
    session_user,
    touch_token,
    verify_credentials,
)

SESSION_COOKIE = "vesalius_session"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
BASIC_MEMORY_S = 60.0
"""How long a verified Basic username and password are remembered."""


def client_address(request: Request) -> str:
    """The address of the caller (for the audit trail and throttling)."""
    return request.client.host if request.client is not None else ""


def unauthorized(detail: str) -> HTTPException:
    """A 401 that names the schemes this service accepts (Bearer: no browser prompt)."""
    return HTTPException(401, detail, headers={"WWW-Authenticate": 'Bearer realm="vesalius"'})


class BasicMemory:
    """Remembers verified Basic credentials briefly (keyed by a hash, never the password)."""

    def __init__(self, seconds: float = BASIC_MEMORY_S) -> None:
        self.seconds = seconds
        self._seen: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(username: str, password: str) -> str:
        return hashlib.sha256(f"{username}\0{password}".encode()).hexdigest()

    def recall(self, username: str, password: str) -> str | None:
        """The password hash the pair matched, if verified in the last ``seconds``."""
        with self._lock:
            found = self._seen.get(self._key(username, password))
        if found is None or found[1] < time.monotonic():
            return None
        return found[0]

    def remember(self, username: str, password: str, password_hash: str) -> None:
        """Note that the pair matched ``password_hash`` just now."""
        with self._lock:
            if len(self._seen) > 10_000:
                self._seen.clear()
            self._seen[self._key(username, password)] = (
                password_hash,
                time.monotonic() + self.seconds,
            )


class Gate:
    """The real :data:`~vesalius.service.context.Authorize` over ``store``'s accounts."""

    def __init__(self, store: Store, *, throttle: LoginThrottle | None = None) -> None:
        self.store = store
        self.throttle = throttle or LoginThrottle()
        self.basic = BasicMemory()
        self._dependencies: dict[Permission, Callable[[Request], Principal]] = {}

    def __call__(self, permission: Permission) -> Callable[[Request], Principal]:
        """The dependency that returns a caller allowed ``permission`` (one per permission)."""
        found = self._dependencies.get(permission)
        if found is None:
            found = self._dependencies[permission] = self._dependency(permission)
        return found

    def _dependency(self, permission: Permission) -> Callable[[Request], Principal]:
        def authorized(request: Request) -> Principal:
            principal = self.identify(request)
            if not principal.may(permission):
                self.refuse(
                    request, principal.username, f"role {principal.role} lacks {permission}"
                )
                raise HTTPException(403, f"a {principal.role} may not {permission}")
            return principal

        authorized.__name__ = f"authorize_{permission.value.replace('-', '_')}"
        return authorized

    def refuse(self, request: Request, who: str, detail: str) -> None:
        """Write a refused request to the audit trail."""
        record = record_for(
            who,
            client_address(request),
            "access",
            "route",
            f"{request.method} {request.url.path}",
            outcome=FAILURE,
            detail=detail,
        )
        write(self.store, record)

    def identify(self, request: Request) -> Principal:
        """Who is calling (401 without valid credentials; 403 on a CSRF failure)."""
        header = request.headers.get("authorization")
        if header:
            scheme, _, value = header.partition(" ")
            if scheme.lower() == "bearer":
                return self._bearer(request, value.strip())
            if scheme.lower() == "basic":
                return self._basic(request, value.strip())
            raise unauthorized(f"unsupported authorization scheme {scheme!r}")
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            return self._session(request, token)
        raise unauthorized("sign in first")

    def _bearer(self, request: Request, token: str) -> Principal:
        with self.store.read_session() as session:  # no write lock for a lookup
            found = check_token(session, token)
        if found is None:
            wait = self.throttle.address_failed(client_address(request))
            if wait > 0:  # refused without an audit row each: guessing must not fill the log
                raise HTTPException(
                    429,
                    "too many bad API tokens; try again later",
                    headers={"Retry-After": str(int(wait) + 1)},
                )
            self.refuse(request, "anonymous", "unknown or revoked API token")
            raise unauthorized("unknown or revoked API token")
        if found.touch:
            with self.store.session() as session:
                touch_token(session, token)
        return Principal(
            found.username, found.role, found.full_name, source=client_address(request), via="token"
        )

    def _basic(self, request: Request, value: str) -> Principal:
        try:
            username, sep, password = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise unauthorized("malformed Basic credentials") from None
        if not sep:
            raise unauthorized("malformed Basic credentials")
        found = self.check_password(request, username, password)
        if found is None:
            raise unauthorized("wrong username or password")
        role, full_name = found
        return Principal(username, role, full_name, source=client_address(request), via="basic")

    def check_password(
        self, request: Request, username: str, password: str
    ) -> tuple[Role, str] | None:
        """Role and full name if the password is right (throttled, failures audited).

        Raises 429 while ``username`` or the caller's address has too many recent failures.
        """
        address = client_address(request)
        wait = self.throttle.wait_s(username, address)
        if wait > 0:
            raise HTTPException(
                429,
                "too many failed logins; try again later",
                headers={"Retry-After": str(int(wait) + 1)},
            )
        remembered = self.basic.recall(username, password)
        if remembered is not None:
            with self.store.read_session() as session:
                known = find_user(session, username)
                if known is not None and known.active and known.password_hash == remembered:
                    return known.role, known.full_name
        with self.store.session() as session:
            user = verify_credentials(session, username, password)
            found = None if user is None else (user.role, user.full_name, user.password_hash)
        if found is None:
            self.throttle.failed(username, address)
            write(
                self.store,
                record_for(
                    username,
                    address,
                    "login",
                    "user",
                    username,
                    outcome=FAILURE,
                    detail="wrong username or password",
                ),
            )
            return None
        self.throttle.succeeded(username)
        self.basic.remember(username, password, found[2])
        return found[0], found[1]

    def signed_in(self, token: str) -> SignedIn | None:
        """The user and CSRF token of the browser session of cookie ``token``, if live."""
        with self.store.read_session() as session:  # no write lock for a lookup
            found = check_session(session, token)
        if not (found.stale or found.touch):
            return found.signed_in
        with self.store.session() as session:  # delete it, or push its expiry
            return session_user(session, token)

    def _session(self, request: Request, token: str) -> Principal:
        signed_in = self.signed_in(token)
        if signed_in is None:
            raise unauthorized("session expired or signed out; sign in again")
        if request.method in UNSAFE_METHODS:
            given = request.headers.get(CSRF_HEADER, "")
            if not hmac.compare_digest(given.encode(), signed_in.csrf_token.encode()):
                self.refuse(request, signed_in.username, "missing or wrong CSRF token")
                raise HTTPException(403, f"missing or wrong {CSRF_HEADER} header")
        return Principal(
            signed_in.username,
            signed_in.role,
            signed_in.full_name,
            source=client_address(request),
            via="session",
        )
