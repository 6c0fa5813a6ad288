"""The index tables: patients, studies, series, instances, jobs, findings, reports, audit.

The models are the one description of the schema; the Alembic migrations in
:mod:`vesalius.store.migrations` create it, and a test checks the two agree. Primary keys
are integers named ``id``; a foreign key to another table is named ``<table>_pk`` so it is
never confused with the DICOM attribute of the same name (``patient_pk`` is the row of
``patients``, ``Patient.patient_id`` is the DICOM PatientID).

Delete rules: deleting a study deletes its series, instances and findings, but not its
reports (``RESTRICT``: a signed report never disappears as a side effect); deleting a
patient who still has studies is refused; jobs keep their row with the reference cleared.

Examples
--------
>>> {"audit_events", "findings", "instances", "users"} <= set(Base.metadata.tables)
True
>>> Study.__table__.c.study_uid.unique
True
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from vesalius.store.states import AuditOutcome, JobState, ReportState
from vesalius.store.types import JSONType, UTCDateTime, utc_now

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

UID = 64  # DICOM UI value representation: at most 64 characters
PN = 324  # DICOM PN: three component groups of 64 characters plus separators


def _enum(cls: type[Any], name: str) -> Enum:
    """A portable enum column: VARCHAR plus a CHECK constraint, storing the values."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    """Declarative base of every Vesalius table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Patient(Base):
    """A patient, identified by PatientID within the issuer of that ID."""

    __tablename__ = "patients"
    __table_args__ = (UniqueConstraint("patient_id", "issuer"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[str] = mapped_column(String(64), index=True)
    issuer: Mapped[str] = mapped_column(String(64), default="")
    name: Mapped[str | None] = mapped_column(String(PN), index=True)
    birth_date: Mapped[date | None] = mapped_column(Date)
    sex: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class Study(Base):
    """A DICOM study; the unit of the worklist and of a report."""

    __tablename__ = "studies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_uid: Mapped[str] = mapped_column(String(UID), unique=True)
    patient_pk: Mapped[int] = mapped_column(
        ForeignKey("patients.id", ondelete="RESTRICT"), index=True
    )
    study_date: Mapped[date | None] = mapped_column(Date, index=True)
    study_time: Mapped[str | None] = mapped_column(String(16))
    accession_number: Mapped[str | None] = mapped_column(String(64), index=True)
    study_id: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(String(256))
    referring_physician: Mapped[str | None] = mapped_column(String(PN))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)

    patient: Mapped[Patient] = relationship()


class Series(Base):
    """A DICOM series of one study."""

    __tablename__ = "series"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series_uid: Mapped[str] = mapped_column(String(UID), unique=True)
    study_pk: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"), index=True)
    modality: Mapped[str | None] = mapped_column(String(16), index=True)
    series_number: Mapped[int | None] = mapped_column(Integer)
    description: Mapped[str | None] = mapped_column(String(256))
    body_part: Mapped[str | None] = mapped_column(String(64))
    frame_of_reference_uid: Mapped[str | None] = mapped_column(String(UID))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)

    study: Mapped[Study] = relationship()


class Instance(Base):
    """One stored DICOM instance; its bytes live in the blob store at ``blob_path``."""

    __tablename__ = "instances"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sop_instance_uid: Mapped[str] = mapped_column(String(UID), unique=True)
    sop_class_uid: Mapped[str] = mapped_column(String(UID))
    series_pk: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"), index=True)
    instance_number: Mapped[int | None] = mapped_column(Integer)
    transfer_syntax_uid: Mapped[str | None] = mapped_column(String(UID))
    blob_path: Mapped[str] = mapped_column(String(255), index=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)

    series: Mapped[Series] = relationship()


class Job(Base):
    """A unit of work for the pipeline (analyze a series, export a report...)."""

    __tablename__ = "jobs"
    __table_args__ = (Index(None, "state", "priority", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    state: Mapped[JobState] = mapped_column(_enum(JobState, "job_state"), default=JobState.QUEUED)
    reason: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    idempotency_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    worker: Mapped[str | None] = mapped_column(String(128))
    study_pk: Mapped[int | None] = mapped_column(
        ForeignKey("studies.id", ondelete="SET NULL"), index=True
    )
    series_pk: Mapped[int | None] = mapped_column(
        ForeignKey("series.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Finding(Base):
    """A finding: typed columns for what queries need, the full serialized form in ``payload``."""

    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_pk: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"), index=True)
    series_pk: Mapped[int | None] = mapped_column(
        ForeignKey("series.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(64), index=True)
    code_scheme: Mapped[str | None] = mapped_column(String(16))
    code_value: Mapped[str | None] = mapped_column(String(64))
    code_meaning: Mapped[str | None] = mapped_column(String(256))
    category: Mapped[str | None] = mapped_column(String(32))
    confidence: Mapped[float | None] = mapped_column(Float)
    is_ai: Mapped[bool] = mapped_column(Boolean, default=True)
    algorithm_name: Mapped[str] = mapped_column(String(128))
    algorithm_version: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class Report(Base):
    """A radiology report of one study and its review state."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_pk: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="RESTRICT"), index=True)
    state: Mapped[ReportState] = mapped_column(
        _enum(ReportState, "report_state"), default=ReportState.DRAFT, index=True
    )
    text: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(128))
    signed_by: Mapped[str | None] = mapped_column(String(128))
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)


class AuditEvent(Base):
    """One audited action: who did what to which object, when, from where, with what outcome.

    Audit events have no foreign keys: they must outlive the objects they talk about.
    """

    __tablename__ = "audit_events"
    __table_args__ = (Index(None, "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, index=True)
    who: Mapped[str] = mapped_column(String(128), index=True)
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(128))
    source: Mapped[str | None] = mapped_column(String(128))
    outcome: Mapped[AuditOutcome] = mapped_column(
        _enum(AuditOutcome, "audit_outcome"), default=AuditOutcome.SUCCESS
    )
    detail: Mapped[str | None] = mapped_column(Text)


from vesalius.store import segmentations as _segmentations  # noqa: E402,F401  (label maps)
from vesalius.store import users as _users  # noqa: E402,F401  (accounts, sessions, tokens)
from vesalius.store import worklist as _worklist  # noqa: E402,F401  (worklist tables)
