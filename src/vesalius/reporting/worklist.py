"""The worklist: triaged studies, filtered and sorted, and claiming a study to read it.

A page is two indexed queries (the rows, the total), whatever its size: what the list
shows is kept on the triage row (see :mod:`vesalius.store.worklist`) and the order by
priority is the stored rank (see :func:`vesalius.reporting.triage.rank_key`).

Status: ``unread`` (nobody claimed it, not signed), ``claimed`` (someone is reading it,
not signed), ``reported`` (its latest report is signed), ``all``. Sort: ``priority``
(highest score first), ``waiting`` (longest waiting first), ``date`` (newest study first).

Examples
--------
>>> WorklistQuery(status="unread", sort="priority").limit
50
>>> WorklistQuery(status="done")
Traceback (most recent call last):
...
vesalius.errors.InputError: status must be one of unread, claimed, reported, all; found 'done'
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, false, func, select, true
from sqlalchemy.orm import Session

from vesalius.errors import InputError, StoreError
from vesalius.reporting.triage import ClinicalScore, TriageScore, rank_floor, with_waiting
from vesalius.store.models import Patient, Study
from vesalius.store.types import aware_utc
from vesalius.store.worklist import (
    StudyClaim,
    StudyTriage,
    claim_study,
    modality_list,
    release_claim,
)

STATUSES = ("unread", "claimed", "reported", "all")
SORTS = ("priority", "waiting", "date")
MAX_LIMIT = 500


class NotFoundError(StoreError):
    """The study, report or finding asked for does not exist."""


class ConflictError(StoreError):
    """The change clashes with the object's state (claimed by another, already signed...)."""


class ForbiddenError(StoreError):
    """The caller may not do this to this object (releasing another reader's claim)."""


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise InputError(None, f"{name} must be one of {', '.join(allowed)}; found {value!r}")


@dataclass(frozen=True)
class WorklistQuery:
    """Filters, order and page of a worklist request."""

    status: str = "unread"
    modality: str | None = None
    q: str | None = None
    min_score: float | None = None
    sort: str = "priority"
    limit: int = 50
    offset: int = 0

    def __post_init__(self) -> None:
        _choice("status", self.status, STATUSES)
        _choice("sort", self.sort, SORTS)
        if not 1 <= self.limit <= MAX_LIMIT:
            raise InputError(None, f"limit must be between 1 and {MAX_LIMIT}, got {self.limit}")
        if self.offset < 0:
            raise InputError(None, f"offset must not be negative, got {self.offset}")


@dataclass(frozen=True)
class WorklistItem:
    """One study of the worklist (the API's worklist item)."""

    study_uid: str
    patient_name: str | None
    patient_id: str
    study_date: date | None
    description: str | None
    modalities: tuple[str, ...]
    accession_number: str | None
    priority: TriageScore
    order_priority: str | None
    patient_class: str | None
    waiting_minutes: int
    claimed_by: str | None
    claimed_at: datetime | None
    report_id: int | None
    report_state: str | None
    findings_count: int

    def to_json(self) -> dict[str, Any]:
        """The item as the API returns it."""
        report = None
        if self.report_id is not None:
            report = {"id": self.report_id, "state": self.report_state}
        return {
            "study_uid": self.study_uid,
            "patient_name": self.patient_name,
            "patient_id": self.patient_id,
            "study_date": self.study_date.isoformat() if self.study_date else None,
            "description": self.description,
            "modalities": list(self.modalities),
            "accession_number": self.accession_number,
            "priority": {
                "score": self.priority.score,
                "level": self.priority.level,
                "reasons": list(self.priority.reasons),
            },
            "order_priority": self.order_priority,
            "patient_class": self.patient_class,
            "waiting_minutes": self.waiting_minutes,
            "claimed_by": self.claimed_by,
            "claimed_at": self.claimed_at.isoformat() if self.claimed_at else None,
            "report": report,
            "findings_count": self.findings_count,
        }


@dataclass(frozen=True)
class WorklistPage:
    """A page of the worklist and how many studies match in all."""

    total: int
    items: tuple[WorklistItem, ...]


