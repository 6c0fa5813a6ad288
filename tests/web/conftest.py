"""The web UI's routers behind a test double for sign-in (headers say who calls)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI, HTTPException, Request
from fastapi.testclient import TestClient
from playwright.sync_api import Page

from tests.web.browser import chromium_tab
from vesalius.service import web
from vesalius.service.context import AppContext, Principal
from vesalius.store import BlobStore, open_store, sqlite_url
from vesalius.store.roles import Permission, Role


def header_authorize(permission: Permission) -> Callable[[Request], Principal]:
    """401 without ``X-Test-User``, 403 when ``X-Test-Role`` lacks ``permission``."""

    def dependency(request: Request) -> Principal:
        user = request.headers.get("X-Test-User")
        if not user:
            raise HTTPException(401, "not signed in")
        principal = Principal(user, Role(request.headers.get("X-Test-Role", "viewer")))
        if not principal.may(permission):
            raise HTTPException(403, f"{principal.role.value} may not {permission.value}")
        return principal

    return dependency


def as_user(role: str = "radiologist") -> dict[str, str]:
    return {"X-Test-User": f"test.{role}", "X-Test-Role": role}


def make_client(root: Path, dist: Path) -> Iterator[TestClient]:
    store = open_store(sqlite_url(root / "index.sqlite3"))
    ctx = AppContext(store, BlobStore(root / "blobs"), header_authorize, extras={"ohif_dist": dist})
    app = FastAPI()
    app.include_router(web.make_router(ctx))
    with TestClient(app, follow_redirects=False) as client:
        yield client
    store.close()


@pytest.fixture
def no_dist_client(tmp_path: Path) -> Iterator[TestClient]:
    """The web routes where the OHIF dist was never installed."""
    yield from make_client(tmp_path, tmp_path / "missing" / "dist")


FAKE_INDEX = (
    '<!doctype html><html><head><script>window.PUBLIC_URL="/"</script>'
    '<link rel="manifest" href="/manifest.json">'
    '<script rel="preload" as="script" src="/app-config.js"></script>'
    '<script defer src="/app.bundle.abc.js"></script><link href="/app.bundle.css" rel="stylesheet">'
    '</head><body><div id="root"></div></body></html>'
)


@pytest.fixture
def fake_dist(tmp_path: Path) -> Path:
    """A dist laid out like OHIF's, small: what the rewriting and routing tests need."""
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(FAKE_INDEX)
    (dist / "app.bundle.abc.js").write_text('(() => {\n__webpack_require__.p = "/";\n})();\n')
    (dist / "app.bundle.css").write_text("@font-face{src:url(/f.woff2) format('woff2')}")
    (dist / "manifest.json").write_text('{"icons": [{"src": "/assets/icon.png"}]}')
    (dist / "assets" / "icon.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (dist / "x.wasm").write_bytes(b"\0asm\1\0\0\0")
    (dist / "app-config.js").write_text("window.config = {dataSources: ['the public demo']};")
    (tmp_path / "secret.txt").write_text("outside the dist")
    return dist


@pytest.fixture
def dist_client(tmp_path: Path, fake_dist: Path) -> Iterator[TestClient]:
    """The web routes over :func:`fake_dist`."""
    yield from make_client(tmp_path, fake_dist)


@pytest.fixture
def page() -> Iterator[Page]:
    """A fresh Chromium tab for the browser tests (see :mod:`tests.web.browser`)."""
    yield from chromium_tab()
