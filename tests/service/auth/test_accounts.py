"""Accounts as stored: what would go wrong if passwords or tokens leaked from the database,
a first start left a default password, or a session outlived its welcome."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from vesalius.errors import InputError, StoreError
from vesalius.store import Store
from vesalius.store.roles import Role
from vesalius.store.users import (
    SESSION_IDLE,
    SESSION_MAX,
    User,
    add_user,
    create_session,
    create_token,
    deactivate,
    end_session,
    ensure_admin,
    session_user,
    set_password,
    token_user,
    verify_credentials,
)

SECRET = "correct horse battery staple"
T0 = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)


def _database_bytes(tmp_path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in tmp_path.glob("index.sqlite3*"))


def test_passwords_and_tokens_are_stored_only_as_hashes(store: Store, tmp_path: Path) -> None:
    """The password is an argon2id hash; session and API tokens are nowhere in the file."""
    with store.session() as session:
        add_user(session, "dr.grey", Role.RADIOLOGIST, SECRET)
        cookie, _ = create_session(session, "dr.grey")
        token = create_token(session, "dr.grey", name="script")
    with store.read_session() as session:
        stored = session.scalars(select(User.password_hash)).one()
    assert stored.startswith("$argon2id$")
    assert "m=65536,t=3" in stored  # the library's recommended cost, not a test shortcut
    raw = _database_bytes(tmp_path)
    for secret in (SECRET, cookie, token):
        assert secret.encode() not in raw
    with store.session() as session:
        assert session_user(session, cookie) is not None
        assert token_user(session, token) is not None


def test_weak_passwords_and_odd_usernames_are_refused(store: Store, fast_hashing: None) -> None:
    with store.session() as session, pytest.raises(InputError, match="at least 10"):
        add_user(session, "dr.grey", Role.RADIOLOGIST, "short")
    with store.session() as session, pytest.raises(InputError, match="username"):
        add_user(session, "Dr Grey", Role.RADIOLOGIST, SECRET)
    with store.session() as session:
        add_user(session, "dr.grey", Role.RADIOLOGIST, SECRET)
    with store.session() as session, pytest.raises(StoreError, match="already exists"):
        add_user(session, "dr.grey", Role.VIEWER, SECRET)


def test_the_first_admin_is_made_once_with_a_generated_password(
    store: Store, fast_hashing: None
) -> None:
    with store.session() as session:
        first = ensure_admin(session)
    assert first is not None
    assert len(first) >= 20
    with store.session() as session:
        assert ensure_admin(session) is None  # a second start prints nothing
        user = verify_credentials(session, "admin", first)
        assert user is not None
        assert user.role is Role.ADMIN
    with store.session() as session:  # two starts never share a password
        deactivate(session, "admin")
        again = ensure_admin(session)
    assert again not in (None, first)


def test_a_session_slides_while_used_and_ends_when_idle_or_too_old(
    store: Store, fast_hashing: None
) -> None:
    with store.session() as session:
        add_user(session, "dr.grey", Role.RADIOLOGIST, SECRET)
        cookie, _ = create_session(session, "dr.grey", at=T0)
    step = SESSION_IDLE * 2 / 3
    with store.session() as session:
        assert session_user(session, cookie, at=T0 + step) is not None
        assert session_user(session, cookie, at=T0 + 2 * step) is not None  # pushed by use
    with store.session() as session:
        assert session_user(session, cookie, at=T0 + 2 * step + SESSION_IDLE) is None
    with store.session() as session:
        busy, _ = create_session(session, "dr.grey", at=T0)
    at = T0
    with store.session() as session:
        while at < T0 + SESSION_MAX - step:
            at += step
            assert session_user(session, busy, at=at) is not None
        assert session_user(session, busy, at=T0 + SESSION_MAX + timedelta(seconds=1)) is None


def test_password_change_logout_and_disabling_end_access(store: Store, fast_hashing: None) -> None:
    with store.session() as session:
        add_user(session, "dr.grey", Role.RADIOLOGIST, SECRET)
        first, _ = create_session(session, "dr.grey")
        second, _ = create_session(session, "dr.grey")
        token = create_token(session, "dr.grey")
    with store.session() as session:
        assert end_session(session, first)
        assert session_user(session, first) is None
        assert session_user(session, second) is not None
        set_password(session, "dr.grey", "another long password")
        assert session_user(session, second) is None
        assert verify_credentials(session, "dr.grey", SECRET) is None
    with store.session() as session:
        deactivate(session, "dr.grey")
    with store.session() as session:
        assert token_user(session, token) is None
        assert verify_credentials(session, "dr.grey", "another long password") is None
