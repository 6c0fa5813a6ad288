"""Triage a study and draft its report from its findings: :func:`refresh_study`.

Called after a study's analyses finish (and safe to call again at any time): it reads the
study's findings, series and one stored instance header (order priority and patient class,
see :mod:`vesalius.reporting.triage`), stores the triage score, and drafts the report with
the template :func:`~vesalius.reporting.templates.choose_template` picks. A report is
created when the study has none; an untouched draft is rewritten (new findings arrived);
a report a person edited or judged, or that is past draft, is never changed.

Examples
--------
>>> import pathlib, tempfile
>>> from pydicom import Dataset
>>> from vesalius.store import BlobStore, InstanceHeader, add_instance, open_store, sqlite_url
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> store, blobs = open_store(sqlite_url(root / "i.sqlite3")), BlobStore(root / "blobs")
>>> ds = Dataset()
>>> ds.PatientID, ds.StudyInstanceUID, ds.SeriesInstanceUID = "P1", "1.2", "1.2.3"
>>> ds.SOPInstanceUID, ds.SOPClassUID, ds.Modality = "1.2.3.4", "1.2.840.10008.5.1.4.1.1.2", "CT"
>>> with store.session() as s:
...     _ = add_instance(s, InstanceHeader.from_dataset(ds), blobs.put(b"not a DICOM file"))
>>> done = refresh_study(store, blobs, "1.2")
>>> done.draft, done.triage.level, done.template
('created', 'routine', 'chest-ct')
>>> refresh_study(store, blobs, "1.2").draft  # nothing new: the untouched draft is redrawn
'updated'
>>> store.close()
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from sqlalchemy import select
from sqlalchemy.orm import Session

from vesalius.errors import InputError, StoreError
from vesalius.findings.model import Finding
from vesalius.findings.persist import PAYLOAD_KEY
from vesalius.reporting.templates import Draft, SeriesBrief, StoredFinding, choose_template
from vesalius.reporting.triage import (
    TriageScore,
    clinical_score,
    rank_key,
    read_order_priority,
    read_patient_class,
    with_waiting,
)
from vesalius.reporting.worklist import search_text
from vesalius.store import BlobStore, Store
from vesalius.store.audit import AuditRecord, append_event
from vesalius.store.findings import findings_of_study
from vesalius.store.models import Instance, Report, Series, Study
from vesalius.store.reports import create_draft
from vesalius.store.states import ReportState
from vesalius.store.types import utc_now
from vesalius.store.worklist import (
    ReportContent,
    StudyTriage,
    content_of,
    modality_key,
    triage_of,
)

log = logging.getLogger(__name__)

DRAFT_AUTHOR = "vesalius"
"""Author of the drafts (the audit trail's ``who`` for them)."""
SIGNED = frozenset({ReportState.FINAL, ReportState.AMENDED})


@dataclass(frozen=True)
class Refreshed:
    """What :func:`refresh_study` did.

    ``draft`` is ``"created"``, ``"updated"`` (an untouched draft redrawn) or ``"kept"``
    (a report a person touched, or past draft).
    """

    study_uid: str
    triage: TriageScore
    report_id: int
    template: str
    draft: str


def study_row(session: Session, study_uid: str) -> Study:
    """The study ``study_uid``; :class:`StoreError` when it is not indexed."""
    study = session.scalars(select(Study).where(Study.study_uid == study_uid)).first()
    if study is None:
        raise StoreError(f"no study {study_uid} in the index")
    return study


def stored_findings(session: Session, study_uid: str) -> list[StoredFinding]:
    """The study's findings with their row ids, oldest first (rows of other forms skipped)."""
    found = []
    for row in findings_of_study(session, study_uid):
        if PAYLOAD_KEY not in row.payload:
            continue
        try:
            found.append(StoredFinding(row.id, Finding.from_json(row.payload)))
        except InputError as err:
            log.warning("finding %d of study %s skipped: %s", row.id, study_uid, err.problem)
    return found


def series_briefs(session: Session, study_pk: int) -> list[SeriesBrief]:
    """The study's series, by series number."""
    stmt = (
        select(Series.series_uid, Series.modality, Series.description)
        .where(Series.study_pk == study_pk)
        .order_by(Series.series_number, Series.id)
    )
    return [SeriesBrief(uid, modality, text) for uid, modality, text in session.execute(stmt)]


def first_header(session: Session, blobs: BlobStore, study_pk: int) -> Dataset | None:
    """The header (no pixels) of one stored instance of the study, or ``None`` if unreadable."""
    stmt = (
        select(Instance.blob_path)
        .join(Series, Instance.series_pk == Series.id)
        .where(Series.study_pk == study_pk)
        .order_by(Instance.id)
        .limit(1)
    )
    path = session.scalar(stmt)
    if path is None:
        return None
    try:
        return pydicom.dcmread(blobs.locate(path), stop_before_pixels=True)
    except (InvalidDicomError, OSError, ValueError, StoreError) as err:
        log.warning("header %s unreadable (%s): no order priority or patient class", path, err)
        return None


def sync_report_state(session: Session, study_pk: int) -> None:
    """Copy the latest report's id and state onto the study's triage row."""
    row = triage_of(session, study_pk)
    if row is None:
        return
    latest = session.scalars(
        select(Report).where(Report.study_pk == study_pk).order_by(Report.id.desc()).limit(1)
    ).first()
    row.report_pk = latest.id if latest else None
    row.report_state = latest.state.value if latest else None
    row.reported = latest is not None and latest.state in SIGNED


def _store_triage(
    session: Session,
    study: Study,
    found: list[StoredFinding],
    series: list[SeriesBrief],
    header: Dataset | None,
) -> StudyTriage:
    order = read_order_priority(header) if header is not None else None
    patient_class = read_patient_class(header) if header is not None else None
    clinical = clinical_score(
        [s.finding for s in found], order_priority=order, patient_class=patient_class
    )
    row = triage_of(session, study.id)
    if row is None:
        row = StudyTriage(study_pk=study.id, arrived_at=study.created_at)
        session.add(row)
    row.score, row.level, row.reasons = clinical.points, clinical.level, list(clinical.reasons)
    row.rank = rank_key(clinical.points, row.arrived_at)
    row.order_priority, row.patient_class = order, patient_class
    row.study_date = study.study_date
    row.modalities = modality_key({s.modality for s in series if s.modality})
    patient = study.patient
    row.search = search_text(
        patient.name, patient.patient_id, study.accession_number, study.description
    )
    row.findings_count = len(found)
    session.flush()
    return row


def _store_draft(session: Session, study: Study, draft: Draft) -> tuple[int, str]:
    latest = session.scalars(
        select(Report).where(Report.study_pk == study.id).order_by(Report.id.desc()).limit(1)
    ).first()
    if latest is None:
        report = create_draft(session, study.study_uid, text=draft.text(), author=DRAFT_AUTHOR)
        session.add(
            ReportContent(
                report_pk=report.id,
                template=draft.template,
                sections=draft.to_json(),
                touched=False,
            )
        )
        append_event(
            session,
            AuditRecord(
                DRAFT_AUTHOR,
                "create-draft",
                "report",
                str(report.id),
                source="pipeline",
                detail=f"template {draft.template}",
            ),
        )
        return report.id, "created"
    content = content_of(session, latest.id)
    if latest.state is not ReportState.DRAFT or (content is not None and content.touched):
        return latest.id, "kept"
    latest.text = draft.text()
    if content is None:
        session.add(
            ReportContent(
                report_pk=latest.id,
                template=draft.template,
                sections=draft.to_json(),
                touched=False,
            )
        )
    else:
        content.template, content.sections = draft.template, draft.to_json()
    return latest.id, "updated"


def refresh_study(
    store: Store, blobs: BlobStore, study_uid: str, *, now: datetime | None = None
) -> Refreshed:
    """Triage study ``study_uid`` and create or redraw its draft report (see the module).

    Raises
    ------
    StoreError
        The study is not indexed.
    """
    when = now or utc_now()
    with store.session() as session:
        study = study_row(session, study_uid)
        found = stored_findings(session, study_uid)
        series = series_briefs(session, study.id)
        header = first_header(session, blobs, study.id)
        row = _store_triage(session, study, found, series, header)
        template = choose_template(found, series, study_description=study.description or "")
        report_id, what = _store_draft(session, study, template.render(found))
        session.flush()
        sync_report_state(session, study.id)
        clinical = clinical_score(
            [s.finding for s in found],
            order_priority=row.order_priority,
            patient_class=row.patient_class,
        )
        score = with_waiting(clinical, arrived_at=row.arrived_at, now=when)
    log.info(
        "study %s: priority %.1f (%s), report %d %s",
        study_uid,
        score.score,
        score.level,
        report_id,
        what,
    )
    return Refreshed(study_uid, score, report_id, template.name, what)
