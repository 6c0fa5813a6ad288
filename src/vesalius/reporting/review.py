"""Review of a draft report: edit the text, judge the findings, mark preliminary, sign, amend.

Each operation takes an open write session and the username of who does it; it refuses
(:class:`~vesalius.reporting.worklist.ConflictError`) a change to a study another reader
has claimed, and a move the report's state forbids (the state machine is
:mod:`vesalius.store.reports`). Signing moves a draft through preliminary to final in one
step, records the signer and releases the claim. Editing the text or judging a finding
marks the draft as touched, so the pipeline never redraws it. The audit trail is the
caller's (the routers), since only it knows where the request came from.

Examples
--------
>>> import pathlib, tempfile
>>> from vesalius.store import open_store, sqlite_url
>>> from vesalius.store.header import PatientInfo, StudyInfo
>>> from vesalius.store.index import upsert_patient, upsert_study
>>> from vesalius.store.reports import create_draft
>>> store = open_store(sqlite_url(pathlib.Path(tempfile.mkdtemp()) / "i.sqlite3"))
>>> with store.session() as s:
...     _ = upsert_study(s, StudyInfo("1.2"), patient=upsert_patient(s, PatientInfo("P1")))
...     rid = create_draft(s, "1.2", text="Draft.", author="vesalius").id
>>> with store.session() as s:
...     sign(s, rid, "dr.grey").state.value
'final'
>>> with store.session() as s:
...     try:
...         edit_text(s, rid, "Changed.", "dr.grey")
...     except ConflictError as err:
...         print(err)
report 1 is final; its text can only change by amending it
>>> store.close()
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vesalius.errors import StoreError
from vesalius.reporting.drafts import sync_report_state
from vesalius.reporting.templates import Draft
from vesalius.reporting.worklist import (
    ConflictError,
    NotFoundError,
    check_not_claimed_by_other,
)
from vesalius.store import reports as store_reports
from vesalius.store.audit import events_for
from vesalius.store.models import Finding, Report, Study
from vesalius.store.states import ReportState
from vesalius.store.worklist import (
    FEEDBACK_DECISIONS,
    FindingFeedback,
    add_feedback,
    content_of,
    release_claim,
)

EDITABLE = frozenset({ReportState.DRAFT, ReportState.PRELIMINARY})
READ_ACTIONS = frozenset({"read"})
"""Audit actions left out of a report's history (reading changes nothing)."""


def get_report(session: Session, report_id: int) -> Report:
    """The report ``report_id``; :class:`NotFoundError` when there is none."""
    report = session.get(Report, report_id)
    if report is None:
        raise NotFoundError(f"no report {report_id}")
    return report


def latest_report(session: Session, study_uid: str) -> Report:
    """The newest report of a study; :class:`NotFoundError` when it has none (yet)."""
    stmt = (
        select(Report)
        .join(Study, Study.id == Report.study_pk)
        .where(Study.study_uid == study_uid)
        .order_by(Report.id.desc())
        .limit(1)
    )
    report = session.scalars(stmt).first()
    if report is None:
        raise NotFoundError(f"study {study_uid} has no report yet")
    return report


def _study_uid(session: Session, report: Report) -> str:
    return str(session.scalar(select(Study.study_uid).where(Study.id == report.study_pk)))


def _editable(session: Session, report_id: int, username: str) -> Report:
    report = get_report(session, report_id)
    check_not_claimed_by_other(session, report.study_pk, username)
    return report


def _touch(session: Session, report: Report) -> None:
    content = content_of(session, report.id)
    if content is not None:
        content.touched = True


def _store_call(call: Any, *args: Any, **kwargs: Any) -> Report:
    """Run a store transition, turning its refusal into :class:`ConflictError`."""
    try:
        report: Report = call(*args, **kwargs)
    except StoreError as err:
        raise ConflictError(str(err)) from None
    return report