_COLUMNS = (
    Study.study_uid,
    Study.study_date,
    Study.description,
    Study.accession_number,
    Study.created_at,
    Patient.name,
    Patient.patient_id,
    StudyTriage.id.label("triage_id"),
    StudyTriage.score,
    StudyTriage.level,
    StudyTriage.reasons,
    StudyTriage.order_priority,
    StudyTriage.patient_class,
    StudyTriage.arrived_at,
    StudyTriage.modalities,
    StudyTriage.findings_count,
    StudyTriage.report_pk,
    StudyTriage.report_state,
    StudyClaim.claimed_by,
    StudyClaim.claimed_at,
)
"""What an item shows: plain columns (no ORM objects to build, a page costs little)."""


def _base(*, triaged_only: bool) -> Select[*tuple[Any, ...]]:
    stmt = select(*_COLUMNS)
    if triaged_only:
        stmt = stmt.select_from(StudyTriage).join(Study, Study.id == StudyTriage.study_pk)
    else:
        stmt = stmt.select_from(Study).outerjoin(StudyTriage, StudyTriage.study_pk == Study.id)
    return stmt.join(Patient, Patient.id == Study.patient_pk).outerjoin(
        StudyClaim, StudyClaim.study_pk == Study.id
    )


def search_text(*parts: str | None) -> str:
    """The text ``q`` searches: the parts, lower case, space separated.

    Examples
    --------
    >>> search_text("Doe^Jane", "P1", None, "CT CHEST")
    'doe^jane p1 ct chest'
    """
    return " ".join(p for p in parts if p).lower()


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _triage_filters(query: WorklistQuery, now: datetime) -> list[Any]:
    """The filters on the triage row alone (no join needed)."""
    where: list[Any] = []
    if query.min_score is not None:
        where.append(StudyTriage.rank >= rank_floor(query.min_score, now))
    if query.modality:
        where.append(StudyTriage.modalities.like(_like(f"/{query.modality.upper()}/"), escape="\\"))
    if query.q and query.q.strip():
        where.append(StudyTriage.search.like(_like(query.q.strip().lower()), escape="\\"))
    return where


# "= false", not "IS false": PostgreSQL can use an index for the former only.
_NOT_SIGNED = StudyTriage.reported == false()
_SIGNED = StudyTriage.reported == true()


def _status_filters(status: str) -> list[Any]:
    if status == "unread":
        return [_NOT_SIGNED, StudyClaim.id.is_(None)]
    if status == "claimed":
        return [_NOT_SIGNED, StudyClaim.id.is_not(None)]
    if status == "reported":
        return [_SIGNED]
    return []


def _order(query: WorklistQuery) -> list[Any]:
    if query.sort == "waiting":
        return [StudyTriage.arrived_at.asc(), StudyTriage.id.asc()]
    if query.sort == "date":
        return [StudyTriage.study_date.desc().nulls_last(), StudyTriage.id.desc()]
    return [StudyTriage.rank.desc(), StudyTriage.id.desc()]


def _count(session: Session, status: str, where: list[Any]) -> int:
    """How many triaged studies match: unread = not signed minus claimed (claims are few)."""

    def count(*extra: Any, claimed: bool = False) -> int:
        if not claimed:
            stmt = select(func.count()).select_from(StudyTriage).where(*where, *extra)
        else:  # driven by the (few) claims, whatever the planner knows of the tables
            match = select(StudyTriage.id).where(
                StudyTriage.study_pk == StudyClaim.study_pk, *where, *extra
            )
            stmt = select(func.count()).select_from(StudyClaim).where(match.exists())
        return int(session.scalar(stmt) or 0)

    if status == "all":
        return count()
    if status == "reported":
        return count(_SIGNED)
    claimed = count(_NOT_SIGNED, claimed=True)
    return claimed if status == "claimed" else count(_NOT_SIGNED) - claimed


