"""Exports on sign-off, as ``[export]`` says; and the ``[export]`` settings themselves.

What a user would see go wrong: signing a report and the EHR never getting it, a failed
export undoing or blocking the signature, a typo in ``[export]`` silently ignored.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.export.fixtures_exports import (
    STUDY_UID,
    LoopbackServer,
    add_label_map,
    indexed_study,
)
from vesalius.errors import ConfigError
from vesalius.export.on_sign import export_on_sign
from vesalius.settings import ExportSettings, Settings, load_settings
from vesalius.store import BlobStore, Store, open_store, sqlite_url


@pytest.fixture
def signed(tmp_path: Path) -> Iterator[tuple[Store, BlobStore]]:
    store = open_store(sqlite_url(tmp_path / "i.sqlite3"))
    blobs = BlobStore(tmp_path / "blobs")
    indexed_study(store, blobs)
    try:
        yield store, blobs
    finally:
        store.close()


def _ehr(received: list[dict[str, Any]]) -> FastAPI:
    app = FastAPI()

    @app.post("/fhir")
    async def transaction(request: Request) -> JSONResponse:
        received.append(await request.json())
        return JSONResponse({"resourceType": "Bundle", "type": "transaction-response"})

    return app


def test_signing_exports_the_pdf_and_sends_the_bundle(
    signed: tuple[Store, BlobStore], tmp_path: Path
) -> None:
    """The EHR must receive the final report when it is signed, and the PDF be kept."""
    store, blobs = signed
    received: list[dict[str, Any]] = []
    with LoopbackServer(_ehr(received)).running() as ehr:
        export = ExportSettings(on_sign=("pdf", "fhir"), fhir_endpoint=f"{ehr.url}/fhir")
        settings = Settings(data_dir=tmp_path / "data", export=export)
        results = export_on_sign(store, blobs, settings, STUDY_UID)
    assert [(r.kind, r.ok) for r in results] == [("pdf", True), ("fhir", True)]
    pdf = results[0].files[0].path
    assert pdf == tmp_path / "data" / "exports" / STUDY_UID / "report.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    (bundle,) = received
    assert bundle == json.loads(results[1].files[0].path.read_text())
    report = next(
        e["resource"] for e in bundle["entry"] if e["request"]["url"] == "DiagnosticReport"
    )
    assert report["status"] == "final"
    assert results[1].sent[0].destination == f"{ehr.url}/fhir"


def test_a_failing_export_is_reported_not_raised(
    signed: tuple[Store, BlobStore], tmp_path: Path
) -> None:
    """A PACS down or a missing segmentation must not make signing fail."""
    store, blobs = signed
    export = ExportSettings(
        on_sign=("mesh", "pdf", "fhir"), fhir_endpoint="http://127.0.0.1:1/fhir"
    )
    results = export_on_sign(store, blobs, Settings(data_dir=tmp_path, export=export), STUDY_UID)
    mesh, pdf, fhir = results
    assert mesh.error is not None
    assert "no segmentation" in mesh.error
    assert pdf.ok
    assert fhir.files  # written, then not delivered
    assert fhir.error is not None
    assert "127.0.0.1:1" in fhir.error


def test_meshes_on_sign_go_to_the_configured_folder(
    signed: tuple[Store, BlobStore], tmp_path: Path
) -> None:
    """A site that keeps 3D models elsewhere gets them there."""
    store, blobs = signed
    add_label_map(store, blobs)
    export = ExportSettings(on_sign=("mesh",), out_dir=tmp_path / "models")
    (result,) = export_on_sign(store, blobs, Settings(data_dir=tmp_path, export=export), STUDY_UID)
    assert result.ok
    names = sorted(f.name for f in result.files)
    assert names == ["mesh-1-Left_lung.stl", "mesh-1-Right_lung.stl"]
    assert all(f.path.parent == tmp_path / "models" / STUDY_UID for f in result.files)


def test_nothing_configured_does_nothing(signed: tuple[Store, BlobStore], tmp_path: Path) -> None:
    """By default signing exports nothing and writes no folder."""
    store, blobs = signed
    assert export_on_sign(store, blobs, Settings(data_dir=tmp_path), STUDY_UID) == []
    assert not (tmp_path / "exports").exists()


# -- the [export] settings -----------------------------------------------------------------


def _load(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "vesalius.toml"
    path.write_text(text)
    return load_settings(path)


def test_export_table_is_read(tmp_path: Path) -> None:
    """What the administrator wrote is what signing does."""
    settings = _load(
        tmp_path,
        '[export]\non_sign = ["sr", "fhir"]\nsend_to = "pacs"\n'
        'fhir_endpoint = "https://ehr.example.org/fhir"\nout_dir = "exp"\n',
    )
    assert settings.export == ExportSettings(
        ("sr", "fhir"), "pacs", "https://ehr.example.org/fhir", tmp_path / "exp"
    )
    assert Settings().export == ExportSettings()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('[export]\non_sign = ["docx"]\n', "on_sign must be of"),
        ('[export]\non_sign = "pdf"\n', "must be a list"),
        ('[export]\non_sign = ["pdf", "pdf"]\n', "twice"),
        ('[export]\nfhir_endpoint = "ehr.example.org"\n', "http"),
        ("[export]\nsend_to = 4242\n", "send_to must be text"),
        ('[export]\nsend_too = "pacs"\n', "unknown \\[export\\] settings \\['send_too'\\]"),
        ('export = "pdf"\n', "must be an \\[export\\] table"),
    ],
)
def test_export_table_mistakes_are_config_errors(tmp_path: Path, text: str, problem: str) -> None:
    """A typo in [export] must stop the start with a message, not be ignored."""
    with pytest.raises(ConfigError, match=problem):
        _load(tmp_path, text)
