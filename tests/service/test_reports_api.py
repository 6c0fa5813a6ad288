"""The report API: review a draft, judge findings, sign, amend, with the audit trail."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.service.worklist_fixtures import (
    NORMAL,
    SUSPICIOUS,
    Served,
    as_user,
    served,
    test_authorize,
)
from vesalius.service import reports_api
from vesalius.service.context import AppContext
from vesalius.settings import ExportSettings, Settings
from vesalius.store.audit import events_for
from vesalius.store.states import AuditOutcome
from vesalius.store.worklist import FindingFeedback

__all__ = ["served"]

GREY = as_user("dr.grey")


def report_of(served: Served, study_uid: str, who: dict[str, str] = GREY) -> dict[str, Any]:
    answer = served.client.get(f"/api/studies/{study_uid}/report", headers=who)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_draft_sentences_link_findings_and_are_marked_ai(served: Served) -> None:
    report = report_of(served, SUSPICIOUS, as_user("student", "viewer"))
    assert (report["state"], report["version"], report["template"]) == (
        "draft",
        1,
        "lung-screening",
    )
    study = served.client.get(f"/api/studies/{SUSPICIOUS}", headers=GREY).json()
    finding_ids = {f["id"] for f in study["findings"]}
    linked = [s for s in report["sentences"] if s["finding_id"] is not None]
    assert {s["finding_id"] for s in linked} == finding_ids
    assert all(s["ai"] and s["algorithm"].startswith("vesalius.chest-ct.") for s in linked)
    assert report["impression"].startswith("Lung-RADS 4B: very suspicious.")
    assert report["recommendation"].startswith("Diagnostic chest CT")
    assert report["signed_by"] is None
    missing = served.client.get("/api/studies/9.9.9/report", headers=GREY)
    assert missing.status_code == 404


def test_feedback_is_stored_and_shown_on_the_finding(served: Served) -> None:
    report = report_of(served, SUSPICIOUS)
    study = served.client.get(f"/api/studies/{SUSPICIOUS}", headers=GREY).json()
    nodule_id = study["findings"][0]["id"]
    url = f"/api/reports/{report['id']}/findings/{nodule_id}/feedback"
    body = {"decision": "edit", "comment": "16 mm, not 9", "value": 16.0}
    answer = served.client.post(url, json=body, headers=GREY)
    assert answer.status_code == 200
    assert answer.json()["decision"] == "edit"
    with served.store.read_session() as s:
        row = s.query(FindingFeedback).one()
    assert (row.finding_pk, row.given_by, row.value, row.comment) == (
        nodule_id,
        "dr.grey",
        16.0,
        "16 mm, not 9",
    )
    study = served.client.get(f"/api/studies/{SUSPICIOUS}", headers=GREY).json()
    assert study["findings"][0]["feedback"]["decision"] == "edit"
    assert study["findings"][0]["feedback"]["by"] == "dr.grey"
    bad = served.client.post(url, json={"decision": "maybe"}, headers=GREY)
    assert bad.status_code == 422
    other = report_of(served, NORMAL)
    foreign = served.client.post(
        f"/api/reports/{other['id']}/findings/{nodule_id}/feedback",
        json={"decision": "accept"},
        headers=GREY,
    )
    assert foreign.status_code == 404


def test_review_states_and_conflicts(served: Served) -> None:
    rid = report_of(served, NORMAL)["id"]
    base = f"/api/reports/{rid}"
    edited = served.client.put(f"{base}/text", json={"text": "Normal chest CT."}, headers=GREY)
    assert (edited.status_code, edited.json()["text"]) == (200, "Normal chest CT.")
    prelim = served.client.post(f"{base}/preliminary", headers=GREY)
    assert prelim.json()["state"] == "preliminary"
    assert served.client.post(f"{base}/preliminary", headers=GREY).status_code == 409
    signed = served.client.post(f"{base}/sign", headers=GREY)
    assert signed.status_code == 200
    assert (signed.json()["state"], signed.json()["signed_by"]) == ("final", "dr.grey")
    assert served.client.post(f"{base}/sign", headers=GREY).status_code == 409
    late = served.client.put(f"{base}/text", json={"text": "Oops."}, headers=GREY)
    assert late.status_code == 409
    amended = served.client.post(f"{base}/amend", json={"text": "Addendum."}, headers=GREY)
    assert (amended.json()["state"], amended.json()["version"]) == ("amended", 2)
    worklist = served.client.get("/api/worklist?status=reported", headers=GREY).json()
    assert [i["study_uid"] for i in worklist["items"]] == [NORMAL]
    assert worklist["items"][0]["report"] == {"id": rid, "state": "amended"}


def test_signing_needs_a_radiologist(served: Served) -> None:
    rid = report_of(served, NORMAL)["id"]
    for role in ("technologist", "admin", "viewer"):
        refused = served.client.post(f"/api/reports/{rid}/sign", headers=as_user("x", role))
        assert refused.status_code == 403, role
    assert served.client.post(f"/api/reports/{rid}/sign").status_code == 401
    assert report_of(served, NORMAL)["state"] == "draft"
    signed = served.client.post(f"/api/reports/{rid}/sign", headers=GREY)  # from draft
    assert signed.json()["state"] == "final"


def test_a_study_claimed_by_another_cannot_be_changed(served: Served) -> None:
    rid = report_of(served, NORMAL)["id"]
    served.client.post(f"/api/studies/{NORMAL}/claim", headers=as_user("dr.house"))
    edit = served.client.put(f"/api/reports/{rid}/text", json={"text": "x"}, headers=GREY)
    assert edit.status_code == 409
    assert "being read by dr.house" in edit.json()["detail"]
    signed = served.client.post(f"/api/reports/{rid}/sign", headers=as_user("dr.house"))
    assert signed.status_code == 200
    item = served.client.get(f"/api/studies/{NORMAL}", headers=GREY).json()["study"]
    assert item["claimed_by"] is None  # signing ended the claim


def test_history_records_who_did_what_and_when(served: Served) -> None:
    rid = report_of(served, NORMAL)["id"]
    served.client.put(f"/api/reports/{rid}/text", json={"text": "Normal."}, headers=GREY)
    served.client.post(f"/api/reports/{rid}/sign", headers=as_user("dr.house"))
    history = report_of(served, NORMAL)["history"]
    assert [(h["who"], h["action"]) for h in history] == [
        ("vesalius", "create-draft"),
        ("dr.grey", "edit-text"),
        ("dr.house", "sign"),
    ]
    assert all(h["at"] for h in history)
    assert history[2]["detail"] == "signed by Dr dr.house"
    refused = served.client.post(f"/api/reports/{rid}/sign", headers=as_user("dr.house"))
    assert refused.status_code == 409
    failed = report_of(served, NORMAL)["history"][-1]
    assert (failed["who"], failed["action"], failed["detail"]) == (
        "dr.house",
        "sign",
        f"report {rid} is final; amend it instead",
    )


def test_signing_runs_the_exports_on_sign_and_a_failed_one_keeps_the_signature(
    served: Served, tmp_path: Path
) -> None:
    """With ``[export] on_sign``, the signed report is exported; a failure is shown, audited."""
    settings = Settings(data_dir=tmp_path, export=ExportSettings(on_sign=("seg", "fhir")))
    ctx = AppContext(served.store, served.blobs, test_authorize, settings=settings)
    app = FastAPI()
    app.include_router(reports_api.make_router(ctx))
    rid = report_of(served, SUSPICIOUS)["id"]
    signed = TestClient(app).post(f"/api/reports/{rid}/sign", headers=GREY)
    assert signed.status_code == 200
    body = signed.json()
    assert body["state"] == "final"
    seg, fhir = body["exports"]
    assert (seg["kind"], seg["ok"]) == ("seg", False)
    assert "no segmentation" in seg["error"]
    assert (fhir["kind"], fhir["ok"], fhir["files"]) == ("fhir", True, ["fhir-bundle.json"])
    with served.store.read_session() as s:
        exports = [e for e in events_for(s, "study", SUSPICIOUS) if e.action == "export"]
    assert [e.outcome for e in exports] == [AuditOutcome.FAILURE, AuditOutcome.SUCCESS]
