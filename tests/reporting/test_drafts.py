"""refresh_study: triage stored, the draft created, redrawn, or left alone once touched."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from tests.reporting.factory import T0, add_study, calcium, lungs, nodule, save
from vesalius.errors import StoreError
from vesalius.reporting import review
from vesalius.reporting.drafts import refresh_study
from vesalius.store import BlobStore, Store
from vesalius.store.audit import events_for
from vesalius.store.models import Finding as FindingRow
from vesalius.store.models import Instance, Report
from vesalius.store.worklist import StudyTriage, content_of

UID = "1.2.826.0.1.9.3"


def test_draft_is_created_from_findings_with_linked_ai_sentences(
    store: Store, blobs: BlobStore
) -> None:
    add_study(store, blobs, UID, priority="STAT", location="Emergency department")
    save(store, [nodule(UID, "4A"), *lungs(UID)])
    done = refresh_study(store, blobs, UID, now=T0 + timedelta(hours=2))
    assert (done.draft, done.template) == ("created", "lung-screening")
    assert done.triage.reasons == (
        "order priority STAT",
        "Lung-RADS 4A nodule (suspicious)",
        "emergency patient",
        "waiting 2 h",
    )
    with store.read_session() as s:
        report = s.get(Report, done.report_id)
        assert report is not None
        assert report.author == "vesalius"
        ids = set(s.scalars(select(FindingRow.id)))
        content = content_of(s, report.id)
        assert content is not None
        triage = s.scalars(select(StudyTriage)).one()
        assert (triage.order_priority, triage.patient_class) == ("STAT", "emergency")
        assert (triage.findings_count, triage.report_state) == (3, "draft")
        view = review.report_view(s, report)
        history = [(e.who, e.action) for e in events_for(s, "report", str(report.id))]
    linked = [x for x in view["sentences"] if x["finding_id"] is not None]
    assert {x["finding_id"] for x in linked} == ids
    assert all(x["ai"] and x["algorithm"] for x in linked)
    assert "Lung-RADS 4A" in view["impression"]
    assert "[AI: vesalius.chest-ct.nodules 0.3.0]" in view["text"]
    assert history == [("vesalius", "create-draft")]


def test_untouched_draft_is_redrawn_when_findings_arrive(store: Store, blobs: BlobStore) -> None:
    add_study(store, blobs, UID)
    save(store, lungs(UID))
    first = refresh_study(store, blobs, UID, now=T0)
    save(store, calcium(UID, 350.0))
    again = refresh_study(store, blobs, UID, now=T0)
    assert (again.draft, again.report_id) == ("updated", first.report_id)
    with store.read_session() as s:
        text = review.report_view(s, review.get_report(s, first.report_id))["text"]
    assert "CAC-DRS A3/N2" in text


def test_a_touched_or_advanced_report_is_never_overwritten(store: Store, blobs: BlobStore) -> None:
    add_study(store, blobs, UID)
    save(store, lungs(UID))
    rid = refresh_study(store, blobs, UID, now=T0).report_id
    with store.session() as s:
        review.edit_text(s, rid, "Normal lungs. My words.", "dr.grey")
    save(store, calcium(UID, 2000.0))
    done = refresh_study(store, blobs, UID, now=T0)
    assert done.draft == "kept"
    assert done.triage.level == "urgent"  # the triage still follows the new findings
    with store.read_session() as s:
        assert review.get_report(s, rid).text == "Normal lungs. My words."


def test_study_without_readable_header_is_still_triaged(store: Store, blobs: BlobStore) -> None:
    add_study(store, blobs, UID, priority="STAT")
    with store.session() as s:
        s.execute(update(Instance).values(blob_path="00/00/missing.dcm"))
    done = refresh_study(store, blobs, UID, now=T0)
    assert done.triage.reasons == ()  # no order priority known: nothing invented


def test_unknown_study_is_a_store_error(store: Store, blobs: BlobStore) -> None:
    with pytest.raises(StoreError, match=r"no study 9\.9\.9"):
        refresh_study(store, blobs, "9.9.9")
