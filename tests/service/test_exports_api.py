"""The export routes: make exports, download them, only with the ``export`` permission.

The application's real access control is replaced by a double that takes the caller's
role from a header and refuses roles without the permission (403), as the real one does.
What a user would see go wrong: a viewer able to export patient data, a download of a
file outside the study's folder, a missing study answered 500, exports not audited.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Header, HTTPException
from fastapi.testclient import TestClient

from tests.export.fixtures_exports import PATIENT_ID, STUDY_UID, add_label_map, indexed_study
from vesalius.service.context import AppContext, Principal
from vesalius.service.exports_api import make_router
from vesalius.settings import Settings
from vesalius.store import BlobStore, Store, open_store, sqlite_url
from vesalius.store.audit import events_for
from vesalius.store.roles import Permission, Role


def _authorize(permission: Permission) -> Callable[..., Any]:
    def dependency(x_role: str = Header("radiologist")) -> Principal:
        principal = Principal(f"user.{x_role}", Role(x_role), source="10.0.0.9")
        if not principal.may(permission):
            raise HTTPException(403, f"{x_role} may not {permission.value}")
        return principal

    return dependency


@dataclass(frozen=True)
class Site:
    client: TestClient
    store: Store
    blobs: BlobStore
    folder: Path


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    store = open_store(sqlite_url(tmp_path / "i.sqlite3"))
    blobs = BlobStore(tmp_path / "blobs")
    indexed_study(store, blobs)
    ctx = AppContext(store, blobs, _authorize, Settings(data_dir=tmp_path / "data"))
    app = FastAPI()
    app.include_router(make_router(ctx))
    try:
        with TestClient(app) as client:
            yield Site(client, store, blobs, tmp_path / "data" / "exports" / STUDY_UID)
    finally:
        store.close()


URL = f"/api/studies/{STUDY_UID}/exports"


def test_radiologist_exports_the_pdf_and_downloads_it(
    site: Site,
) -> None:
    """The report editor's "PDF" button must give the PDF, and the trail must show it."""
    client, store, folder = site.client, site.store, site.folder
    answer = client.post(URL, json={"to": "pdf"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "files": [
            {"name": "report.pdf", "media_type": "application/pdf", "url": f"{URL}/report.pdf"}
        ]
    }
    assert (folder / "report.pdf").is_file()
    download = client.get(f"{URL}/report.pdf")
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/pdf"
    assert download.content == (folder / "report.pdf").read_bytes()
    with store.read_session() as session:
        events = [
            (e.who, e.action, e.outcome.value, e.source)
            for e in events_for(session, "study", STUDY_UID)
        ]
    assert events == [
        ("user.radiologist", "export", "success", "10.0.0.9"),
        ("user.radiologist", "download", "success", "10.0.0.9"),
    ]


def test_fhir_and_mesh_exports_list_their_files(site: Site) -> None:
    """Each export names every file it made, with the right media type."""
    client, store = site.client, site.store
    fhir = client.post(URL, json={"to": "fhir"}).json()["files"]
    assert [(f["name"], f["media_type"]) for f in fhir] == [
        ("fhir-bundle.json", "application/fhir+json")
    ]
    bundle = client.get(fhir[0]["url"]).json()
    assert PATIENT_ID in str(bundle)
    add_label_map(store, site.blobs)
    glb = client.post(URL, json={"to": "mesh", "format": "glb"})
    assert glb.status_code == 200, glb.text
    (item,) = glb.json()["files"]
    assert item["media_type"] == "model/gltf-binary"
    assert client.get(item["url"]).content[:4] == b"glTF"


def test_roles_without_export_are_refused(site: Site) -> None:
    """A viewer or technologist must not be able to take patient data out."""
    client, folder = site.client, site.folder
    for role in ("viewer", "technologist"):
        assert client.post(URL, json={"to": "pdf"}, headers={"X-Role": role}).status_code == 403
    assert not folder.exists()
    client.post(URL, json={"to": "pdf"})
    assert client.get(f"{URL}/report.pdf", headers={"X-Role": "viewer"}).status_code == 403


def test_unknown_study_nothing_to_export_and_bad_kind(
    site: Site,
) -> None:
    """Mistakes must be answered with the right status and a message, never a 500."""
    client, store = site.client, site.store
    missing = client.post("/api/studies/1.2.3.4/exports", json={"to": "pdf"})
    assert (missing.status_code, missing.json()) == (
        404,
        {"detail": "study 1.2.3.4 is not in the store"},
    )
    nothing = client.post(URL, json={"to": "mesh"})
    assert nothing.status_code == 409
    assert "no segmentation" in nothing.json()["detail"]
    assert client.post(URL, json={"to": "docx"}).status_code == 422
    assert client.post("/api/studies/..%2F..%2Fetc/exports", json={"to": "pdf"}).status_code in (
        404,
        400,
    )
    with store.read_session() as session:
        outcomes = [e.outcome.value for e in events_for(session, "study", STUDY_UID)]
    assert outcomes == ["failure"]


def test_downloads_stay_inside_the_study_folder(site: Site, tmp_path: Path) -> None:
    """A crafted name must never read another file of the server."""
    client, folder = site.client, site.folder
    (tmp_path / "data" / "secret.txt").parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / "data" / "secret.txt").write_text("secret")
    client.post(URL, json={"to": "pdf"})
    for name in ("..%2F..%2Fsecret.txt", "nope.pdf", "..", "%2E%2E"):
        answer = client.get(f"{URL}/{name}")
        assert answer.status_code == 404, name
        assert "secret" not in answer.text
    other = client.get("/api/studies/1.2.3/exports/report.pdf")
    assert other.status_code == 404
    assert (folder / "report.pdf").is_file()
