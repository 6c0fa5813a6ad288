"""FHIR R4 export: a transaction Bundle an EHR accepts, saying what the report says.

What a user would see go wrong: an EHR refusing the bundle, a signed report arriving as
preliminary (or a draft as final), measurements without units or codes, AI output not
marked as such, observations not linked to the study or report, a FHIR server's refusal
passing silently.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.diagnosticreport import DiagnosticReport
from fhir.resources.R4B.imagingstudy import ImagingStudy
from fhir.resources.R4B.observation import Observation

from tests.export.fixtures_exports import (
    PATIENT_ID,
    SERIES_UID,
    STUDY_UID,
    LoopbackServer,
    sample_content,
)
from vesalius.export.content import load_study_content
from vesalius.export.fhir import (
    BUNDLE_FILE,
    FhirError,
    fhir_bundle,
    send_fhir,
    validate_resource,
    write_fhir,
)
from vesalius.store import BlobStore, open_store, sqlite_url

NOW = datetime(2026, 3, 15, 9, 30, tzinfo=UTC)


def _resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def _by_url(bundle: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["fullUrl"]: e["resource"] for e in bundle["entry"]}


def test_every_resource_validates_with_the_fhir_models() -> None:
    """An EHR would refuse a bundle with an invalid resource."""
    bundle = fhir_bundle(sample_content(), now=NOW)
    parsed = Bundle.model_validate_json(json.dumps(bundle))
    assert parsed.type == "transaction"
    kinds: dict[str, Any] = {
        "ImagingStudy": ImagingStudy,
        "Observation": Observation,
        "DiagnosticReport": DiagnosticReport,
    }
    for entry in bundle["entry"]:
        resource = entry["resource"]
        model = kinds.get(resource["resourceType"])
        if model is not None:
            model.model_validate_json(json.dumps(resource))
        assert entry["request"]["method"] == "POST"
        assert entry["request"]["url"] == resource["resourceType"]
        assert entry["fullUrl"].startswith("urn:uuid:")


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("draft", "preliminary"),
        ("preliminary", "preliminary"),
        ("final", "final"),
        ("amended", "amended"),
        (None, "preliminary"),
    ],
)
def test_report_status_follows_the_report_state(state: str | None, status: str) -> None:
    """A draft arriving in the EHR as final would be taken as a signed diagnosis."""
    bundle = fhir_bundle(sample_content(state), now=NOW)
    (report,) = _resources(bundle, "DiagnosticReport")
    assert report["status"] == status
    assert {o["status"] for o in _resources(bundle, "Observation")} == {status}
    signed = state in ("final", "amended")
    assert ("resultsInterpreter" in report) is signed


def test_report_links_patient_study_and_observations() -> None:
    """Observations not linked to the report or study would be orphans in the EHR."""
    bundle = fhir_bundle(sample_content(), now=NOW)
    urls = _by_url(bundle)
    (report,) = _resources(bundle, "DiagnosticReport")
    (study,) = _resources(bundle, "ImagingStudy")
    assert report["subject"]["identifier"]["value"] == PATIENT_ID
    assert report["code"]["coding"][0] == {
        "system": "http://loinc.org",
        "code": "18747-6",
        "display": "CT Study",
    }
    assert report["conclusion"].startswith("Moderate coronary calcification.")
    assert "Cardiology referral" in report["conclusion"]
    assert urls[report["imagingStudy"][0]["reference"]] is study
    results = [urls[r["reference"]] for r in report["result"]]
    assert results == _resources(bundle, "Observation")
    assert {"system": "urn:dicom:uid", "value": f"urn:oid:{STUDY_UID}"} in study["identifier"]
    assert study["series"][0]["uid"] == SERIES_UID
    assert (study["numberOfSeries"], study["numberOfInstances"]) == (1, 3)
    assert study["series"][0]["modality"]["code"] == "CT"


def test_observations_carry_values_units_codes_and_ai_marks() -> None:
    """A number without its unit or code, or AI output unmarked, misleads the clinician."""
    bundle = fhir_bundle(sample_content(), now=NOW)
    observations = _resources(bundle, "Observation")
    assert len(observations) == 5  # two lung volumes, score and volume, one category
    urls = _by_url(bundle)
    by_text = {o["code"]["text"]: o for o in observations}
    left = next(o for o in observations if o.get("bodySite", {}).get("text") == "Lung, left")
    assert left["valueQuantity"] == {
        "value": 2512.5,
        "unit": "mL",
        "system": "http://unitsofmeasure.org",
        "code": "mL",
    }
    assert left["code"]["coding"] == [
        {"system": "http://snomed.info/sct", "code": "118565006", "display": "Volume"}
    ]
    score = by_text["Coronary artery calcification: Calcium score"]
    assert score["code"]["coding"][0]["system"] == "http://dicom.nema.org/resources/ontology/DCM"
    assert score["valueQuantity"]["value"] == pytest.approx(187.4)
    assert score["interpretation"][0]["text"].startswith("CAC-DRS A2/N2")
    nodule = by_text["Lung nodule"]
    assert nodule["valueCodeableConcept"]["text"].startswith("Lung-RADS 2")
    for obs in observations:
        assert "AI-generated" in obs["note"][0]["text"]
        device = urls[obs["device"]["reference"]]
        assert device["resourceType"] == "Device"
        assert urls[obs["derivedFrom"][0]["reference"]]["resourceType"] == "ImagingStudy"
    names = sorted(d["deviceName"][0]["name"] for d in _resources(bundle, "Device"))
    assert names == ["vesalius.chest-ct", "vesalius.nodules"]


def test_a_technique_limitation_reaches_the_ehr_as_its_sentence() -> None:
    """Thick slices limit what the analysis can see: the EHR must say so, not drop it."""
    from dataclasses import replace

    from vesalius.analyze.chest_ct import NoduleResult
    from vesalius.core import SeriesRef, Volume
    from vesalius.findings.from_nodules import slice_limitation

    empty = Volume.from_spacing(np.zeros((2, 2, 2), np.uint16))
    source = SeriesRef(STUDY_UID, SERIES_UID)
    (limit,) = slice_limitation(NoduleResult((), empty, 0, 0.0, 5.0), source=source)
    content = sample_content()
    content = replace(content, findings=(*content.findings, limit))
    bundle = fhir_bundle(content, now=NOW)
    (obs,) = [o for o in _resources(bundle, "Observation") if "valueString" in o]
    assert obs["code"]["text"] == "Technique limitation"
    assert obs["valueString"] == (
        "Slices 5.0 mm apart, thicker than the 2.5 mm Lung-RADS assumes: "
        "small nodules may be missed"
    )
    assert "AI-generated" in obs["note"][0]["text"]
    Observation.model_validate(obs)


def test_the_pdf_can_travel_with_the_report() -> None:
    """The EHR shows the signed PDF; it must arrive intact."""
    pdf = b"%PDF-1.4 pretend\n%%EOF"
    bundle = fhir_bundle(sample_content(), pdf=pdf, now=NOW)
    (report,) = _resources(bundle, "DiagnosticReport")
    form = report["presentedForm"][0]
    assert form["contentType"] == "application/pdf"
    assert base64.b64decode(form["data"]) == pdf


def test_same_study_gives_the_same_bundle_and_a_file(tmp_path: Path) -> None:
    """Exporting twice must not mint different identities for the same resources."""
    first, second = (fhir_bundle(sample_content(), now=NOW) for _ in range(2))
    assert first == second
    path = write_fhir(first, tmp_path)
    assert path.name == BUNDLE_FILE
    assert json.loads(path.read_text()) == first


def test_bundle_from_the_store(tmp_path: Path) -> None:
    """What the store holds (patient, instances, findings, signed report) is what is sent."""
    from tests.export.fixtures_exports import indexed_study

    store = open_store(sqlite_url(tmp_path / "i.sqlite3"))
    try:
        indexed_study(store, BlobStore(tmp_path / "blobs"))
        with store.read_session() as session:
            content = load_study_content(session, STUDY_UID)
    finally:
        store.close()
    bundle = fhir_bundle(content, now=NOW)
    (report,) = _resources(bundle, "DiagnosticReport")
    assert report["status"] == "final"
    assert report["resultsInterpreter"] == [{"display": "Dr. Grey"}]
    assert report["issued"] != NOW.isoformat()  # the signature time, not the export time
    assert len(_resources(bundle, "Observation")) == 5


def test_an_invalid_resource_is_refused() -> None:
    """A malformed resource must never be sent."""
    with pytest.raises(FhirError, match="Observation"):
        validate_resource({"resourceType": "Observation", "status": "final", "code": 5})
    with pytest.raises(FhirError, match="unknown FHIR resource"):
        validate_resource({"resourceType": "NoSuchThing"})


def _fhir_server(received: list[dict[str, Any]]) -> FastAPI:
    app = FastAPI()

    @app.post("/fhir")
    async def transaction(request: Request) -> JSONResponse:
        if request.headers.get("content-type") != "application/fhir+json":
            return JSONResponse(
                {
                    "resourceType": "OperationOutcome",
                    "issue": [
                        {
                            "severity": "error",
                            "code": "invalid",
                            "diagnostics": "wrong content type",
                        }
                    ],
                },
                status_code=415,
            )
        body = await request.json()
        if body.get("resourceType") != "Bundle" or body.get("type") != "transaction":
            return JSONResponse(
                {
                    "resourceType": "OperationOutcome",
                    "issue": [
                        {"severity": "error", "code": "invalid", "diagnostics": "not a transaction"}
                    ],
                },
                status_code=400,
            )
        received.append({"body": body, "auth": request.headers.get("authorization")})
        entries = [
            {
                "response": {
                    "status": "201 Created",
                    "location": f"{e['resource']['resourceType']}/{k}/_history/1",
                }
            }
            for k, e in enumerate(body["entry"])
        ]
        return JSONResponse(
            {"resourceType": "Bundle", "type": "transaction-response", "entry": entries},
            media_type="application/fhir+json",
        )

    return app


def test_send_fhir_posts_the_transaction_to_the_endpoint() -> None:
    """The report must reach the EHR, with the token, and what it created be reported."""
    received: list[dict[str, Any]] = []
    bundle = fhir_bundle(sample_content(), now=NOW)
    with LoopbackServer(_fhir_server(received)).running() as server:
        result = send_fhir(bundle, f"{server.url}/fhir/", token="s3cret")
        with pytest.raises(FhirError, match="not a transaction"):
            send_fhir({**bundle, "resourceType": "Parameters"}, f"{server.url}/fhir")
    assert result.status_code == 200
    assert len(result.locations) == len(bundle["entry"])
    assert result.locations[-1].startswith("DiagnosticReport/")
    (call,) = received
    assert call["body"] == bundle
    assert call["auth"] == "Bearer s3cret"


def test_send_fhir_failures_are_errors_naming_the_endpoint() -> None:
    """A refused or unreachable FHIR server must not look like a success."""
    bundle = fhir_bundle(sample_content(), now=NOW)
    with pytest.raises(FhirError, match=r"127\.0\.0\.1:1"):
        send_fhir(bundle, "http://127.0.0.1:1/fhir", timeout_s=2)
    with (
        LoopbackServer(_fhir_server([])).running() as server,
        pytest.raises(FhirError, match="HTTP 404"),
    ):
        send_fhir(bundle, f"{server.url}/elsewhere")
    with pytest.raises(FhirError, match="transaction"):
        send_fhir({**bundle, "type": "batch"}, "http://127.0.0.1:1/fhir")


def test_issued_is_the_signature_time_with_a_time_zone() -> None:
    """FHIR instants need a time zone; a naive signature time is UTC, not dropped."""
    from dataclasses import replace

    content = sample_content("final")
    assert content.report is not None
    signed = replace(
        content, report=replace(content.report, signed_at=datetime(2026, 3, 14, 18, 5))
    )
    (report,) = _resources(fhir_bundle(signed, now=NOW), "DiagnosticReport")
    assert report["issued"] == "2026-03-14T18:05:00+00:00"
