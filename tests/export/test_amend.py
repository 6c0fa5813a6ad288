"""Amending a signed report exports it again: new SR, FHIR and PDF, the SR naming its predecessor.

What a user would see go wrong: the EHR and the PACS keep the report as first signed after
a radiologist corrected it; or the corrected SR arrives with the UID of the old one (the
PACS ignores it as a duplicate) or without saying which document it replaces.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, HTTPException, Request
from fastapi.testclient import TestClient
from pydicom import dcmread

from tests.export.conftest import WrittenCT, dciodvfy_errors, needs_dciodvfy
from tests.export.fixtures_exports import REPORT_TEXT, sample_findings
from vesalius.core import SeriesRef
from vesalius.export.on_sign import OnSignResult, export_on_sign
from vesalius.export.sr_amend import predecessor_uids
from vesalius.findings.persist import save_findings
from vesalius.ingest.folder import import_files
from vesalius.service import reports_api
from vesalius.service.context import AppContext, Principal
from vesalius.settings import ExportSettings, Settings
from vesalius.store import BlobStore, Store, open_store, sqlite_url
from vesalius.store.reports import create_draft, finalize, mark_preliminary
from vesalius.store.roles import Permission, Role

AMENDED_TEXT = REPORT_TEXT.replace("Moderate", "Severe")


@dataclass(frozen=True, eq=False)
class SignedStudy:
    store: Store
    blobs: BlobStore
    study_uid: str
    report_id: int
    settings: Settings


@pytest.fixture
def signed_ct(written_ct: WrittenCT, tmp_path: Path) -> Iterator[SignedStudy]:
    """The written CT filed in a store with the sample findings and a signed report."""
    store, blobs = open_store(sqlite_url(tmp_path / "i.sqlite3")), BlobStore(tmp_path / "b")
    import_files(sorted(written_ct.folder.glob("*.dcm")), store=store, blobs=blobs)
    first = written_ct.headers[0]
    study_uid = str(first.StudyInstanceUID)
    source = SeriesRef(study_uid, str(first.SeriesInstanceUID), (str(first.SOPInstanceUID),))
    with store.session() as session:
        save_findings(session, [replace(f, source=source) for f in sample_findings()])
        report = create_draft(session, study_uid, text=REPORT_TEXT, author="ai:chest-ct")
        mark_preliminary(session, report.id)
        finalize(session, report.id, signed_by="dr.grey")
        report_id = report.id
    export = ExportSettings(on_sign=("sr", "fhir", "pdf"))
    settings = Settings(data_dir=tmp_path / "data", export=export)
    try:
        yield SignedStudy(store, blobs, study_uid, report_id, settings)
    finally:
        store.close()


def _radiologist(permission: Permission) -> Callable[[Request], Principal]:
    def dependency(request: Request) -> Principal:
        principal = Principal("dr.grey", Role.RADIOLOGIST, "Dr Grey", "10.0.0.9")
        if not principal.may(permission):
            raise HTTPException(403, "not allowed")
        return principal

    return dependency


def _amend(study: SignedStudy, text: str) -> dict[str, Any]:
    ctx = AppContext(study.store, study.blobs, _radiologist, settings=study.settings)
    app = FastAPI()
    app.include_router(reports_api.make_router(ctx))
    answer = TestClient(app).post(f"/api/reports/{study.report_id}/amend", json={"text": text})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _sr_uid(results: list[OnSignResult]) -> str:
    (sr,) = (r for r in results if r.kind == "sr")
    assert sr.ok, sr.error
    return str(dcmread(sr.files[0].path).SOPInstanceUID)


def _diagnostic_report(results: list[OnSignResult]) -> tuple[str, dict[str, Any]]:
    (fhir,) = (r for r in results if r.kind == "fhir")
    bundle = json.loads(fhir.files[0].path.read_text())
    (entry,) = (e for e in bundle["entry"] if e["resource"]["resourceType"] == "DiagnosticReport")
    return str(entry["fullUrl"]), entry["resource"]


def _files(study: SignedStudy) -> Path:
    return study.settings.data_dir / "exports" / study.study_uid


def test_amending_exports_again_with_new_uids_and_the_predecessor(signed_ct: SignedStudy) -> None:
    """Each amendment reaches the PACS and the EHR as a new document replacing the last."""
    study = signed_ct
    signed = export_on_sign(study.store, study.blobs, study.settings, study.study_uid)
    first_sr = _sr_uid(signed)
    first_url, first_report = _diagnostic_report(signed)
    first_pdf = (_files(study) / "report.pdf").read_bytes()
    assert first_report["status"] == "final"
    assert predecessor_uids((_files(study) / "sr.dcm").read_bytes()) == []

    body = _amend(study, AMENDED_TEXT)
    assert (body["state"], body["version"]) == ("amended", 2)
    assert [(e["kind"], e["ok"]) for e in body["exports"]] == [
        ("sr", True),
        ("fhir", True),
        ("pdf", True),
    ]
    sr = dcmread(_files(study) / "sr.dcm")
    assert sr.SOPInstanceUID != first_sr
    assert sr.file_meta.MediaStorageSOPInstanceUID == sr.SOPInstanceUID
    assert predecessor_uids((_files(study) / "sr.dcm").read_bytes()) == [first_sr]
    bundle = json.loads((_files(study) / "fhir-bundle.json").read_text())
    (entry,) = (e for e in bundle["entry"] if e["resource"]["resourceType"] == "DiagnosticReport")
    assert entry["resource"]["status"] == "amended"
    assert entry["fullUrl"] != first_url
    assert "Severe coronary calcification." in entry["resource"]["conclusion"]
    assert (_files(study) / "report.pdf").read_bytes() != first_pdf

    second_sr = str(sr.SOPInstanceUID)
    _amend(study, AMENDED_TEXT + "\nAddendum.")
    third = (_files(study) / "sr.dcm").read_bytes()
    assert predecessor_uids(third) == [second_sr]
    assert str(dcmread(_files(study) / "sr.dcm").SOPInstanceUID) not in (first_sr, second_sr)


@needs_dciodvfy
def test_the_amended_sr_is_a_valid_sr(signed_ct: SignedStudy) -> None:
    """A PACS that validates IODs must take the corrected SR."""
    _amend(signed_ct, AMENDED_TEXT)
    assert dciodvfy_errors(_files(signed_ct) / "sr.dcm") == []
