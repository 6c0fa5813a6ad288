"""A FastAPI app with the worklist and report routers and a test double for sign-in.

The test ``authorize`` reads the caller from the headers ``X-Test-User`` and
``X-Test-Role`` (401 without them, 403 when the role lacks the permission): the real
sessions and tokens are the auth package's and are tested there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI, HTTPException, Request
from fastapi.testclient import TestClient

from tests.reporting.factory import add_study, lungs, nodule, save
from vesalius.reporting.drafts import refresh_study
from vesalius.service import reports_api, worklist_api
from vesalius.service.context import AppContext, Principal
from vesalius.service.events import EventHub
from vesalius.store import BlobStore, Store, open_store, sqlite_url
from vesalius.store.roles import Permission, Role

NORMAL, SUSPICIOUS = "1.2.826.0.1.9.6.1", "1.2.826.0.1.9.6.2"


def test_authorize(permission: Permission) -> Callable[[Request], Principal]:
    def dependency(request: Request) -> Principal:
        user = request.headers.get("X-Test-User")
        if not user:
            raise HTTPException(401, "not signed in")
        principal = Principal(
            user, Role(request.headers.get("X-Test-Role", "viewer")), f"Dr {user}", "10.0.0.9"
        )
        if not principal.may(permission):
            raise HTTPException(403, f"{principal.role.value} may not {permission.value}")
        return principal

    return dependency


test_authorize.__test__ = False  # type: ignore[attr-defined]  # not a test: a test double


def as_user(user: str, role: str = "radiologist") -> dict[str, str]:
    return {"X-Test-User": user, "X-Test-Role": role}


@dataclass
class Served:
    client: TestClient
    store: Store
    blobs: BlobStore
    hub: EventHub


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """Two analysed studies (a normal chest CT, a Lung-RADS 4B screening CT) behind the API."""
    store = open_store(sqlite_url(tmp_path / "index.sqlite3"))
    blobs = BlobStore(tmp_path / "blobs")
    add_study(store, blobs, NORMAL, name="Normal^Nora")
    save(store, lungs(NORMAL))
    add_study(store, blobs, SUSPICIOUS, patient_id="P2", name="Smith^Sam")
    save(store, [nodule(SUSPICIOUS, "4B"), *lungs(SUSPICIOUS)])
    for uid in (NORMAL, SUSPICIOUS):
        refresh_study(store, blobs, uid)
    hub = EventHub()
    ctx = AppContext(store, blobs, test_authorize, extras={"events": hub})
    app = FastAPI()
    app.include_router(worklist_api.make_router(ctx))
    app.include_router(reports_api.make_router(ctx))
    with TestClient(app) as client:
        yield Served(client, store, blobs, hub)
    hub.close()
    store.close()
