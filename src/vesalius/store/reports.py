"""Reports and their review state machine: ``draft -> preliminary -> final -> amended``.

Only a human sign-off makes a report final: :func:`finalize` needs the name of who signs
and records when. A final report is never edited in place; :func:`amend` changes its text,
bumps its version and records the new signature. Any other move raises
:class:`~vesalius.errors.StoreError`.

Examples
--------
>>> import tempfile, pathlib
>>> from vesalius.store import open_store, sqlite_url
>>> from vesalius.store.header import PatientInfo, StudyInfo
>>> from vesalius.store.index import upsert_patient, upsert_study
>>> store = open_store(sqlite_url(pathlib.Path(tempfile.mkdtemp()) / "i.sqlite3"))
>>> with store.session() as s:
...     study = upsert_study(s, StudyInfo("1.2.3"), patient=upsert_patient(s, PatientInfo("P1")))
...     report = create_draft(s, "1.2.3", text="No nodules.", author="ai:chest-ct 1.0")
...     report = mark_preliminary(s, report.id)
...     report = finalize(s, report.id, signed_by="Dr. House")
>>> report.state, report.version
(<ReportState.FINAL: 'final'>, 1)
>>> with store.session() as s:
...     edit_text(s, report.id, "Changed my mind.")
Traceback (most recent call last):
...
vesalius.errors.StoreError: report 1 is final; its text can only change by amending it
>>> store.close()
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from vesalius.errors import StoreError
from vesalius.store._sql import dialect_name
from vesalius.store.models import Report, Study
from vesalius.store.states import ReportState
from vesalius.store.types import utc_now

log = logging.getLogger(__name__)

#: The moves a report may make; anything else is refused.
TRANSITIONS: dict[ReportState, frozenset[ReportState]] = {
    ReportState.DRAFT: frozenset({ReportState.PRELIMINARY}),
    ReportState.PRELIMINARY: frozenset({ReportState.FINAL}),
    ReportState.FINAL: frozenset({ReportState.AMENDED}),
    ReportState.AMENDED: frozenset({ReportState.AMENDED}),
}
_EDITABLE = frozenset({ReportState.DRAFT, ReportState.PRELIMINARY})


def create_draft(session: Session, study_uid: str, *, text: str, author: str) -> Report:
    """A new draft report of study ``study_uid`` (which must be indexed)."""
    study_pk = session.scalar(select(Study.id).where(Study.study_uid == study_uid))
    if study_pk is None:
        raise StoreError(f"cannot report on unknown study {study_uid}")
    if not author:
        raise StoreError("a report needs an author")
    report = Report(study_pk=study_pk, text=text, author=author, state=ReportState.DRAFT)
    session.add(report)
    session.flush()
    return report


def get_report(session: Session, report_id: int) -> Report:
    """The report ``report_id``, locked for update on PostgreSQL.

    Raises
    ------
    StoreError
        If there is no such report.
    """
    report = session.get(Report, report_id, with_for_update=dialect_name(session) == "postgresql")
    if report is None:
        raise StoreError(f"no report {report_id}")
    return report


def reports_of_study(session: Session, study_uid: str) -> list[Report]:
    """The reports of a study, oldest first."""
    stmt = select(Report).join(Study).where(Study.study_uid == study_uid).order_by(Report.id)
    return list(session.scalars(stmt))


def _move(report: Report, target: ReportState) -> None:
    if target not in TRANSITIONS[report.state]:
        raise StoreError(
            f"report {report.id} cannot go from {report.state.value} to {target.value}"
        )
    log.info("report %d: %s -> %s", report.id, report.state.value, target.value)
    report.state = target


def edit_text(session: Session, report_id: int, text: str) -> Report:
    """Replace the text of a draft or preliminary report."""
    report = get_report(session, report_id)
    if report.state not in _EDITABLE:
        raise StoreError(
            f"report {report_id} is {report.state.value}; its text can only change by amending it"
        )
    report.text = text
    session.flush()
    return report


def mark_preliminary(session: Session, report_id: int) -> Report:
    """Draft -> preliminary (ready for review)."""
    report = get_report(session, report_id)
    _move(report, ReportState.PRELIMINARY)
    session.flush()
    return report


def _signer(signed_by: str, report_id: int) -> str:
    if not signed_by.strip():
        raise StoreError(f"report {report_id}: a signature needs the name of who signs")
    return signed_by.strip()


def finalize(session: Session, report_id: int, *, signed_by: str) -> Report:
    """Preliminary -> final, signed by a human reviewer."""
    report = get_report(session, report_id)
    signer = _signer(signed_by, report_id)
    _move(report, ReportState.FINAL)
    report.signed_by, report.signed_at = signer, utc_now()
    session.flush()
    return report


def amend(session: Session, report_id: int, *, text: str, signed_by: str) -> Report:
    """Final (or amended) -> amended: new text, new signature, version + 1."""
    report = get_report(session, report_id)
    signer = _signer(signed_by, report_id)
    _move(report, ReportState.AMENDED)
    report.text, report.version = text, report.version + 1
    report.signed_by, report.signed_at = signer, utc_now()
    session.flush()
    return report
