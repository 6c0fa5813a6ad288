"""User accounts, browser sessions and API tokens.

- ``users``: one row per account: a unique ``username``, a :class:`~vesalius.store.roles.Role`,
  an argon2id ``password_hash`` (never the password), whether it is ``active``;
- ``sessions``: a signed-in browser: only the SHA-256 of its cookie token is stored, with
  its CSRF token, when it expires (sliding: each use pushes the expiry, up to a hard limit)
  and the address it signed in from;
- ``api_tokens``: tokens for machines and scripts, stored as SHA-256 hashes, revocable.

Credentials are checked in about the same time whether the user exists or not (an unknown
user is verified against a dummy hash), and both failures give the same answer, ``None``.
:func:`ensure_admin` creates the first administrator with a generated password, only when
the store has no active administrator: there is never a default password.

Examples
--------
>>> import tempfile, pathlib
>>> from vesalius.store import open_store, sqlite_url
>>> store = open_store(sqlite_url(pathlib.Path(tempfile.mkdtemp()) / "i.sqlite3"))
>>> with store.session() as s:
...     _ = add_user(s, "dr.grey", Role.RADIOLOGIST, "correct horse battery", full_name="M. Grey")
>>> with store.session() as s:
...     verify_credentials(s, "dr.grey", "correct horse battery").role.value
'radiologist'
>>> with store.session() as s:
...     verify_credentials(s, "dr.grey", "wrong"), verify_credentials(s, "nobody", "wrong")
(None, None)
>>> with store.session() as s:
...     token, csrf = create_session(s, "dr.grey", source="10.0.0.7")
>>> with store.session() as s:
...     session_user(s, token).username
'dr.grey'
>>> store.close()
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Boolean, ForeignKey, Integer, String, func, select
from sqlalchemy.orm import Mapped, Session, joinedload, mapped_column, relationship

from vesalius.errors import InputError, StoreError
from vesalius.store.models import Base, _enum
from vesalius.store.roles import Role
from vesalius.store.types import UTCDateTime, aware_utc, utc_now

SESSION_IDLE = timedelta(minutes=30)
"""A browser session expires after this long without a request."""
SESSION_MAX = timedelta(hours=12)
"""A browser session never lasts longer than this, however busy."""
TOUCH_EVERY = timedelta(seconds=60)
"""A session's expiry is pushed at most this often (not a write per request)."""
MIN_PASSWORD = 10
"""The shortest password accepted."""
USERNAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-@")

_HASHER = PasswordHasher()  # argon2id with the library's recommended parameters


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify unknown users against (made on first use, not at import)."""
    return _HASHER.hash(secrets.token_urlsafe(16))


class User(Base):
    """A user account."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(128), default="")
    role: Mapped[Role] = mapped_column(_enum(Role, "user_role"))
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    """Failed logins since the last successful one."""


class UserSession(Base):
    """A signed-in browser; the cookie holds the token, the table only its SHA-256."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_pk: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    source: Mapped[str | None] = mapped_column(String(128))

    user: Mapped[User] = relationship()


class ApiToken(Base):
    """A token for a machine or a script (``Authorization: Bearer``); only its SHA-256 kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_pk: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)

    user: Mapped[User] = relationship()


@dataclass(frozen=True)
class SignedIn:
    """A session's user and CSRF token, as :func:`session_user` finds them."""

    username: str
    role: Role
    full_name: str
    csrf_token: str


def token_hash(token: str) -> str:
    """The SHA-256 (hex) under which a session or API token is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` (refusing one shorter than :data:`MIN_PASSWORD`)."""
    if len(password) < MIN_PASSWORD:
        raise InputError("password", f"must be at least {MIN_PASSWORD} characters")
    return _HASHER.hash(password)


