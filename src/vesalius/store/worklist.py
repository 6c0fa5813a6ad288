"""Worklist tables: triage scores, claims, structured report drafts, feedback on findings.

- ``study_triage``: one row per study on the worklist: its clinical priority ``score``
  (findings, order priority, patient class; the reasons in words), the ``rank`` the
  worklist sorts on (the score with the waiting-time term folded in, see
  :mod:`vesalius.reporting.triage`), and copies of what the worklist filters and shows
  (modalities, the text a search matches, number of findings, the latest report and its
  state) so that a page is one indexed query on one table plus key lookups.
- ``study_claims``: who is reading a study; the unique study key makes a claim atomic:
  of two radiologists claiming at once, exactly one inserts the row.
- ``report_contents``: the structured draft of a report (sections of sentences, each
  linked to the finding it came from and marked when AI-generated) and whether a person
  touched it (then it is never regenerated).
- ``finding_feedback``: a radiologist's accept / edit / reject of a finding of a report,
  kept for quality assurance (every decision, the latest one counts).

Examples
--------
>>> import tempfile, pathlib
>>> from datetime import datetime, UTC
>>> from vesalius.store import open_store, sqlite_url
>>> from vesalius.store.header import PatientInfo, StudyInfo
>>> from vesalius.store.index import upsert_patient, upsert_study
>>> store = open_store(sqlite_url(pathlib.Path(tempfile.mkdtemp()) / "i.sqlite3"))
>>> with store.session() as s:
...     study = upsert_study(s, StudyInfo("1.2.3"), patient=upsert_patient(s, PatientInfo("P1")))
...     claim_study(s, study.id, "dr.grey", at=datetime(2026, 1, 1, tzinfo=UTC)).claimed_by
'dr.grey'
>>> with store.session() as s:
...     claim_study(s, study.id, "dr.house").claimed_by  # already taken: the first one stays
'dr.grey'
>>> store.close()
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    delete,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from vesalius.store._sql import insert_ignoring_conflict
from vesalius.store.models import Base
from vesalius.store.types import JSONType, UTCDateTime, aware_utc, utc_now

FEEDBACK_DECISIONS = ("accept", "edit", "reject")
"""What a radiologist may decide about an AI finding."""


class StudyTriage(Base):
    """The triage of one study: priority, reasons and what the worklist shows of it."""

    __tablename__ = "study_triage"
    __table_args__ = (
        Index(None, "reported", "rank"),
        Index(None, "reported", "arrived_at"),
        Index(None, "reported", "study_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_pk: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"), unique=True)
    score: Mapped[float] = mapped_column(Float)
    """Clinical priority: findings, order priority and patient class (no waiting time)."""
    rank: Mapped[float] = mapped_column(Float, index=True)
    """Sort key: higher is read first (the score with the waiting-time term folded in)."""
    level: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[list[str]] = mapped_column(JSONType, default=list)
    order_priority: Mapped[str | None] = mapped_column(String(16))
    patient_class: Mapped[str | None] = mapped_column(String(32))
    arrived_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    study_date: Mapped[date | None] = mapped_column(Date, index=True)
    modalities: Mapped[str] = mapped_column(String(64), default="")
    """The study's modalities between slashes (``"/CT/PT/"``), for a match without a join."""
    search: Mapped[str] = mapped_column(Text, default="")
    """Lower-case patient name, patient ID, accession number and description, for ``q``."""
    findings_count: Mapped[int] = mapped_column(Integer, default=0)
    report_pk: Mapped[int | None] = mapped_column(ForeignKey("reports.id", ondelete="SET NULL"))
    report_state: Mapped[str | None] = mapped_column(String(16))
    reported: Mapped[bool] = mapped_column(Boolean, default=False)
    """Whether the latest report is signed (final or amended)."""
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)


class StudyClaim(Base):
    """Who is reading a study now (at most one reader: the study key is unique)."""

    __tablename__ = "study_claims"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_pk: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"), unique=True)
    claimed_by: Mapped[str] = mapped_column(String(128))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class ReportContent(Base):
    """The structured draft of a report: template name and sections of linked sentences."""

    __tablename__ = "report_contents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_pk: Mapped[int] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), unique=True
    )
    template: Mapped[str] = mapped_column(String(32))
    sections: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    touched: Mapped[bool] = mapped_column(Boolean, default=False)
    """Whether a person edited the text or judged a finding (the draft is then kept)."""
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)