def item_of(row: Any, now: datetime) -> WorklistItem:
    """The worklist item of one row of :data:`_COLUMNS` (not triaged yet: 0, routine)."""
    triaged = row.triage_id is not None
    arrived = row.arrived_at if triaged else aware_utc(row.created_at)
    clinical = ClinicalScore(
        row.score if triaged else 0.0,
        row.level if triaged else "routine",
        tuple(row.reasons) if triaged else ("not triaged yet",),
    )
    return WorklistItem(
        study_uid=row.study_uid,
        patient_name=row.name,
        patient_id=row.patient_id,
        study_date=row.study_date,
        description=row.description,
        modalities=tuple(modality_list(row.modalities or "")),
        accession_number=row.accession_number,
        priority=with_waiting(clinical, arrived_at=arrived, now=now),
        order_priority=row.order_priority,
        patient_class=row.patient_class,
        waiting_minutes=max(0, int((now - arrived).total_seconds() // 60)),
        claimed_by=row.claimed_by,
        claimed_at=row.claimed_at,
        report_id=row.report_pk,
        report_state=row.report_state,
        findings_count=row.findings_count or 0,
    )


def list_worklist(session: Session, query: WorklistQuery, *, now: datetime) -> WorklistPage:
    """The page of the worklist that ``query`` asks for, scored at ``now``."""
    where = _triage_filters(query, now)
    stmt = _base(triaged_only=True).where(*where, *_status_filters(query.status))
    stmt = stmt.order_by(*_order(query)).limit(query.limit).offset(query.offset)
    items = tuple(item_of(row, now) for row in session.execute(stmt))
    if query.offset == 0 and len(items) < query.limit:
        total = len(items)
    else:
        total = _count(session, query.status, where)
    return WorklistPage(total, items)


def study_item(session: Session, study_uid: str, *, now: datetime) -> WorklistItem:
    """The worklist item of one study (triaged or not).

    Raises
    ------
    NotFoundError
        No such study.
    """
    row = session.execute(_base(triaged_only=False).where(Study.study_uid == study_uid)).first()
    if row is None:
        raise NotFoundError(f"no study {study_uid}")
    return item_of(row, now)


def _study_pk(session: Session, study_uid: str) -> int:
    pk = session.scalar(select(Study.id).where(Study.study_uid == study_uid))
    if pk is None:
        raise NotFoundError(f"no study {study_uid}")
    return pk


def claim(session: Session, study_uid: str, username: str, *, now: datetime) -> WorklistItem:
    """Claim ``study_uid`` for ``username`` (claiming one's own claim again is harmless).

    Raises
    ------
    NotFoundError
        No such study.
    ConflictError
        Someone else holds the study, or its report is signed.
    """
    pk = _study_pk(session, study_uid)
    item = study_item(session, study_uid, now=now)
    if item.report_state in ("final", "amended"):
        raise ConflictError(f"study {study_uid} is already reported")
    held = claim_study(session, pk, username, at=now)
    if held.claimed_by != username:
        raise ConflictError(f"study {study_uid} is being read by {held.claimed_by}")
    return study_item(session, study_uid, now=now)


def release(
    session: Session, study_uid: str, username: str, *, admin: bool, now: datetime
) -> WorklistItem:
    """Release the claim on ``study_uid``: its holder may, an administrator may.

    Raises
    ------
    NotFoundError
        No such study.
    ForbiddenError
        The claim is someone else's and the caller is not an administrator.
    """
    pk = _study_pk(session, study_uid)
    if not release_claim(session, pk, held_by=None if admin else username):
        holder = study_item(session, study_uid, now=now).claimed_by
        if holder is not None:
            raise ForbiddenError(f"study {study_uid} is claimed by {holder}; only they or an admin")
    return study_item(session, study_uid, now=now)


def check_not_claimed_by_other(session: Session, study_pk: int, username: str) -> None:
    """Refuse (:class:`ConflictError`) when another reader holds the study."""
    holder = session.scalar(select(StudyClaim.claimed_by).where(StudyClaim.study_pk == study_pk))
    if holder is not None and holder != username:
        raise ConflictError(f"the study is being read by {holder}")
