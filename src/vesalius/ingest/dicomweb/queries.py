"""The index queries behind QIDO-RS and WADO-RS, written on the store's models.

Three searches, one per QIDO-RS level, each returning frozen rows with everything the
answer needs, and :func:`instances_to_retrieve`, the blobs behind a WADO-RS request.
Results are ordered deterministically (studies newest first; series by number; instances
by number) so that ``limit``/``offset`` paging is stable.

Examples
--------
>>> import pathlib, tempfile
>>> from pydicom.data import get_testdata_file
>>> from vesalius.ingest.durable import store_instance
>>> from vesalius.ingest.dicomweb.params import parse_qido
>>> from vesalius.store import BlobStore, open_store, sqlite_url
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> store, blobs = open_store(sqlite_url(root / "i.sqlite3")), BlobStore(root / "b")
>>> _ = store_instance(pathlib.Path(get_testdata_file("CT_small.dcm")).read_bytes(),
...                    store=store, blobs=blobs)
>>> with store.read_session() as session:
...     rows = search_studies(session, parse_qido([("ModalitiesInStudy", "CT")]))
>>> [(r.patient_name, r.modalities, r.n_series, r.n_instances) for r in rows]
[('CompressedSamples^CT1', ('CT',), 1, 1)]
>>> store.close()
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from vesalius.ingest.dicomweb.params import QidoQuery
from vesalius.store.index import study_counts
from vesalius.store.models import Instance, Patient, Series, Study

S = TypeVar("S", bound="Select[*tuple[Any, ...]]")


@dataclass(frozen=True)
class StudyRow:
    """A study with its patient, modalities and counts."""

    study_uid: str
    study_date: date | None
    study_time: str | None
    accession_number: str | None
    study_id: str | None
    description: str | None
    referring_physician: str | None
    patient_id: str
    issuer: str
    patient_name: str | None
    birth_date: date | None
    sex: str | None
    modalities: tuple[str, ...] = ()
    n_series: int = 0
    n_instances: int = 0


@dataclass(frozen=True)
class SeriesRow:
    """A series, the study it is in, and its number of instances."""

    study: StudyRow
    series_uid: str
    modality: str | None
    series_number: int | None
    description: str | None
    body_part: str | None
    frame_of_reference_uid: str | None
    n_instances: int


@dataclass(frozen=True)
class InstanceRow:
    """An instance, where its bytes are, and the series it is in."""

    series: SeriesRow
    sop_instance_uid: str
    sop_class_uid: str
    instance_number: int | None
    transfer_syntax_uid: str | None
    blob_path: str
    size_bytes: int


def wildcard(column: InstrumentedAttribute[Any], pattern: str) -> ColumnElement[bool]:
    """DICOM wildcard matching (``*``, ``?``), case-insensitive; plain text matches exactly.

    Examples
    --------
    >>> str(wildcard(Patient.patient_id, "P1?"))
    "lower(patients.patient_id) LIKE lower(:lower_1) ESCAPE '\\\\'"
    """
    if "*" not in pattern and "?" not in pattern:
        return func.lower(column) == func.lower(pattern)
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(func.lower(escaped.replace("*", "%").replace("?", "_")), "\\")


def _study_filters(stmt: S, q: QidoQuery) -> S:
    for column, pattern in (
        (Patient.name, q.patient_name),
        (Patient.patient_id, q.patient_id),
        (Study.accession_number, q.accession_number),
        (Study.description, q.study_description),
    ):
        if pattern:
            stmt = stmt.where(wildcard(column, pattern))
    if q.study_uids:
        stmt = stmt.where(Study.study_uid.in_(q.study_uids))
    if q.study_dates and q.study_dates.start:
        stmt = stmt.where(Study.study_date >= q.study_dates.start)
    if q.study_dates and q.study_dates.end:
        stmt = stmt.where(Study.study_date <= q.study_dates.end)
    if q.modalities_in_study:
        has = select(Series.id).where(
            Series.study_pk == Study.id, Series.modality.in_(q.modalities_in_study)
        )
        stmt = stmt.where(has.exists())
    return stmt


def _series_filters(stmt: S, q: QidoQuery) -> S:
    if q.series_uids:
        stmt = stmt.where(Series.series_uid.in_(q.series_uids))
    if q.modalities:
        stmt = stmt.where(Series.modality.in_(q.modalities))
    if q.series_number is not None:
        stmt = stmt.where(Series.series_number == q.series_number)
    return stmt


def _instance_filters(stmt: S, q: QidoQuery) -> S:
    if q.sop_uids:
        stmt = stmt.where(Instance.sop_instance_uid.in_(q.sop_uids))
    if q.sop_class_uids:
        stmt = stmt.where(Instance.sop_class_uid.in_(q.sop_class_uids))
    if q.instance_number is not None:
        stmt = stmt.where(Instance.instance_number == q.instance_number)
    return stmt


def _page(stmt: S, q: QidoQuery) -> S:
    return stmt.limit(q.limit).offset(q.offset) if q.limit else stmt.offset(q.offset)


def _study_row(study: Study, patient: Patient, counts: tuple[set[str], int, int]) -> StudyRow:
    modalities, n_series, n_instances = counts
    return StudyRow(
        study_uid=study.study_uid,
        study_date=study.study_date,
        study_time=study.study_time,
        accession_number=study.accession_number,
        study_id=study.study_id,
        description=study.description,
        referring_physician=study.referring_physician,
        patient_id=patient.patient_id,
        issuer=patient.issuer,
        patient_name=patient.name,
        birth_date=patient.birth_date,
        sex=patient.sex,
        modalities=tuple(sorted(modalities)),
        n_series=n_series,
        n_instances=n_instances,
    )


def _studies_by_pk(session: Session, pairs: list[tuple[Study, Patient]]) -> dict[int, StudyRow]:
    counts = study_counts(session, [study.id for study, _ in pairs])
    return {
        study.id: _study_row(study, patient, counts.get(study.id, (set(), 0, 0)))
        for study, patient in pairs
    }


def search_studies(session: Session, q: QidoQuery) -> list[StudyRow]:
    """Studies matching the study-level keys of ``q``, newest first."""
    stmt = _study_filters(select(Study, Patient).join(Patient, Study.patient_pk == Patient.id), q)
    stmt = _page(stmt.order_by(Study.study_date.desc().nulls_last(), Study.id.desc()), q)
    pairs = [(study, patient) for study, patient in session.execute(stmt)]
    rows = _studies_by_pk(session, pairs)
    return [rows[study.id] for study, _ in pairs]


def _series_counts(session: Session, series_pks: list[int]) -> dict[int, int]:
    stmt = (
        select(Instance.series_pk, func.count(Instance.id))
        .where(Instance.series_pk.in_(series_pks))
        .group_by(Instance.series_pk)
    )
    return dict(session.execute(stmt).all())


def _series_row(series: Series, study: StudyRow, n_instances: int) -> SeriesRow:
    return SeriesRow(
        study=study,
        series_uid=series.series_uid,
        modality=series.modality,
        series_number=series.series_number,
        description=series.description,
        body_part=series.body_part,
        frame_of_reference_uid=series.frame_of_reference_uid,
        n_instances=n_instances,
    )


def _joined_series() -> Select[Series, Study, Patient]:
    return (
        select(Series, Study, Patient)
        .join(Study, Series.study_pk == Study.id)
        .join(Patient, Study.patient_pk == Patient.id)
    )


def search_series(session: Session, q: QidoQuery) -> list[SeriesRow]:
    """Series matching the study- and series-level keys of ``q``."""
    stmt = _series_filters(_study_filters(_joined_series(), q), q)
    stmt = _page(stmt.order_by(Study.id, Series.series_number, Series.id), q)
    found = list(session.execute(stmt))
    studies = _studies_by_pk(session, list({s.id: (s, p) for _, s, p in found}.values()))
    counts = _series_counts(session, [series.id for series, _, _ in found])
    return [_series_row(se, studies[st.id], counts.get(se.id, 0)) for se, st, _ in found]


def search_instances(session: Session, q: QidoQuery) -> list[InstanceRow]:
    """Instances matching the study-, series- and instance-level keys of ``q``."""
    stmt = _joined_series().add_columns(Instance).join(Instance, Instance.series_pk == Series.id)
    stmt = _instance_filters(_series_filters(_study_filters(stmt, q), q), q)
    order = (Study.id, Series.series_number, Series.id, Instance.instance_number, Instance.id)
    found = list(session.execute(_page(stmt.order_by(*order), q)))
    studies = _studies_by_pk(session, list({s.id: (s, p) for _, s, p, _ in found}.values()))
    counts = _series_counts(session, list({se.id for se, _, _, _ in found}))
    series = {
        se.id: _series_row(se, studies[st.id], counts.get(se.id, 0)) for se, st, _, _ in found
    }
    return [_instance_row(series[se.id], inst) for se, _, _, inst in found]


def _instance_row(series: SeriesRow, instance: Instance) -> InstanceRow:
    return InstanceRow(
        series=series,
        sop_instance_uid=instance.sop_instance_uid,
        sop_class_uid=instance.sop_class_uid,
        instance_number=instance.instance_number,
        transfer_syntax_uid=instance.transfer_syntax_uid,
        blob_path=instance.blob_path,
        size_bytes=instance.size_bytes,
    )


@dataclass(frozen=True)
class BlobToSend:
    """One instance a WADO-RS request returns: its UIDs and where its bytes are."""

    study_uid: str
    series_uid: str
    sop_instance_uid: str
    transfer_syntax_uid: str | None
    blob_path: str


def instances_to_retrieve(
    session: Session, study_uid: str, *, series_uid: str | None = None, sop_uid: str | None = None
) -> list[BlobToSend]:
    """The instances of a study, a series or one instance, in series and instance order."""
    stmt = (
        select(Series.series_uid, Instance)
        .join(Series, Instance.series_pk == Series.id)
        .join(Study, Series.study_pk == Study.id)
        .where(Study.study_uid == study_uid)
    )
    if series_uid is not None:
        stmt = stmt.where(Series.series_uid == series_uid)
    if sop_uid is not None:
        stmt = stmt.where(Instance.sop_instance_uid == sop_uid)
    stmt = stmt.order_by(Series.series_number, Series.id, Instance.instance_number, Instance.id)
    return [
        BlobToSend(study_uid, se_uid, i.sop_instance_uid, i.transfer_syntax_uid, i.blob_path)
        for se_uid, i in session.execute(stmt)
    ]