def _password_matches(stored: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def check_username(username: str) -> str:
    """``username`` if valid (1-64 of ``a-z 0-9 . _ - @``), else :class:`InputError`."""
    if not 0 < len(username) <= 64 or not set(username) <= USERNAME_CHARS:
        raise InputError(
            "username", f"{username!r}: use 1-64 lowercase letters, digits, '.', '_', '-', '@'"
        )
    return username


def find_user(session: Session, username: str) -> User | None:
    """The account named ``username``, if any."""
    return session.scalars(select(User).where(User.username == username)).one_or_none()


def get_user(session: Session, username: str) -> User:
    """The account named ``username``; :class:`StoreError` if there is none."""
    user = find_user(session, username)
    if user is None:
        raise StoreError(f"no user {username!r}")
    return user


def list_users(session: Session) -> list[User]:
    """Every account, by username."""
    return list(session.scalars(select(User).order_by(User.username)))


def add_user(
    session: Session, username: str, role: Role, password: str, *, full_name: str = ""
) -> User:
    """Create an account; :class:`StoreError` if the username is taken."""
    check_username(username)
    if find_user(session, username) is not None:
        raise StoreError(f"user {username!r} already exists")
    user = User(
        username=username,
        full_name=full_name,
        role=Role(role),
        password_hash=hash_password(password),
        active=True,
        failed_logins=0,
    )
    session.add(user)
    session.flush()
    return user


def _end_sessions(session: Session, user: User) -> None:
    for row in session.scalars(select(UserSession).where(UserSession.user_pk == user.id)):
        session.delete(row)


def set_password(session: Session, username: str, password: str) -> None:
    """Change a password; the user's browser sessions end."""
    user = get_user(session, username)
    user.password_hash = hash_password(password)
    _end_sessions(session, user)


def set_role(session: Session, username: str, role: Role) -> None:
    """Change a user's role."""
    get_user(session, username).role = Role(role)


def set_active(session: Session, username: str, active: bool) -> None:
    """Enable or disable an account; disabling ends its sessions and revokes its tokens."""
    user = get_user(session, username)
    user.active = active
    if not active:
        _end_sessions(session, user)
        for token in session.scalars(select(ApiToken).where(ApiToken.user_pk == user.id)):
            token.revoked = True


def deactivate(session: Session, username: str) -> None:
    """Disable an account (see :func:`set_active`)."""
    set_active(session, username, False)


def verify_credentials(
    session: Session, username: str, password: str, *, at: datetime | None = None
) -> User | None:
    """The active account if ``password`` is its password, else ``None``.

    An unknown or disabled user costs one hash verification too, and answers the same.
    """
    user = find_user(session, username)
    if user is None:
        _password_matches(_dummy_hash(), password)
        return None
    if not _password_matches(user.password_hash, password) or not user.active:
        user.failed_logins = (user.failed_logins or 0) + 1
        return None
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = _HASHER.hash(password)
    user.failed_logins = 0
    user.last_login_at = aware_utc(at or utc_now())
    return user


def create_session(
    session: Session, username: str, *, source: str | None = None, at: datetime | None = None
) -> tuple[str, str]:
    """Open a browser session for ``username``; returns its cookie token and CSRF token."""
    user = get_user(session, username)
    now = aware_utc(at or utc_now())
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.add(
        UserSession(
            token_hash=token_hash(token),
            user_pk=user.id,
            csrf_token=csrf,
            created_at=now,
            expires_at=now + SESSION_IDLE,
            last_seen_at=now,
            source=source,
        )
    )
    session.flush()
    return token, csrf


@dataclass(frozen=True)
class SessionCheck:
    """What a read-only look at a session found (see :func:`check_session`)."""

    signed_in: SignedIn | None
    """Who, when the session is live."""
    stale: bool = False
    """Expired, or its user disabled: delete it (:func:`end_session`)."""
    touch: bool = False
    """Live, and its expiry is due to be pushed (:func:`touch_session`)."""


def _session_row(session: Session, token: str) -> UserSession | None:
    stmt = (
        select(UserSession)
        .options(joinedload(UserSession.user))
        .where(UserSession.token_hash == token_hash(token))
    )
    return session.scalars(stmt).one_or_none()


def check_session(session: Session, token: str, *, at: datetime | None = None) -> SessionCheck:
    """Look at the session of cookie ``token`` without writing (a read-only session will do)."""
    now = aware_utc(at or utc_now())
    row = _session_row(session, token)
    if row is None:
        return SessionCheck(None)
    if row.expires_at <= now or not row.user.active:
        return SessionCheck(None, stale=True)
    user = row.user
    signed_in = SignedIn(user.username, user.role, user.full_name, row.csrf_token)
    return SessionCheck(signed_in, touch=now - row.last_seen_at >= TOUCH_EVERY)


def touch_session(session: Session, token: str, *, at: datetime | None = None) -> None:
    """Push the expiry of a session in use (sliding), never past :data:`SESSION_MAX`."""
    now = aware_utc(at or utc_now())
    row = _session_row(session, token)
    if row is not None and row.expires_at > now:
        row.last_seen_at = now
        row.expires_at = min(now + SESSION_IDLE, row.created_at + SESSION_MAX)


def session_user(session: Session, token: str, *, at: datetime | None = None) -> SignedIn | None:
    """Who the session of cookie ``token`` belongs to, or ``None`` if expired or unknown.

    A session in use has its expiry pushed (sliding), never past :data:`SESSION_MAX`; an
    expired one is deleted.
    """
    found = check_session(session, token, at=at)
    if found.stale:
        end_session(session, token)
    elif found.touch:
        touch_session(session, token, at=at)
    return found.signed_in


def end_session(session: Session, token: str) -> bool:
    """Sign out the session of cookie ``token``; whether there was one."""
    row = _session_row(session, token)
    if row is None:
        return False
    session.delete(row)
    return True


def create_token(session: Session, username: str, *, name: str = "") -> str:
    """A new API token for ``username`` (shown once: only its hash is kept)."""
    user = get_user(session, username)
    if not user.active:
        raise StoreError(f"user {username!r} is disabled")
    token = "vst_" + secrets.token_urlsafe(32)
    session.add(ApiToken(token_hash=token_hash(token), user_pk=user.id, name=name, revoked=False))
    session.flush()
    return token


@dataclass(frozen=True)
class TokenCheck:
    """What a read-only look at an API token found (see :func:`check_token`)."""

    username: str
    role: Role
    full_name: str
    touch: bool
    """Its last use is due to be recorded (:func:`touch_token`)."""


def _token_row(session: Session, token: str) -> ApiToken | None:
    stmt = (
        select(ApiToken)
        .options(joinedload(ApiToken.user))
        .where(ApiToken.token_hash == token_hash(token))
    )
    return session.scalars(stmt).one_or_none()


def check_token(session: Session, token: str, *, at: datetime | None = None) -> TokenCheck | None:
    """The active user of API ``token`` without writing, or ``None`` (unknown, revoked...)."""
    row = _token_row(session, token)
    if row is None or row.revoked or not row.user.active:
        return None
    now = aware_utc(at or utc_now())
    touch = row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY
    return TokenCheck(row.user.username, row.user.role, row.user.full_name, touch)


def touch_token(session: Session, token: str, *, at: datetime | None = None) -> None:
    """Record that API ``token`` was used now."""
    row = _token_row(session, token)
    if row is not None:
        row.last_used_at = aware_utc(at or utc_now())


def token_user(session: Session, token: str, *, at: datetime | None = None) -> User | None:
    """The active user of API ``token``, or ``None`` (unknown, revoked, user disabled)."""
    found = check_token(session, token, at=at)
    if found is None:
        return None
    if found.touch:
        touch_token(session, token, at=at)
    return get_user(session, found.username)


def revoke_tokens(session: Session, username: str) -> int:
    """Revoke every API token of ``username``; how many were live."""
    user = get_user(session, username)
    live = list(
        session.scalars(select(ApiToken).where(ApiToken.user_pk == user.id, ~ApiToken.revoked))
    )
    for token in live:
        token.revoked = True
    return len(live)


def ensure_admin(session: Session) -> str | None:
    """Create the ``admin`` account when there is no active administrator.

    Returns its generated password (print it once), or ``None`` when an administrator
    already exists. A disabled account named ``admin`` is re-enabled with a new password.
    """
    count = session.scalar(
        select(func.count()).select_from(User).where(User.role == Role.ADMIN, User.active)
    )
    if count:
        return None
    password = secrets.token_urlsafe(18)
    existing = find_user(session, "admin")
    if existing is None:
        add_user(session, "admin", Role.ADMIN, password, full_name="Administrator")
    else:
        existing.role, existing.active = Role.ADMIN, True
        existing.password_hash = hash_password(password)
        _end_sessions(session, existing)  # whoever held its sessions or tokens: not an admin
        revoke_tokens(session, "admin")
    return password