class FindingFeedback(Base):
    """One decision of a radiologist about one finding of a report."""

    __tablename__ = "finding_feedback"
    __table_args__ = (Index(None, "report_pk", "finding_pk"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_pk: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    finding_pk: Mapped[int] = mapped_column(
        ForeignKey("findings.id", ondelete="CASCADE"), index=True
    )
    decision: Mapped[str] = mapped_column(String(16))
    given_by: Mapped[str] = mapped_column(String(128))
    given_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    comment: Mapped[str | None] = mapped_column(Text)
    value: Mapped[Any] = mapped_column(JSONType, nullable=True)


def claim_study(
    session: Session, study_pk: int, username: str, *, at: datetime | None = None
) -> StudyClaim:
    """Claim study ``study_pk`` for ``username`` unless someone holds it; the claim that stands.

    The insert either creates the claim or does nothing (the study key is unique), so two
    concurrent claims end with exactly one row; compare ``claimed_by`` to know who won.
    """
    insert_ignoring_conflict(
        session,
        StudyClaim,
        {"study_pk": study_pk, "claimed_by": username, "claimed_at": aware_utc(at or utc_now())},
        unique=("study_pk",),
    )
    return session.scalars(select(StudyClaim).where(StudyClaim.study_pk == study_pk)).one()


def claim_of(session: Session, study_pk: int) -> StudyClaim | None:
    """The claim on study ``study_pk``, if any."""
    return session.scalars(select(StudyClaim).where(StudyClaim.study_pk == study_pk)).first()


def release_claim(session: Session, study_pk: int, *, held_by: str | None = None) -> bool:
    """Drop the claim on ``study_pk`` (only ``held_by``'s, when given); whether one was dropped."""
    stmt = delete(StudyClaim).where(StudyClaim.study_pk == study_pk)
    if held_by is not None:
        stmt = stmt.where(StudyClaim.claimed_by == held_by)
    return bool(session.execute(stmt).rowcount)  # type: ignore[attr-defined]


def triage_of(session: Session, study_pk: int) -> StudyTriage | None:
    """The triage row of study ``study_pk``, if it was triaged."""
    return session.scalars(select(StudyTriage).where(StudyTriage.study_pk == study_pk)).first()


def content_of(session: Session, report_pk: int) -> ReportContent | None:
    """The structured draft of report ``report_pk``, if it has one."""
    stmt = select(ReportContent).where(ReportContent.report_pk == report_pk)
    return session.scalars(stmt).first()


def add_feedback(
    session: Session,
    report_pk: int,
    finding_pk: int,
    *,
    decision: str,
    given_by: str,
    comment: str | None = None,
    value: Any = None,
) -> FindingFeedback:
    """Record a decision about a finding (``accept``, ``edit`` or ``reject``)."""
    if decision not in FEEDBACK_DECISIONS:
        raise ValueError(f"decision must be one of {FEEDBACK_DECISIONS}, found {decision!r}")
    row = FindingFeedback(
        report_pk=report_pk,
        finding_pk=finding_pk,
        decision=decision,
        given_by=given_by,
        given_at=utc_now(),
        comment=comment,
        value=value,
    )
    session.add(row)
    session.flush()
    return row


def latest_feedback(session: Session, finding_pks: list[int]) -> dict[int, FindingFeedback]:
    """The latest decision about each of ``finding_pks`` that has one."""
    if not finding_pks:
        return {}
    stmt = (
        select(FindingFeedback)
        .where(FindingFeedback.finding_pk.in_(finding_pks))
        .order_by(FindingFeedback.id)
    )
    return {row.finding_pk: row for row in session.scalars(stmt)}


def modality_key(modalities: list[str] | set[str]) -> str:
    """The stored form of a study's modalities.

    Examples
    --------
    >>> modality_key({"PT", "CT"}), modality_key([])
    ('/CT/PT/', '')
    """
    return "/" + "/".join(sorted(modalities)) + "/" if modalities else ""


def modality_list(key: str) -> list[str]:
    """Inverse of :func:`modality_key`."""
    return [m for m in key.split("/") if m]
