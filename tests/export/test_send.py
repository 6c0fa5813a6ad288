"""Sending exports: DICOM objects reach a PACS by C-STORE or STOW-RS, bundles reach the EHR.

The PACS is a second Vesalius store (its DICOM listener, its DICOMweb service on the
loopback); what a user would see go wrong: exports that never arrive, a refusal reported
as success, an unknown destination giving a traceback.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydicom import dcmread
from pydicom.data import get_testdata_file

from tests.export.fixtures_exports import LoopbackServer
from tests.service.auth.accounts import make_account
from vesalius.errors import ConfigError
from vesalius.export.dispatch import ExportedFile
from vesalius.export.send import (
    FHIR_TOKEN_ENV,
    SendError,
    send_bundle_file,
    send_dicom,
    send_exports,
)
from vesalius.ingest.dimse.config import ListenerConfig
from vesalius.ingest.dimse.scp import DicomListener
from vesalius.service.app import create_app
from vesalius.settings import DicomPeer, Settings
from vesalius.store import BlobStore, Store, open_store, sqlite_url
from vesalius.store.index import find_instance
from vesalius.store.roles import Role


@pytest.fixture
def pacs(tmp_path: Path) -> Iterator[tuple[Store, BlobStore]]:
    store = open_store(sqlite_url(tmp_path / "pacs.sqlite3"))
    try:
        yield store, BlobStore(tmp_path / "pacs-blobs")
    finally:
        store.close()


@pytest.fixture
def exported(tmp_path: Path) -> Path:
    """A DICOM file standing for an exported object."""
    target = tmp_path / "out" / "seg-1.dcm"
    target.parent.mkdir()
    shutil.copy(str(get_testdata_file("CT_small.dcm")), target)
    return target


def _has(store: Store, path: Path) -> bool:
    uid = str(dcmread(path, stop_before_pixels=True).SOPInstanceUID)
    with store.read_session() as session:
        return find_instance(session, uid) is not None


def _stow_url(server_url: str, store: Store) -> str:
    """The PACS's DICOMweb root, with the login of a service account in the URL (Basic)."""
    account = make_account(store, Role.SERVICE, "sender")
    return server_url.replace("://", f"://{account.username}:{account.password}@") + "/dicom-web"


def test_c_store_to_a_configured_peer(pacs: tuple[Store, BlobStore], exported: Path) -> None:
    """A SEG sent to the PACS by name must arrive there."""
    store, blobs = pacs
    config = ListenerConfig(
        ae_title="PACS",
        host="127.0.0.1",
        port=0,
        allowed_calling_aes=("VESALIUS",),
        min_free_bytes=0,
    )
    with DicomListener(config, store=store, blobs=blobs) as listener:
        peer = DicomPeer("pacs", "PACS", "127.0.0.1", listener.port)
        report = send_dicom([exported], "pacs", Settings(peers=(peer,)))
    assert report.ok
    assert (report.sent, report.destination) == (1, "pacs (PACS)")
    assert _has(store, exported)


def test_stow_rs_to_a_dicomweb_url(pacs: tuple[Store, BlobStore], exported: Path) -> None:
    """A SEG sent by STOW-RS must arrive at the DICOMweb server."""
    store, blobs = pacs
    with LoopbackServer(create_app(store, blobs, min_free_bytes=0)).running() as server:
        report = send_dicom([exported], _stow_url(server.url, store), Settings())
    assert report.ok
    assert report.sent == 1
    assert _has(store, exported)


def test_unknown_or_unreachable_destinations_are_clear_errors(exported: Path) -> None:
    """A typo in the peer name or a PACS down must say so, not pass silently."""
    with pytest.raises(ConfigError, match="unknown DICOM peer"):
        send_dicom([exported], "nope", Settings())
    down = DicomPeer("down", "DOWN", "127.0.0.1", 1)
    with pytest.raises(SendError, match="cannot reach DOWN"):
        send_dicom([exported], "down", Settings(peers=(down,)))
    with pytest.raises(SendError, match=r"127\.0\.0\.1:1"):
        send_dicom([exported], "http://127.0.0.1:1/dicom-web", Settings())


def _fhir_app(received: list[dict[str, Any]]) -> FastAPI:
    app = FastAPI()

    @app.post("/fhir")
    async def transaction(request: Request) -> JSONResponse:
        body = await request.json()
        received.append({"body": body, "auth": request.headers.get("authorization")})
        entry = {"response": {"status": "201 Created", "location": "DiagnosticReport/1"}}
        return JSONResponse(
            {"resourceType": "Bundle", "type": "transaction-response", "entry": [entry]}
        )

    return app


def test_send_exports_routes_dicom_and_fhir(
    pacs: tuple[Store, BlobStore],
    exported: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """DICOM to the PACS, the bundle to the EHR with the token, the PDF nowhere."""
    store, blobs = pacs
    bundle = tmp_path / "out" / "fhir-bundle.json"
    bundle.write_text('{"resourceType": "Bundle", "type": "transaction", "entry": []}')
    pdf = tmp_path / "out" / "report.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    files = [
        ExportedFile(exported, "application/dicom", "seg"),
        ExportedFile(bundle, "application/fhir+json", "fhir"),
        ExportedFile(pdf, "application/pdf", "pdf"),
    ]
    monkeypatch.setenv(FHIR_TOKEN_ENV, "t0ken")
    received: list[dict[str, Any]] = []
    with (
        LoopbackServer(create_app(store, blobs, min_free_bytes=0)).running() as pacs_server,
        LoopbackServer(_fhir_app(received)).running() as ehr,
    ):
        reports = send_exports(
            files,
            Settings(),
            dicom_to=_stow_url(pacs_server.url, store),
            fhir_endpoint=f"{ehr.url}/fhir",
        )
    assert [r.ok for r in reports] == [True, True]
    assert _has(store, exported)
    assert received == [
        {
            "body": {"resourceType": "Bundle", "type": "transaction", "entry": []},
            "auth": "Bearer t0ken",
        }
    ]
    assert send_exports(files, Settings()) == []  # no destination: nothing sent


def test_a_refused_bundle_is_a_send_error(tmp_path: Path) -> None:
    """A bundle the EHR refuses must not count as delivered."""
    bundle = tmp_path / "fhir-bundle.json"
    bundle.write_text('{"resourceType": "Bundle", "type": "transaction", "entry": []}')
    app = FastAPI()

    @app.post("/fhir")
    async def refuse() -> JSONResponse:
        outcome = {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": "forbidden", "diagnostics": "no"}],
        }
        return JSONResponse(outcome, status_code=403)

    with LoopbackServer(app).running() as ehr, pytest.raises(SendError, match="HTTP 403: no"):
        send_bundle_file(bundle, f"{ehr.url}/fhir")
