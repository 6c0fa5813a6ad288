"""The access-control dependency: who is calling, may they, and CSRF for the browser.

:class:`Gate` is the application's :data:`~vesalius.service.context.Authorize`:
``gate(permission)`` is a FastAPI dependency that returns the
:class:`~vesalius.service.context.Principal` or refuses:

- ``Authorization: Bearer <token>``: an API token (``vesalius user token``);
- ``Authorization: Basic``: username and password (for DICOMweb clients); a successful
  check is remembered for a minute, so a client sending every request with Basic does not
  pay an argon2 verification each time (a changed password is noticed at once); failures
  are throttled per address and account pair, so a stranger's guesses never lock a
  service account out (:mod:`.throttle`);
- the ``vesalius_session`` cookie of a signed-in browser; a POST, PUT, PATCH or DELETE
  must then carry the session's CSRF token in ``X-CSRF-Token`` (403 otherwise).

Looking a caller up reads the index without taking its write lock; only recording a use
(at most once a minute per session or token) and password checks write. A live session or
token that was looked up is then trusted for :data:`LOOKUP_MEMORY_S` seconds without
reading the index (:class:`LookupMemory`, keyed by the token's hash): a change to accounts,
sessions or tokens committed in this process (sign-out, a disabled user, a new role or
password, a revoked token) forgets every remembered lookup at once; one committed by
another process (the ``vesalius user`` command) is seen within those seconds, and a
session may outlive its expiry by as much.

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
import random
import threading
import time
from collections.abc import Callable
from typing import Any

from fastapi import HTTPException, Request
from sqlalchemy import event, inspect
from sqlalchemy.orm import ORMExecuteState, Session
from starlette.concurrency import run_in_threadpool

from vesalius.service.auth.audit_log import FAILURE, record_for, write
from vesalius.service.auth.throttle import LoginThrottle
from vesalius.service.context import Principal
from vesalius.store import Store
from vesalius.store.roles import Permission, Role
from vesalius.store.users import (
    ApiToken,
    SignedIn,
    User,
    UserSession,
    check_session,
    check_token,
    find_user,
    session_user,
    token_hash,
    touch_token,
    verify_credentials,
)

SESSION_COOKIE = "vesalius_session"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
BASIC_MEMORY_S = 60.0
"""How long a verified Basic username and password are remembered."""
LOOKUP_MEMORY_S = 5.0
"""How long a looked-up session or API token is trusted without reading the index."""
_CHANGED = "vesalius.accounts-changed"


class _AccountChanges:
    """Counts the commits, in this process, that changed who may sign in as what."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def bump(self) -> None:
        with self._lock:
            self.count += 1


ACCOUNT_CHANGES = _AccountChanges()


def _changes_access(obj: object, *, dirty: bool) -> bool:
    """Whether a new, changed or deleted ``obj`` may change what a lookup answers."""
    if isinstance(obj, User):
        return True
    if isinstance(obj, UserSession):  # a change is a use pushing its expiry: no
        return not dirty
    if isinstance(obj, ApiToken):  # a change is a use, unless it revokes the token
        return not dirty or inspect(obj).attrs.revoked.history.has_changes()
    return False


@event.listens_for(Session, "after_flush")
def _note_account_changes(session: Session, _context: Any) -> None:
    new_or_gone = (*session.new, *session.deleted)
    if any(_changes_access(o, dirty=False) for o in new_or_gone) or any(
        _changes_access(o, dirty=True) for o in session.dirty
    ):
        session.info[_CHANGED] = True


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_account_changes(state: ORMExecuteState) -> None:
    """An UPDATE or DELETE statement on accounts, sessions or tokens (whatever it changes)."""
    if (state.is_update or state.is_delete) and any(
        mapper.class_ in (User, UserSession, ApiToken) for mapper in state.all_mappers
    ):
        state.session.info[_CHANGED] = True


@event.listens_for(Session, "after_commit")
def _count_account_changes(session: Session) -> None:
    if session.info.pop(_CHANGED, False):
        ACCOUNT_CHANGES.bump()


@event.listens_for(Session, "after_rollback")
def _forget_account_changes(session: Session) -> None:
    session.info.pop(_CHANGED, None)


