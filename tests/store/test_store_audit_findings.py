"""The audit trail and stored findings."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import pytest

from vesalius.errors import StoreError
from vesalius.store import AuditOutcome, Store
from vesalius.store.audit import AuditRecord, append_event, events_by, events_for
from vesalius.store.findings import Algorithm, Code, FindingRecord, add_finding, findings_of_study
from vesalius.store.header import PatientInfo, SeriesInfo, StudyInfo
from vesalius.store.index import upsert_patient, upsert_series, upsert_study
from vesalius.store.types import utc_now


def test_audit_events_are_appended_and_found_by_object_and_actor(store: Store) -> None:
    """Every read or change leaves a trace that can be listed per object and per user."""
    earlier = utc_now() - timedelta(days=1)
    with store.session() as s:
        append_event(s, AuditRecord("dr.grey", "read", "study", "1.2", source="10.0.0.7"))
        append_event(
            s,
            AuditRecord(
                "dr.grey",
                "sign",
                "report",
                "5",
                outcome=AuditOutcome.FAILURE,
                detail="not preliminary",
            ),
        )
        append_event(s, AuditRecord("scp:CT1", "create", "study", "1.2", at=earlier))
    with store.read_session() as s:
        about_study = events_for(s, "study", "1.2")
        by_grey = events_by(s, "dr.grey", since=utc_now() - timedelta(hours=1))
    assert [(e.who, e.action) for e in about_study] == [("scp:CT1", "create"), ("dr.grey", "read")]
    assert about_study[1].source == "10.0.0.7"
    assert [e.outcome for e in by_grey] == [AuditOutcome.SUCCESS, AuditOutcome.FAILURE]
    assert all(e.at.tzinfo is not None for e in about_study)


def test_audit_event_needs_who_and_an_aware_time(store: Store) -> None:
    """An anonymous event or a naive timestamp is refused."""
    with pytest.raises(StoreError, match="needs who"), store.session() as s:
        append_event(s, AuditRecord("", "read", "study", "1"))
    with pytest.raises(StoreError, match="no time zone"), store.session() as s:
        append_event(s, AuditRecord("u", "read", "study", "1", at=datetime(2024, 1, 1)))


@pytest.fixture
def study(store: Store) -> Store:
    """Study 1.2 with series 1.2.1 indexed."""
    with store.session() as s:
        st = upsert_study(s, StudyInfo("1.2"), patient=upsert_patient(s, PatientInfo("P1")))
        upsert_series(s, SeriesInfo("1.2.1", modality="CT"), study=st)
    return store


def test_finding_keeps_typed_columns_and_the_full_payload(study: Store) -> None:
    """A finding is queryable by its typed parts and round-trips its JSON payload."""
    record = FindingRecord(
        study_uid="1.2",
        series_uid="1.2.1",
        kind="nodule",
        algorithm=Algorithm("chest-ct", "2.1.0"),
        code=Code("SCT", "27925004", "Nodule"),
        category="4B",
        confidence=0.87,
        payload={"diameter_mm": 12.5, "center_lps": [1.0, -2.0, 3.5], "note": "spiculated"},
    )
    with study.session() as s:
        add_finding(s, record)
    with study.read_session() as s:
        (finding,) = findings_of_study(s, "1.2")
    assert (finding.kind, finding.code_value, finding.category) == ("nodule", "27925004", "4B")
    assert (finding.algorithm_name, finding.algorithm_version, finding.is_ai) == (
        "chest-ct",
        "2.1.0",
        True,
    )
    assert finding.confidence == pytest.approx(0.87)
    assert finding.payload == dict(record.payload)
    assert finding.series_pk is not None


def test_finding_with_unknown_refs_or_bad_payload_is_refused(study: Store) -> None:
    """Unknown study/series, or a payload JSON cannot hold (NaN, objects), raise StoreError."""
    algo = Algorithm("a", "1")
    bad = [
        (FindingRecord("9.9", "nodule", algo), "unknown study"),
        (FindingRecord("1.2", "nodule", algo, series_uid="9.9"), "unknown series"),
        (FindingRecord("1.2", "nodule", algo, payload={"d": math.nan}), "not JSON"),
        (FindingRecord("1.2", "nodule", algo, payload={"d": object()}), "not JSON"),
    ]
    for record, message in bad:
        with pytest.raises(StoreError, match=message), study.session() as s:
            add_finding(s, record)
