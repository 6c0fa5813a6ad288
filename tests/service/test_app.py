"""The service: what an operator probing /health, a scanner or a viewer would see go wrong."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import HTTPException, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.testclient import TestClient

from tests.service.auth.accounts import make_account
from vesalius.service.app import create_app
from vesalius.service.context import Principal
from vesalius.store import BlobStore, Store, open_store, sqlite_url
from vesalius.store.audit import events_by
from vesalius.store.roles import Permission, Role


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(sqlite_url(tmp_path / "index.sqlite3"))
    yield opened
    opened.close()


def test_health_is_ok_and_dicomweb_is_mounted(store: Store, tmp_path: Path) -> None:
    app = create_app(store, BlobStore(tmp_path / "blobs"), min_free_bytes=0)
    viewer = make_account(store, Role.VIEWER)
    with TestClient(app) as client:
        health = client.get("/health")
        assert health.status_code == 200
        assert health.json()["index"] == "ok"
        assert health.json()["free_bytes"] > 0
        assert client.get("/dicom-web/studies", headers=viewer.bearer).json() == []


def test_health_reports_503_when_the_disk_is_below_the_floor(store: Store, tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path / "blobs")
    app = create_app(store, blobs, min_free_bytes=blobs.free_bytes() * 2)
    with TestClient(app) as client:
        health = client.get("/health")
    assert health.status_code == 503
    assert health.json()["status"] == "degraded"


def test_dicomweb_needs_a_user_but_health_does_not(store: Store, tmp_path: Path) -> None:
    """Without credentials DICOMweb answers 401; a viewer reads but cannot store (403)."""
    app = create_app(store, BlobStore(tmp_path / "blobs"), min_free_bytes=0)
    viewer = make_account(store, Role.VIEWER)
    scanner = make_account(store, Role.SERVICE)
    with TestClient(app) as client:
        assert client.get("/health").status_code == 200
        assert client.get("/dicom-web/studies").status_code == 401
        assert client.post("/dicom-web/studies", content=b"x").status_code == 401
        assert client.get("/dicom-web/studies", auth=viewer.basic).status_code == 200
        refused = client.post("/dicom-web/studies", content=b"x", auth=viewer.basic)
        assert refused.status_code == 403
        # the scanner gets past access control to STOW-RS, which refuses the body itself
        stored = client.post("/dicom-web/studies", content=b"x", headers=scanner.bearer)
        assert stored.status_code not in (401, 403)


def test_dicomweb_reads_are_audited_once_per_study_and_user(store: Store, tmp_path: Path) -> None:
    """A viewer loading one study's frames leaves one audit event with its address, not one each."""
    app = create_app(store, BlobStore(tmp_path / "blobs"), min_free_bytes=0)
    viewer = make_account(store, Role.VIEWER)
    with TestClient(app) as client:
        for _ in range(3):
            client.get("/dicom-web/studies/1.2.3/series", headers=viewer.bearer)
    with store.read_session() as session:
        reads = [(e.action, e.object_id, e.source) for e in events_by(session, viewer.username)]
    assert reads == [("read", "1.2.3", "testclient")]


def _only_bearer_good(permission: Permission) -> Callable[[Request], Principal]:
    def dependency(request: Request) -> Principal:
        if request.headers.get("authorization") != "Bearer good":
            raise HTTPException(status_code=401, detail="login needed")
        return Principal("robot", Role.SERVICE, source="test")

    return dependency


def test_another_access_control_can_be_plugged_in(store: Store, tmp_path: Path) -> None:
    app = create_app(
        store,
        BlobStore(tmp_path / "blobs"),
        min_free_bytes=0,
        authorize=_only_bearer_good,
    )
    with TestClient(app) as client:
        assert client.get("/health").status_code == 200
        assert client.get("/dicom-web/studies").status_code == 401
        ok = client.get("/dicom-web/studies", headers={"Authorization": "Bearer good"})
        assert ok.status_code == 200


def test_cors_can_be_added_on_top_when_a_deployment_needs_it(store: Store, tmp_path: Path) -> None:
    app = create_app(store, BlobStore(tmp_path / "blobs"), min_free_bytes=0)
    app.add_middleware(CORSMiddleware, allow_origins=["https://viewer.example"])
    viewer = make_account(store, Role.VIEWER)
    headers = {"Origin": "https://viewer.example", **viewer.bearer}
    with TestClient(app) as client:
        answer = client.get("/dicom-web/studies", headers=headers)
    assert answer.headers["access-control-allow-origin"] == "https://viewer.example"
