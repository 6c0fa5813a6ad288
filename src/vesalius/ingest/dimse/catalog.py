"""What the listener answers C-FIND with, and what C-MOVE / C-GET send: queries on the index.

These are read-only repository functions over the store's tables (patients, studies,
series, instances), for the four query levels of the Patient Root and Study Root
information models. The selective keys (IDs, names, UIDs, accession number, study date,
modality) are filtered in SQL; then every key of the request is matched in Python with
:func:`~vesalius.ingest.dimse.matching.matches`, which also covers the computed attributes
(ModalitiesInStudy, NumberOfStudyRelatedInstances...). Keys the index does not hold are
answered empty and do not restrict the match.

Examples
--------
>>> import tempfile, pathlib
>>> from pydicom import Dataset
>>> from vesalius.store import BlobStore, InstanceHeader, add_instance, open_store, sqlite_url
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> store, blobs = open_store(sqlite_url(folder / "i.sqlite3")), BlobStore(folder / "b")
>>> ds = Dataset()
>>> ds.PatientID, ds.PatientName, ds.StudyDate, ds.Modality = "P1", "Doe^Jane", "20240131", "CT"
>>> ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID = "1.2", "1.2.3", "1.2.3.4"
>>> ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
>>> with store.session() as s:
...     _ = add_instance(s, InstanceHeader.from_dataset(ds), blobs.put(b"x"))
>>> with store.read_session() as s:
...     found = find_records(s, Level.STUDY, {"PatientName": "doe*", "StudyDate": "2024-"})
>>> [(r.values["StudyInstanceUID"], r.values["ModalitiesInStudy"]) for r in found]
[('1.2', ('CT',))]
>>> store.close()
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydicom.datadict import dictionary_VR
from sqlalchemy import ColumnElement, Select, distinct, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from vesalius.ingest.dimse.matching import Stored, is_universal, matches
from vesalius.store.models import Instance, Patient, Series, Study

log = logging.getLogger(__name__)


class Level(StrEnum):
    """Query/Retrieve Level (0008,0052)."""

    PATIENT = "PATIENT"
    STUDY = "STUDY"
    SERIES = "SERIES"
    IMAGE = "IMAGE"


_DEPTH = {Level.PATIENT: 1, Level.STUDY: 2, Level.SERIES: 3, Level.IMAGE: 4}


@dataclass(frozen=True)
class Record:
    """One C-FIND match: its attributes by DICOM keyword, and where its bytes are.

    ``blob_path``, ``transfer_syntax_uid`` and ``sha256`` are set for IMAGE records only.
    """

    level: Level
    values: Mapping[str, Stored]
    blob_path: str | None = None
    transfer_syntax_uid: str | None = None


def _vr(keyword: str) -> str:
    try:
        return str(dictionary_VR(keyword))
    except KeyError:
        return "LO"


def _date_text(value: date | None) -> str | None:
    return None if value is None else value.strftime("%Y%m%d")


def _like(column: InstrumentedAttribute[Any], pattern: str) -> ColumnElement[bool]:
    if "*" not in pattern and "?" not in pattern:
        return func.lower(column) == pattern.strip().lower()
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(escaped.replace("*", "%").replace("?", "_").lower(), "\\")


def _date_bound(text: str) -> date | None:
    try:
        return datetime.strptime(text.strip().replace(".", ""), "%Y%m%d").date()
    except ValueError:
        return None


def _date_filter(query: str) -> list[ColumnElement[bool]]:
    low, dash, high = query.partition("-")
    if not dash:
        day = _date_bound(low)
        return [] if day is None else [Study.study_date == day]
    out = []
    if (start := _date_bound(low)) is not None:
        out.append(Study.study_date >= start)
    if (end := _date_bound(high)) is not None:
        out.append(Study.study_date <= end)
    return out


_TEXT: dict[str, tuple[int, InstrumentedAttribute[Any]]] = {
    "PatientID": (1, Patient.patient_id),
    "PatientName": (1, Patient.name),
    "AccessionNumber": (2, Study.accession_number),
    "Modality": (3, Series.modality),
}
_UIDS: dict[str, tuple[int, InstrumentedAttribute[Any]]] = {
    "StudyInstanceUID": (2, Study.study_uid),
    "SeriesInstanceUID": (3, Series.series_uid),
    "SOPInstanceUID": (4, Instance.sop_instance_uid),
}


def _sql_filters(query: Mapping[str, str], depth: int) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    for keyword, (needed, column) in _TEXT.items():
        value = query.get(keyword)
        if needed <= depth and value is not None and not is_universal(value) and "\\" not in value:
            out.append(_like(column, value))
    for keyword, (needed, column) in _UIDS.items():
        value = query.get(keyword)
        if needed <= depth and value is not None and not is_universal(value):
            out.append(column.in_([u.strip() for u in value.split("\\") if u.strip()]))
    if depth >= 2 and not is_universal(query.get("StudyDate")):
        out.extend(_date_filter(query["StudyDate"]))
    return out


def _statement(level: Level, query: Mapping[str, str]) -> Select[Any]:
    depth = _DEPTH[level]
    entities: list[Any] = [Patient, Study, Series, Instance][:depth]
    stmt = select(*entities)
    if depth >= 2:
        stmt = stmt.join(Study, Study.patient_pk == Patient.id)
    if depth >= 3:
        stmt = stmt.join(Series, Series.study_pk == Study.id)
    if depth >= 4:
        stmt = stmt.join(Instance, Instance.series_pk == Series.id)
    order: list[Any] = [Patient.name, Patient.id]
    order += [Study.study_date, Study.id] if depth >= 2 else []
    order += [Series.series_number, Series.id] if depth >= 3 else []
    order += [Instance.instance_number, Instance.id] if depth >= 4 else []
    return stmt.where(*_sql_filters(query, depth)).order_by(*order)


def _patient_values(p: Patient) -> dict[str, Stored]:
    return {
        "PatientID": p.patient_id,
        "IssuerOfPatientID": p.issuer or None,
        "PatientName": p.name,
        "PatientBirthDate": _date_text(p.birth_date),
        "PatientSex": p.sex,
    }


def _study_values(s: Study) -> dict[str, Stored]:
    return {
        "StudyInstanceUID": s.study_uid,
        "StudyDate": _date_text(s.study_date),
        "StudyTime": s.study_time,
        "AccessionNumber": s.accession_number,
        "StudyID": s.study_id,
        "StudyDescription": s.description,
        "ReferringPhysicianName": s.referring_physician,
    }


def _series_values(s: Series) -> dict[str, Stored]:
    return {
        "SeriesInstanceUID": s.series_uid,
        "Modality": s.modality,
        "SeriesNumber": s.series_number,
        "SeriesDescription": s.description,
        "BodyPartExamined": s.body_part,
        "FrameOfReferenceUID": s.frame_of_reference_uid,
    }


def _instance_values(i: Instance) -> dict[str, Stored]:
    return {
        "SOPInstanceUID": i.sop_instance_uid,
        "SOPClassUID": i.sop_class_uid,
        "InstanceNumber": i.instance_number,
    }


def _study_counts(session: Session, pks: list[int]) -> dict[int, dict[str, Stored]]:
    stmt = (
        select(Series.study_pk, Series.modality, func.count(distinct(Series.id)), func.count())
        .join(Instance, Instance.series_pk == Series.id)
        .where(Series.study_pk.in_(pks))
        .group_by(Series.study_pk, Series.modality)
    )
    acc: dict[int, tuple[set[str], int, int]] = defaultdict(lambda: (set(), 0, 0))
    for pk, modality, n_series, n_instances in session.execute(stmt):
        mods, series_total, instance_total = acc[pk]
        acc[pk] = (
            mods | ({modality} if modality else set()),
            series_total + n_series,
            instance_total + n_instances,
        )
    return {
        pk: {
            "ModalitiesInStudy": tuple(sorted(mods)),
            "NumberOfStudyRelatedSeries": n_series,
            "NumberOfStudyRelatedInstances": n_instances,
        }
        for pk, (mods, n_series, n_instances) in acc.items()
    }


def _series_counts(session: Session, pks: list[int]) -> dict[int, dict[str, Stored]]:
    stmt = (
        select(Instance.series_pk, func.count())
        .where(Instance.series_pk.in_(pks))
        .group_by(Instance.series_pk)
    )
    return {pk: {"NumberOfSeriesRelatedInstances": n} for pk, n in session.execute(stmt)}


def _patient_counts(session: Session, pks: list[int]) -> dict[int, dict[str, Stored]]:
    stmt = (
        select(
            Study.patient_pk,
            func.count(distinct(Study.id)),
            func.count(distinct(Series.id)),
            func.count(Instance.id),
        )
        .join(Series, Series.study_pk == Study.id)
        .join(Instance, Instance.series_pk == Series.id)
        .where(Study.patient_pk.in_(pks))
        .group_by(Study.patient_pk)
    )
    return {
        pk: {
            "NumberOfPatientRelatedStudies": n_st,
            "NumberOfPatientRelatedSeries": n_se,
            "NumberOfPatientRelatedInstances": n_in,
        }
        for pk, n_st, n_se, n_in in session.execute(stmt)
    }


def _with_counts(session: Session, level: Level, rows: list[Any]) -> list[dict[str, Stored]]:
    out = []
    for row in rows:
        values = _patient_values(row[0])
        fills: tuple[Callable[[Any], dict[str, Stored]], ...] = (
            _study_values,
            _series_values,
            _instance_values,
        )
        for entity, fill in zip(row[1:], fills, strict=False):
            values |= fill(entity)
        out.append(values)
    if level is Level.PATIENT:
        counts = _patient_counts(session, [r[0].id for r in rows])
    elif level is Level.STUDY:
        counts = _study_counts(session, [r[1].id for r in rows])
    elif level is Level.SERIES:
        counts = _series_counts(session, [r[2].id for r in rows])
    else:
        return out
    key = {Level.PATIENT: 0, Level.STUDY: 1, Level.SERIES: 2}[level]
    for values, row in zip(out, rows, strict=True):
        values |= counts.get(row[key].id, {})
    return out


def _accepts(values: Mapping[str, Stored], query: Mapping[str, str]) -> bool:
    return all(matches(q, values[k], vr=_vr(k)) for k, q in query.items() if k in values)


def find_records(session: Session, level: Level, query: Mapping[str, str]) -> list[Record]:
    """The records at ``level`` matching ``query`` (DICOM keyword -> query value).

    Parameters
    ----------
    session
        A read session of the store.
    level
        PATIENT, STUDY, SERIES or IMAGE.
    query
        The matching keys of the request, as text (``"Doe*"``, ``"20240101-"``,
        ``"1.2.3\\\\1.2.4"``); empty values match everything.
    """
    rows = list(session.execute(_statement(level, query)))
    records = []
    for values, row in zip(_with_counts(session, level, rows), rows, strict=True):
        if not _accepts(values, query):
            continue
        instance = row[3] if level is Level.IMAGE else None
        records.append(
            Record(
                level,
                values,
                blob_path=None if instance is None else instance.blob_path,
                transfer_syntax_uid=None if instance is None else instance.transfer_syntax_uid,
            )
        )
    log.debug("C-FIND %s %s: %d matches", level, dict(query), len(records))
    return records
