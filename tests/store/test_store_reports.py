"""Reports: the review state machine draft -> preliminary -> final -> amended."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vesalius.errors import StoreError
from vesalius.store import ReportState, Store
from vesalius.store.header import PatientInfo, StudyInfo
from vesalius.store.index import upsert_patient, upsert_study
from vesalius.store.models import Report, Study
from vesalius.store.reports import (
    amend,
    create_draft,
    edit_text,
    finalize,
    mark_preliminary,
    reports_of_study,
)


@pytest.fixture
def draft_id(store: Store) -> int:
    """A draft report of study 1.2."""
    with store.session() as s:
        upsert_study(s, StudyInfo("1.2"), patient=upsert_patient(s, PatientInfo("P1")))
        return create_draft(s, "1.2", text="Draft.", author="ai:chest 1.0").id


def _state(store: Store, report_id: int) -> ReportState:
    with store.read_session() as s:
        return s.get_one(Report, report_id).state


def test_full_review_path_records_signatures_and_versions(store: Store, draft_id: int) -> None:
    """draft -> preliminary -> final -> amended -> amended keeps signer, time and version."""
    with store.session() as s:
        edit_text(s, draft_id, "Reviewed text.")
        mark_preliminary(s, draft_id)
        final = finalize(s, draft_id, signed_by="Dr. Grey")
        assert (final.state, final.version, final.signed_by) == (ReportState.FINAL, 1, "Dr. Grey")
        assert final.signed_at is not None
        first_signed = final.signed_at
    with store.session() as s:
        amended = amend(s, draft_id, text="Addendum: nodule.", signed_by="Dr. Yang")
        amended = amend(s, draft_id, text="Second addendum.", signed_by="Dr. Yang")
    assert (amended.state, amended.version, amended.text) == (
        ReportState.AMENDED,
        3,
        "Second addendum.",
    )
    assert amended.signed_at is not None
    assert amended.signed_at >= first_signed
    with store.read_session() as s:
        assert [r.id for r in reports_of_study(s, "1.2")] == [draft_id]


Step = Callable[[Session, int], object]
_PRELIM: Step = mark_preliminary


def _finalize(s: Session, i: int) -> object:
    return finalize(s, i, signed_by="Dr. Grey")


def _amend(s: Session, i: int) -> object:
    return amend(s, i, text="x", signed_by="Dr. Grey")


@pytest.mark.parametrize(
    ("path", "illegal"),
    [
        ([], _finalize),  # a draft cannot be signed without review
        ([], _amend),
        ([_PRELIM], _PRELIM),
        ([_PRELIM], _amend),
        ([_PRELIM, _finalize], _finalize),  # signed twice
        ([_PRELIM, _finalize], _PRELIM),  # back to preliminary
    ],
)
def test_illegal_transitions_raise_and_change_nothing(
    store: Store, draft_id: int, path: list[Step], illegal: Step
) -> None:
    """Skipping review or going backwards raises StoreError and leaves the state as it was."""
    with store.session() as s:
        for step in path:
            step(s, draft_id)
    before = _state(store, draft_id)
    with pytest.raises(StoreError, match="cannot go from"), store.session() as s:
        illegal(s, draft_id)
    assert _state(store, draft_id) is before


def test_final_text_cannot_be_edited(store: Store, draft_id: int) -> None:
    """Once final, the text changes only through an amendment."""
    with store.session() as s:
        mark_preliminary(s, draft_id)
        finalize(s, draft_id, signed_by="Dr. Grey")
    with pytest.raises(StoreError, match="only change by amending"), store.session() as s:
        edit_text(s, draft_id, "sneaky")


def test_signature_needs_a_name(store: Store, draft_id: int) -> None:
    """Nothing becomes final without a named human signer."""
    with store.session() as s:
        mark_preliminary(s, draft_id)
    with pytest.raises(StoreError, match="name of who signs"), store.session() as s:
        finalize(s, draft_id, signed_by="  ")
    assert _state(store, draft_id) is ReportState.PRELIMINARY


def test_report_on_unknown_study_or_missing_report(store: Store) -> None:
    """Unknown study or report id: StoreError."""
    with pytest.raises(StoreError, match="unknown study"), store.session() as s:
        create_draft(s, "9.9", text="", author="a")
    with pytest.raises(StoreError, match="no report 77"), store.session() as s:
        mark_preliminary(s, 77)


def test_study_with_a_report_cannot_be_deleted(store: Store, draft_id: int) -> None:
    """Deleting a reported study is refused by the database (reports never vanish)."""
    with pytest.raises(IntegrityError), store.session() as s:
        s.execute(delete(Study))
    assert _state(store, draft_id) is ReportState.DRAFT