class LookupMemory:
    """Live sessions and API tokens looked up lately (keyed by the token's hash).

    An entry is trusted for at most ``seconds`` (between half that and all of it, drawn
    for each, so that the callers who signed in together are not all looked up again at
    the same moment) and only while no account change was committed in this process
    since the lookup began (:data:`ACCOUNT_CHANGES`).
    """

    def __init__(
        self, seconds: float = LOOKUP_MEMORY_S, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.seconds = seconds
        self._clock = clock
        self._known: dict[str, tuple[float, int, SignedIn]] = {}
        self._lock = threading.Lock()

    def version(self) -> int:
        """Read before a lookup; hand it to :meth:`remember` with what the lookup found."""
        return ACCOUNT_CHANGES.count

    def recall(self, key: str) -> SignedIn | None:
        """Who ``key`` (a kind and a token hash) belongs to, if looked up lately."""
        with self._lock:
            found = self._known.get(key)
        if found is None or found[0] <= self._clock() or found[1] != ACCOUNT_CHANGES.count:
            return None
        return found[2]

    def remember(self, key: str, version: int, signed_in: SignedIn) -> None:
        """Note what a lookup that began at account version ``version`` found."""
        with self._lock:
            if len(self._known) > 10_000:
                self._known.clear()
            until = self._clock() + self.seconds * random.uniform(0.5, 1.0)
            self._known[key] = (until, version, signed_in)


def client_address(request: Request) -> str:
    """The address of the caller (for the audit trail and throttling).

    Behind a configured trusted proxy this is already the real client (:mod:`.proxy`).
    """
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


class Authorized:
    """The dependency of one permission: calling it checks the caller (see :class:`Gate`).

    :meth:`asynchronous` is the same check for a route on the event loop: a caller
    remembered by the gate's :class:`LookupMemory` is answered at once, any other is
    checked in a worker thread.
    """

    def __init__(self, gate: Gate, permission: Permission) -> None:
        self.gate, self.permission = gate, permission

    def __call__(self, request: Request) -> Principal:
        """The caller if allowed; else 401, 403 (written to the audit trail) or 429."""
        principal = self.gate.identify(request)
        if not principal.may(self.permission):
            role, permission = principal.role, self.permission
            self.gate.refuse(request, principal.username, f"role {role} lacks {permission}")
            raise HTTPException(403, f"a {role} may not {permission}")
        return principal

    async def asynchronous(self, request: Request) -> Principal:
        """:meth:`__call__` without a thread when the caller is remembered and allowed."""
        principal = self.gate.recall(request)
        if principal is not None and principal.may(self.permission):
            return principal
        return await run_in_threadpool(self, request)


class Gate:
    """The real :data:`~vesalius.service.context.Authorize` over ``store``'s accounts."""

    def __init__(self, store: Store, *, throttle: LoginThrottle | None = None) -> None:
        self.store = store
        self.throttle = throttle or LoginThrottle()
        self.basic = BasicMemory()
        self.lookups = LookupMemory()
        self._dependencies: dict[Permission, Authorized] = {}

    def __call__(self, permission: Permission) -> Callable[[Request], Principal]:
        """The dependency that returns a caller allowed ``permission`` (one per permission)."""
        found = self._dependencies.get(permission)
        if found is None:
            found = self._dependencies[permission] = self._dependency(permission)
        return found

    def _dependency(self, permission: Permission) -> Authorized:
        return Authorized(self, permission)

    def recall(self, request: Request) -> Principal | None:
        """Who is calling, when a remembered lookup says so without touching the index.

        ``None`` whenever :meth:`identify` has more to do (a lookup, a refusal, Basic).
        """
        header = request.headers.get("authorization")
        if header:
            scheme, _, value = header.partition(" ")
            if scheme.lower() != "bearer":
                return None
            known, via = self.lookups.recall("token:" + token_hash(value.strip())), "token"
        else:
            token = request.cookies.get(SESSION_COOKIE)
            if not token or request.method in UNSAFE_METHODS:
                return None
            known, via = self.lookups.recall("session:" + token_hash(token)), "session"
        if known is None:
            return None
        source = client_address(request)
        return Principal(known.username, known.role, known.full_name, source=source, via=via)

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
        key = "token:" + token_hash(token)
        known = self.lookups.recall(key)
        if known is None:
            known = self._look_up_token(request, key, token)
        return Principal(
            known.username, known.role, known.full_name, source=client_address(request), via="token"
        )

    def _look_up_token(self, request: Request, key: str, token: str) -> SignedIn:
        version = self.lookups.version()
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
        known = SignedIn(found.username, found.role, found.full_name, "")
        self.lookups.remember(key, version, known)
        return known

    def _basic(self, request: Request, value: str) -> Principal:
        try:
            username, sep, password = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise unauthorized("malformed Basic credentials") from None
        if not sep:
            raise unauthorized("malformed Basic credentials")
        found = self.check_password(request, username, password, account_wide=False)
        if found is None:
            raise unauthorized("wrong username or password")
        role, full_name = found
        return Principal(username, role, full_name, source=client_address(request), via="basic")

    def check_password(
        self, request: Request, username: str, password: str, *, account_wide: bool = True
    ) -> tuple[Role, str] | None:
        """Role and full name if the password is right (throttled, failures audited).

        The attempt is counted before the password is checked; raises 429 while the
        account (with ``account_wide=False``, HTTP Basic: the account from this address)
        or the caller's address has too many recent failures (see :mod:`.throttle`).
        """
        address = client_address(request)
        attempt = self.throttle.reserve(username, address, account_wide=account_wide)
        if attempt.wait_s > 0:
            raise HTTPException(
                429,
                "too many failed logins; try again later",
                headers={"Retry-After": str(int(attempt.wait_s) + 1)},
            )
        remembered = self.basic.recall(username, password)
        if remembered is not None:
            with self.store.read_session() as session:
                known = find_user(session, username)
                if known is not None and known.active and known.password_hash == remembered:
                    self.throttle.succeeded(attempt)
                    return known.role, known.full_name
        with self.store.session() as session:
            user = verify_credentials(session, username, password)
            found = None if user is None else (user.role, user.full_name, user.password_hash)
        if found is None:
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
        self.throttle.succeeded(attempt)
        self.basic.remember(username, password, found[2])
        return found[0], found[1]

    def signed_in(self, token: str) -> SignedIn | None:
        """The user and CSRF token of the browser session of cookie ``token``, if live."""
        key = "session:" + token_hash(token)
        known = self.lookups.recall(key)
        if known is not None:
            return known
        version = self.lookups.version()
        with self.store.read_session() as session:  # no write lock for a lookup
            found = check_session(session, token)
        if found.stale or found.touch:
            with self.store.session() as session:  # delete it, or push its expiry
                known = session_user(session, token)
        else:
            known = found.signed_in
        if known is not None:
            self.lookups.remember(key, version, known)
        return known

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