def edit_text(session: Session, report_id: int, text: str, username: str) -> Report:
    """Replace the text of a draft or preliminary report."""
    report = _editable(session, report_id, username)
    report = _store_call(store_reports.edit_text, session, report.id, text)
    _touch(session, report)
    return report


def mark_preliminary(session: Session, report_id: int, username: str) -> Report:
    """Draft -> preliminary."""
    _editable(session, report_id, username)
    report = _store_call(store_reports.mark_preliminary, session, report_id)
    _touch(session, report)
    sync_report_state(session, report.study_pk)
    return report


def sign(session: Session, report_id: int, username: str) -> Report:
    """Sign a draft or preliminary report as ``username``: it becomes final; the claim ends."""
    report = _editable(session, report_id, username)
    if report.state is ReportState.DRAFT:
        report = _store_call(store_reports.mark_preliminary, session, report_id)
    elif report.state is not ReportState.PRELIMINARY:
        raise ConflictError(f"report {report_id} is {report.state.value}; amend it instead")
    report = _store_call(store_reports.finalize, session, report_id, signed_by=username)
    _touch(session, report)
    sync_report_state(session, report.study_pk)
    release_claim(session, report.study_pk)
    return report


def amend(session: Session, report_id: int, text: str, username: str) -> Report:
    """Amend a signed report: new text, new signature, version + 1."""
    report = _editable(session, report_id, username)
    report = _store_call(store_reports.amend, session, report.id, text=text, signed_by=username)
    sync_report_state(session, report.study_pk)
    return report


@dataclass(frozen=True)
class Feedback:
    """A decision about a finding, as the API shows it."""

    decision: str
    by: str
    at: datetime
    comment: str | None
    value: Any = None

    @classmethod
    def of(cls, row: FindingFeedback) -> Feedback:
        """From its store row."""
        return cls(row.decision, row.given_by, row.given_at, row.comment, row.value)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "decision": self.decision,
            "by": self.by,
            "at": self.at.isoformat(),
            "comment": self.comment,
            "value": self.value,
        }


def give_feedback(
    session: Session,
    report_id: int,
    finding_id: int,
    username: str,
    *,
    decision: str,
    comment: str | None = None,
    value: Any = None,
) -> Feedback:
    """Record ``username``'s decision about a finding of the report's study."""
    report = _editable(session, report_id, username)
    if decision not in FEEDBACK_DECISIONS:
        raise ConflictError(f"decision must be one of {', '.join(FEEDBACK_DECISIONS)}")
    finding = session.get(Finding, finding_id)
    if finding is None or finding.study_pk != report.study_pk:
        raise NotFoundError(f"report {report_id} has no finding {finding_id}")
    if report.state not in EDITABLE:
        raise ConflictError(f"report {report_id} is {report.state.value}: feedback is closed")
    row = add_feedback(
        session,
        report.id,
        finding_id,
        decision=decision,
        given_by=username,
        comment=comment,
        value=value,
    )
    _touch(session, report)
    return Feedback.of(row)


def report_view(session: Session, report: Report) -> dict[str, Any]:
    """The report as the API returns it: text, linked sentences, signature, history."""
    content = content_of(session, report.id)
    draft = Draft.from_json(content.sections) if content is not None else None
    history = [
        {
            "at": e.at.isoformat(),
            "who": e.who,
            "action": e.action,
            "outcome": e.outcome.value,
            "detail": e.detail,
        }
        for e in events_for(session, "report", str(report.id))
        if e.action not in READ_ACTIONS
    ]
    return {
        "id": report.id,
        "study_uid": _study_uid(session, report),
        "state": report.state.value,
        "version": report.version,
        "template": draft.template if draft else None,
        "text": report.text,
        "sentences": [s.to_json() for s in draft.sentences()] if draft else [],
        "impression": " ".join(s.text for s in draft.impression) if draft else "",
        "recommendation": " ".join(s.text for s in draft.recommendation) if draft else "",
        "signed_by": report.signed_by,
        "signed_at": report.signed_at.isoformat() if report.signed_at else None,
        "history": history,
    }
