"""The worklist query: filters, order, paging and claims as a reading room sees them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.reporting.factory import T0, add_study, calcium, lungs, nodule, save
from vesalius.errors import InputError
from vesalius.reporting import review
from vesalius.reporting.drafts import refresh_study
from vesalius.reporting.worklist import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    WorklistQuery,
    claim,
    list_worklist,
    release,
)
from vesalius.store import BlobStore, Store

NOW = T0 + timedelta(hours=6)
NORMAL, SUSPICIOUS, STAT, OLD, MR = (f"1.2.826.0.1.9.4.{k}" for k in range(1, 6))


@pytest.fixture
def room(store: Store, blobs: BlobStore) -> Store:
    """Five triaged studies: normal, Lung-RADS 4B, STAT order, waiting 40 h, an MR."""
    add_study(store, blobs, NORMAL, arrived_at=T0, name="Normal^Nora")
    save(store, lungs(NORMAL))
    add_study(store, blobs, SUSPICIOUS, arrived_at=T0, patient_id="P2", name="Smith^Sam")
    save(store, [nodule(SUSPICIOUS, "4B"), *lungs(SUSPICIOUS)])
    add_study(
        store,
        blobs,
        STAT,
        arrived_at=T0,
        patient_id="P3",
        priority="STAT",
        study_date=date(2026, 3, 2),
    )
    add_study(
        store,
        blobs,
        OLD,
        arrived_at=T0 - timedelta(hours=34),
        patient_id="P4",
        study_date=date(2026, 2, 27),
    )
    add_study(
        store, blobs, MR, arrived_at=T0, patient_id="P5", modality="MR", description="MR BRAIN"
    )
    for uid in (NORMAL, SUSPICIOUS, STAT, OLD, MR):
        refresh_study(store, blobs, uid, now=NOW)
    return store


def uids(store: Store, **query: object) -> list[str]:
    with store.read_session() as s:
        page = list_worklist(s, WorklistQuery(**query), now=NOW)  # type: ignore[arg-type]
    return [item.study_uid for item in page.items]


def test_priority_order_and_reasons(room: Store) -> None:
    order = uids(room)
    assert order[:3] == [SUSPICIOUS, STAT, OLD]  # 4B (86), STAT (66), waiting 40 h (40)
    assert set(order[3:]) == {NORMAL, MR}  # 6 each: waiting 6 h
    with room.read_session() as s:
        top = list_worklist(s, WorklistQuery(limit=1), now=NOW)
    assert top.total == 5
    item = top.items[0].to_json()
    assert item["priority"] == {
        "score": 86.0,
        "level": "critical",
        "reasons": ["Lung-RADS 4B nodule (very suspicious)", "waiting 6 h"],
    }
    assert item["waiting_minutes"] == 360
    assert item["report"]["state"] == "draft"
    assert item["findings_count"] == 3
    assert item["modalities"] == ["CT"]


def test_filters_and_other_sorts(room: Store) -> None:
    assert uids(room, modality="MR") == [MR]
    assert uids(room, q="smith") == [SUSPICIOUS]
    assert uids(room, q="ACC4.3") == []
    assert set(uids(room, min_score=40)) == {SUSPICIOUS, STAT, OLD}
    assert uids(room, sort="waiting")[0] == OLD
    assert uids(room, sort="date")[0] == STAT
    assert uids(room, limit=2, offset=4) == [uids(room)[4]]


def test_claim_moves_a_study_between_statuses_and_signing_reports_it(room: Store) -> None:
    with room.session() as s:
        item = claim(s, SUSPICIOUS, "dr.grey", now=NOW)
    assert item.claimed_by == "dr.grey"
    assert SUSPICIOUS not in uids(room)
    assert uids(room, status="claimed") == [SUSPICIOUS]
    with room.session() as s, pytest.raises(ConflictError, match=r"being read by dr\.grey"):
        claim(s, SUSPICIOUS, "dr.house", now=NOW)
    with room.session() as s:
        assert claim(s, SUSPICIOUS, "dr.grey", now=NOW).claimed_by == "dr.grey"  # again: fine
        report = review.latest_report(s, SUSPICIOUS)
        review.sign(s, report.id, "dr.grey")
    assert uids(room, status="reported") == [SUSPICIOUS]
    assert uids(room, status="claimed") == []  # signing ended the claim
    with room.session() as s, pytest.raises(ConflictError, match="already reported"):
        claim(s, SUSPICIOUS, "dr.house", now=NOW)


def test_release_rules(room: Store) -> None:
    with room.session() as s:
        claim(s, STAT, "dr.grey", now=NOW)
    with room.session() as s, pytest.raises(ForbiddenError, match=r"claimed by dr\.grey"):
        release(s, STAT, "dr.house", admin=False, now=NOW)
    with room.session() as s:
        assert release(s, STAT, "admin", admin=True, now=NOW).claimed_by is None
        claim(s, STAT, "dr.house", now=NOW)
    with room.session() as s:
        assert release(s, STAT, "dr.house", admin=False, now=NOW).claimed_by is None
        assert release(s, STAT, "dr.house", admin=False, now=NOW).claimed_by is None
    with room.session() as s, pytest.raises(NotFoundError):
        release(s, "9.9", "dr.house", admin=False, now=NOW)


def test_bad_query_values_are_input_errors() -> None:
    with pytest.raises(InputError, match="sort must be one of"):
        WorklistQuery(sort="name")
    with pytest.raises(InputError, match="limit must be between"):
        WorklistQuery(limit=0)


def test_triage_follows_new_findings(room: Store, blobs: BlobStore) -> None:
    save(room, calcium(NORMAL, 1200.0, label="A3/N3"))
    refresh_study(room, blobs, NORMAL, now=NOW)
    with room.read_session() as s:
        page = list_worklist(s, WorklistQuery(q="normal"), now=NOW)
    assert page.items[0].priority.reasons[0] == "very high coronary calcium (Agatston 1200)"
