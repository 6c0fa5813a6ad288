"""The service: what an operator probing /health, or a future login, would see go wrong."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import Depends, HTTPException, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.testclient import TestClient

from vesalius.service.app import create_app
from vesalius.store import BlobStore, Store, open_store, sqlite_url


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(sqlite_url(tmp_path / "index.sqlite3"))
    yield opened
    opened.close()


def test_health_is_ok_and_dicomweb_is_mounted(store: Store, tmp_path: Path) -> None:
    app = create_app(store, BlobStore(tmp_path / "blobs"), min_free_bytes=0)
    with TestClient(app) as client:
        health = client.get("/health")
        assert health.status_code == 200
        assert health.json()["index"] == "ok"
        assert health.json()["free_bytes"] > 0
        assert client.get("/dicom-web/studies").json() == []


def test_health_reports_503_when_the_disk_is_below_the_floor(store: Store, tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path / "blobs")
    app = create_app(store, blobs, min_free_bytes=blobs.free_bytes() * 2)
    with TestClient(app) as client:
        health = client.get("/health")
    assert health.status_code == 503
    assert health.json()["status"] == "degraded"


def _require_token(request: Request) -> None:
    if request.headers.get("authorization") != "Bearer good":
        raise HTTPException(status_code=401, detail="login needed")


def test_an_auth_dependency_guards_dicomweb_but_not_health(store: Store, tmp_path: Path) -> None:
    app = create_app(
        store,
        BlobStore(tmp_path / "blobs"),
        min_free_bytes=0,
        dependencies=[Depends(_require_token)],
    )
    with TestClient(app) as client:
        assert client.get("/health").status_code == 200
        assert client.get("/dicom-web/studies").status_code == 401
        assert client.post("/dicom-web/studies", content=b"x").status_code == 401
        ok = client.get("/dicom-web/studies", headers={"Authorization": "Bearer good"})
        assert ok.status_code == 200


def test_cors_can_be_added_on_top_when_a_deployment_needs_it(store: Store, tmp_path: Path) -> None:
    app = create_app(store, BlobStore(tmp_path / "blobs"), min_free_bytes=0)
    app.add_middleware(CORSMiddleware, allow_origins=["https://viewer.example"])
    with TestClient(app) as client:
        answer = client.get("/dicom-web/studies", headers={"Origin": "https://viewer.example"})
    assert answer.headers["access-control-allow-origin"] == "https://viewer.example"
