"""Worklist tables on both databases: two readers claiming one study, exactly one wins."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from vesalius.store import Store
from vesalius.store.findings import Algorithm, FindingRecord, add_finding
from vesalius.store.header import PatientInfo, StudyInfo
from vesalius.store.index import upsert_patient, upsert_study
from vesalius.store.reports import create_draft
from vesalius.store.worklist import (
    StudyClaim,
    add_feedback,
    claim_of,
    claim_study,
    latest_feedback,
    release_claim,
)

READERS = 8


def _study(store: Store, uid: str = "1.2.826.0.1.9.5") -> int:
    with store.session() as s:
        return upsert_study(s, StudyInfo(uid), patient=upsert_patient(s, PatientInfo("P1"))).id


def test_concurrent_claims_have_exactly_one_winner(store: Store) -> None:
    """Eight readers click "claim" at once: one gets the study, all see the same holder."""
    pk = _study(store)
    start = threading.Barrier(READERS)

    def attempt(k: int) -> str:
        start.wait()
        with store.session() as s:
            return claim_study(s, pk, f"dr.{k}").claimed_by

    with ThreadPoolExecutor(READERS) as pool:
        holders = list(pool.map(attempt, range(READERS)))
    assert len(set(holders)) == 1
    with store.read_session() as s:
        assert s.scalar(select(func.count(StudyClaim.id))) == 1
        claim = claim_of(s, pk)
    assert claim is not None
    assert claim.claimed_by == holders[0]


def test_release_only_drops_the_holders_claim(store: Store) -> None:
    pk = _study(store)
    with store.session() as s:
        claim_study(s, pk, "dr.grey")
    with store.session() as s:
        assert not release_claim(s, pk, held_by="dr.house")
        assert release_claim(s, pk, held_by="dr.grey")
        assert claim_of(s, pk) is None


def test_feedback_keeps_every_decision_and_the_latest_counts(store: Store) -> None:
    uid = "1.2.826.0.1.9.5"
    _study(store, uid)
    record = FindingRecord(study_uid=uid, kind="nodule", algorithm=Algorithm("a", "1"))
    with store.session() as s:
        finding = add_finding(s, record)
        report = create_draft(s, uid, text="x", author="vesalius")
        add_feedback(s, report.id, finding.id, decision="reject", given_by="dr.grey")
        add_feedback(s, report.id, finding.id, decision="edit", given_by="dr.grey", value=7.5)
    with store.read_session() as s:
        latest = latest_feedback(s, [finding.id])[finding.id]
    assert (latest.decision, latest.value) == ("edit", 7.5)
