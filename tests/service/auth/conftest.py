"""The whole application over a fresh store, with an account of every role."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.service.auth.accounts import Account, make_account
from tests.service.auth.apps import ALL_ROUTERS
from vesalius.service.app import create_app
from vesalius.settings import Settings
from vesalius.store import BlobStore, Store, open_store, sqlite_url, users
from vesalius.store.roles import Role


@pytest.fixture
def fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap argon2id parameters, so that tests making many accounts stay quick.

    The production parameters are checked in ``test_accounts.py``, which does not use this.
    """
    monkeypatch.setattr(users, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(sqlite_url(tmp_path / "index.sqlite3"))
    yield opened
    opened.close()


def make_app(store: Store, tmp_path: Path, **settings: Any) -> FastAPI:
    """The application with every router the service ships, under these settings."""
    return create_app(
        store,
        BlobStore(tmp_path / "blobs"),
        min_free_bytes=0,
        settings=Settings(data_dir=tmp_path, **settings),
        routers=ALL_ROUTERS,
    )


@pytest.fixture
def app(store: Store, tmp_path: Path) -> FastAPI:
    """The application with every router the service ships."""
    return make_app(store, tmp_path)


@pytest.fixture
def accounts(store: Store, fast_hashing: None) -> dict[Role, Account]:
    """One account per role, named ``test-<role>``."""
    return {role: make_account(store, role) for role in Role}


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as opened:
        yield opened
