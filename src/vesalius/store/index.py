"""The DICOM index: file instances under patient, study and series; list studies.

Every function takes a :class:`~sqlalchemy.orm.Session` (from ``Store.session()``) and
leaves committing to it, so that storing the blob, indexing it and acknowledging it can be
ordered by the caller: write and fsync the blob, commit the index, then acknowledge.

Examples
--------
>>> import tempfile, pathlib
>>> from pydicom import Dataset
>>> from vesalius.store import BlobStore, open_store, sqlite_url
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> store, blobs = open_store(sqlite_url(folder / "i.sqlite3")), BlobStore(folder / "blobs")
>>> ds = Dataset()
>>> ds.PatientID, ds.StudyInstanceUID, ds.SeriesInstanceUID = "P1", "1.2", "1.2.3"
>>> ds.SOPInstanceUID, ds.SOPClassUID, ds.Modality = "1.2.3.4", "1.2.840.10008.5.1.4.1.1.2", "CT"
>>> header = InstanceHeader.from_dataset(ds)
>>> with store.session() as s:
...     added = add_instance(s, header, blobs.put(b"DICM..."))
>>> added.created
True
>>> with store.session() as s:
...     add_instance(s, header, blobs.put(b"DICM...")).created  # same SOP Instance UID
False
>>> with store.read_session() as s:
...     page = list_studies(s, StudyQuery(modality="CT"))
>>> page.total, page.items[0].n_instances
(1, 1)
>>> store.close()
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Select, Table, distinct, exists, func, select
from sqlalchemy.orm import Session

from vesalius.errors import InputError, StoreError
from vesalius.store._sql import (
    INSERT_CHUNK,
    clip,
    insert_ignoring_conflict,
    insert_rows,
    run_driver_sql,
    wildcard_match,
)
from vesalius.store.blobs import BlobRef
from vesalius.store.header import (
    InstanceHeader,
    InstanceInfo,
    PatientInfo,
    SeriesInfo,
    StudyInfo,
)
from vesalius.store.models import Instance, Patient, Series, Study
from vesalius.store.states import DuplicatePolicy
from vesalius.store.types import aware_utc, utc_now

log = logging.getLogger(__name__)

MAX_PAGE = 1000


def _fill(row: Any, values: dict[str, Any]) -> None:
    """Copy the non-empty ``values`` onto ``row`` where they differ (newer headers win)."""
    for key, value in values.items():
        if value is not None and getattr(row, key) != value:
            setattr(row, key, value)


def upsert_patient(session: Session, info: PatientInfo) -> Patient:
    """The patient row for ``info`` (created if new, demographics refreshed if known)."""
    values = clip(Patient, asdict(info))
    key = {"patient_id": values["patient_id"], "issuer": values["issuer"]}
    insert_ignoring_conflict(session, Patient, values, unique=("patient_id", "issuer"))
    patient = session.scalars(select(Patient).filter_by(**key)).one()
    _fill(patient, values)
    return patient


def upsert_study(session: Session, info: StudyInfo, *, patient: Patient) -> Study:
    """The study row for ``info``, under ``patient``.

    Raises
    ------
    StoreError
        When the Study Instance UID is already filed under another patient.
    """
    values = clip(Study, asdict(info))
    insert_ignoring_conflict(
        session, Study, {**values, "patient_pk": patient.id}, unique=("study_uid",)
    )
    study = session.scalars(select(Study).filter_by(study_uid=info.study_uid)).one()
    if study.patient_pk != patient.id:
        raise StoreError(
            f"study {info.study_uid} belongs to another patient than {patient.patient_id!r}"
        )
    _fill(study, values)
    return study


def upsert_series(session: Session, info: SeriesInfo, *, study: Study) -> Series:
    """The series row for ``info``, in ``study``.

    Raises
    ------
    StoreError
        When the Series Instance UID is already filed under another study.
    """
    values = clip(Series, asdict(info))
    insert_ignoring_conflict(
        session, Series, {**values, "study_pk": study.id}, unique=("series_uid",)
    )
    series = session.scalars(select(Series).filter_by(series_uid=info.series_uid)).one()
    if series.study_pk != study.id:
        raise StoreError(
            f"series {info.series_uid} belongs to another study than {study.study_uid}"
        )
    _fill(series, values)
    return series


@dataclass(frozen=True)
class AddedInstance:
    """What :func:`add_instance` did.

    Attributes
    ----------
    instance_pk
        Row id of the instance.
    created
        True when the SOP Instance UID was new.
    replaced
        True when an existing instance was replaced (``DuplicatePolicy.REPLACE``).
    orphaned_blob
        The blob path the index no longer points to after a replacement, if any: the
        caller may delete it once nothing else refers to it.
    """

    instance_pk: int
    created: bool
    replaced: bool = False
    orphaned_blob: str | None = None


def add_instance(
    session: Session,
    header: InstanceHeader,
    blob: BlobRef,
    *,
    on_duplicate: DuplicatePolicy = DuplicatePolicy.KEEP_FIRST,
    received_at: datetime | None = None,
) -> AddedInstance:
    """Index one stored instance, idempotently.

    Parameters
    ----------
    session
        An open write session.
    header
        The instance's identifying attributes.
    blob
        Where its bytes are in the blob store (from ``BlobStore.put``).
    on_duplicate
        When the SOP Instance UID is already indexed: keep the first copy (default) or
        replace it with this one.
    received_at
        When it arrived (aware datetime); now by default.
    """
    patient = upsert_patient(session, header.patient)
    study = upsert_study(session, header.study, patient=patient)
    series = upsert_series(session, header.series, study=study)
    values = clip(Instance, {**asdict(header.instance), **_blob_values(blob)})
    values |= {"series_pk": series.id, "received_at": aware_utc(received_at or utc_now())}
    created = insert_ignoring_conflict(session, Instance, values, unique=("sop_instance_uid",))
    instance = session.scalars(
        select(Instance).filter_by(sop_instance_uid=header.instance.sop_instance_uid)
    ).one()
    if created or on_duplicate is DuplicatePolicy.KEEP_FIRST:
        if not created:
            log.info("instance %s already stored; keeping the first", instance.sop_instance_uid)
        return AddedInstance(instance.id, created=created)
    old_blob = instance.blob_path
    for key, value in values.items():
        setattr(instance, key, value)
    session.flush()
    orphan = None if old_blob == blob.path or _blob_in_use(session, old_blob) else old_blob
    log.info("instance %s replaced", instance.sop_instance_uid)
    return AddedInstance(instance.id, created=False, replaced=True, orphaned_blob=orphan)


def add_instances(
    session: Session,
    items: Sequence[tuple[InstanceHeader, BlobRef]],
    *,
    on_duplicate: DuplicatePolicy = DuplicatePolicy.KEEP_FIRST,
    received_at: datetime | None = None,
    parents: ParentCache | None = None,
) -> list[AddedInstance]:
    """Index many stored instances in one go: what :func:`add_instance` does, batched.

    Each distinct patient, study and series of the batch is upserted once (or not at all
    when ``parents`` remembers it from an earlier batch), and the new instances are
    inserted with one multi-row ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` statement
    written once and run at the driver level, so that a batch of instances of a known
    series costs two short statements (confirm the series, insert) whatever its size,
    and little Python. A SOP Instance UID met twice (in the index or in the batch) is a
    duplicate, handled as ``on_duplicate`` says. Any error (a study claimed by another
    patient...) raises and leaves the batch to the caller's rollback; then call
    ``parents.clear()``.

    Parameters
    ----------
    session
        An open write session.
    items
        Each instance's header and where its bytes are.
    on_duplicate, received_at
        As for :func:`add_instance`.
    parents
        Row ids of the patients, studies and series filed by earlier calls, kept by one
        writer across its transactions; checked against the index before they are used.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from pydicom import Dataset
    >>> from vesalius.store import BlobStore, open_store, sqlite_url
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> store, blobs = open_store(sqlite_url(folder / "i.sqlite3")), BlobStore(folder / "b")
    >>> def header(sop):
    ...     ds = Dataset()
    ...     ds.PatientID, ds.StudyInstanceUID, ds.SeriesInstanceUID = "P1", "1.2", "1.2.3"
    ...     ds.SOPInstanceUID, ds.SOPClassUID = sop, "1.2.840.10008.5.1.4.1.1.2"
    ...     return InstanceHeader.from_dataset(ds)
    >>> items = [(header(f"1.2.3.{k}"), blobs.put(bytes([k]))) for k in (1, 2, 1)]
    >>> with store.session() as s:
    ...     [a.created for a in add_instances(s, items)]
    [True, True, False]
    >>> store.close()
    """
    if not items:
        return []
    session.flush()  # pending ORM changes first: the statements below bypass autoflush
    when = aware_utc(received_at or utc_now())
    series_pks = _series_pks(session, [header for header, _ in items], parents or ParentCache())
    rows = [
        _instance_row(header, blob, pk, when)
        for (header, blob), pk in zip(items, series_pks, strict=True)
    ]
    fresh = _insert_new_instances(session, rows)
    known = fresh | _instance_pks(session, [r["sop_instance_uid"] for r in rows], but=fresh)
    out: list[AddedInstance] = []
    for (header, blob), row in zip(items, rows, strict=True):
        uid = row["sop_instance_uid"]
        if uid in fresh:
            out.append(AddedInstance(fresh.pop(uid), created=True))
        elif on_duplicate is DuplicatePolicy.REPLACE:
            out.append(add_instance(session, header, blob, on_duplicate=on_duplicate))
        else:
            log.info("instance %s already stored; keeping the first", uid)
            out.append(AddedInstance(known[uid], created=False))
    return out


_ParentKey = tuple[PatientInfo, StudyInfo, SeriesInfo]
_Uids = tuple[str, str, str, str]


class ParentCache:
    """The series row ids of the patient/study/series headers a writer filed lately.

    An entry is reused only for exactly the same patient, study and series attributes
    (so the rows already hold them), and only after one query per batch confirmed that the
    row still is that series of that study of that patient: someone may have deleted the
    study meanwhile, and SQLite gives a freed row id to the next new row, so a stale id
    could file instances under another series (a deleted and re-used row id is never
    trusted).

    Parameters
    ----------
    size
        The most entries kept; the cache starts over when it is full.
    """

    def __init__(self, *, size: int = 1024) -> None:
        self.size = size
        self._pks: dict[_ParentKey, tuple[int, _Uids]] = {}

    def clear(self) -> None:
        """Forget everything (after a rolled-back transaction)."""
        self._pks.clear()

    def confirmed(self, session: Session, keys: set[_ParentKey]) -> dict[_ParentKey, int]:
        """The cached series ids of ``keys`` that the index confirms; others are dropped."""
        cached = {key: self._pks[key] for key in keys if key in self._pks}
        if not cached:
            return {}
        pks = sorted({pk for pk, _ in cached.values()})
        found = run_driver_sql(
            session, _confirm_sql(len(pks)), {f"pk{k}": pk for k, pk in enumerate(pks)}
        )
        rows = {pk: (sr, st, pa, issuer) for pk, sr, st, pa, issuer in found}
        good = {key: pk for key, (pk, uids) in cached.items() if rows.get(pk) == uids}
        for key in cached.keys() - good.keys():
            del self._pks[key]
        return good

    def remember(self, key: _ParentKey, pk: int) -> None:
        """Keep the series id of ``key``."""
        if len(self._pks) >= self.size:
            self._pks.clear()
        self._pks[key] = (pk, _uids(key))


def _uids(key: _ParentKey) -> _Uids:
    """The series, study and patient identifiers of ``key`` as the index stores them."""
    patient, study, series = key
    return (
        clip(Series, {"series_uid": series.series_uid})["series_uid"],
        clip(Study, {"study_uid": study.study_uid})["study_uid"],
        clip(Patient, {"patient_id": patient.patient_id})["patient_id"],
        clip(Patient, {"issuer": patient.issuer})["issuer"],
    )


@lru_cache(maxsize=64)
def _confirm_sql(n_series: int) -> str:
    """Each of ``n_series`` series rows (``:pk0``...) with its study and patient."""
    series, studies, patients = (_table(m).name for m in (Series, Study, Patient))
    wanted = ", ".join(f":pk{k}" for k in range(n_series))
    return (
        "SELECT s.id, s.series_uid, st.study_uid, p.patient_id, p.issuer"
        f" FROM {series} s JOIN {studies} st ON st.id = s.study_pk"
        f" JOIN {patients} p ON p.id = st.patient_pk WHERE s.id IN ({wanted})"
    )


def _series_pks(
    session: Session, headers: Sequence[InstanceHeader], parents: ParentCache
) -> list[int]:
    """The series row id of each header, upserting each new patient/study/series once."""
    keys = [(h.patient, h.study, h.series) for h in headers]
    known = parents.confirmed(session, set(keys))
    for key in dict.fromkeys(keys):
        if key not in known:
            known[key] = _upsert_parents(session, *key)
            parents.remember(key, known[key])
    return [known[key] for key in keys]


def _upsert_parents(
    session: Session, patient: PatientInfo, study: StudyInfo, series: SeriesInfo
) -> int:
    patient_row = upsert_patient(session, patient)
    study_row = upsert_study(session, study, patient=patient_row)
    return upsert_series(session, series, study=study_row).id


_INSTANCE_FIELDS = tuple(f.name for f in fields(InstanceInfo))


def _instance_row(
    header: InstanceHeader, blob: BlobRef, series_pk: int, when: datetime
) -> dict[str, Any]:
    """The ``instances`` row of one instance (what ``asdict`` and :func:`clip` give)."""
    info = header.instance
    values = {name: getattr(info, name) for name in _INSTANCE_FIELDS}
    values |= _blob_values(blob)
    values |= {"series_pk": series_pk, "received_at": when}
    return clip(Instance, values)


def _table(model: type[Instance | Series | Study | Patient]) -> Table:
    return cast(Table, model.__table__)


def _insert_new_instances(session: Session, rows: list[dict[str, Any]]) -> dict[str, int]:
    """Insert the rows whose SOP Instance UID is new; their ids by SOP Instance UID.

    Only the first row of a SOP Instance UID met twice in ``rows`` is tried.
    """
    first: dict[str, dict[str, Any]] = {}
    for row in rows:
        first.setdefault(row["sop_instance_uid"], row)
    inserted = insert_rows(
        session,
        _table(Instance),
        list(first.values()),
        on_conflict_nothing="sop_instance_uid",
        returning=("id", "sop_instance_uid"),
    )
    return {uid: pk for pk, uid in inserted}


def _instance_pks(session: Session, uids: list[str], *, but: dict[str, int]) -> dict[str, int]:
    """Row ids of the indexed instances among ``uids``, except those in ``but``."""
    wanted = sorted(set(uids).difference(but))
    if not wanted:
        return {}
    out: dict[str, int] = {}
    for start in range(0, len(wanted), INSERT_CHUNK):
        chunk = wanted[start : start + INSERT_CHUNK]
        params = {f"uid{k}": uid for k, uid in enumerate(chunk)}
        out |= {uid: pk for pk, uid in run_driver_sql(session, _instances_sql(len(chunk)), params)}
    return out


@lru_cache(maxsize=64)
def _instances_sql(n_uids: int) -> str:
    """Id and SOP Instance UID of the instances of ``n_uids`` UIDs (``:uid0``...)."""
    wanted = ", ".join(f":uid{k}" for k in range(n_uids))
    table = _table(Instance).name
    return f"SELECT id, sop_instance_uid FROM {table} WHERE sop_instance_uid IN ({wanted})"


def _blob_values(blob: BlobRef) -> dict[str, Any]:
    return {"blob_path": blob.path, "size_bytes": blob.size, "sha256": blob.sha256}


def _blob_in_use(session: Session, path: str) -> bool:
    return bool(session.scalar(select(exists().where(Instance.blob_path == path))))


def find_instance(session: Session, sop_instance_uid: str) -> Instance | None:
    """The instance with this SOP Instance UID, or ``None``."""
    return session.scalars(select(Instance).filter_by(sop_instance_uid=sop_instance_uid)).first()


def list_instances(
    session: Session, study_uid: str, *, series_uid: str | None = None
) -> list[Instance]:
    """Instances of a study (or of one of its series), by series then instance number."""
    stmt = (
        select(Instance)
        .join(Series, Instance.series_pk == Series.id)
        .join(Study, Series.study_pk == Study.id)
        .where(Study.study_uid == study_uid)
        .order_by(Series.series_number, Series.id, Instance.instance_number, Instance.id)
    )
    if series_uid is not None:
        stmt = stmt.where(Series.series_uid == series_uid)
    return list(session.scalars(stmt))


@dataclass(frozen=True)
class StudyQuery:
    """Filters of a study listing (worklist, QIDO-RS ``/studies``).

    ``patient_id``, ``patient_name`` and ``accession_number`` accept DICOM wildcards
    (``*``, ``?``) and match case-insensitively; dates are inclusive bounds.

    Examples
    --------
    >>> StudyQuery(limit=0)
    Traceback (most recent call last):
    ...
    vesalius.errors.InputError: limit must be between 1 and 1000, got 0
    """

    patient_id: str | None = None
    patient_name: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    modality: str | None = None
    accession_number: str | None = None
    study_uid: str | None = None
    limit: int = 100
    offset: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_PAGE:
            raise InputError(None, f"limit must be between 1 and {MAX_PAGE}, got {self.limit}")
        if self.offset < 0:
            raise InputError(None, f"offset must not be negative, got {self.offset}")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise InputError(None, f"date range {self.date_from}..{self.date_to} is empty")


@dataclass(frozen=True)
class StudySummary:
    """One study of a listing, with its patient and counts."""

    study_uid: str
    study_date: date | None
    study_time: str | None
    accession_number: str | None
    description: str | None
    patient_id: str
    patient_name: str | None
    modalities: tuple[str, ...]
    n_series: int
    n_instances: int


@dataclass(frozen=True)
class StudyPage:
    """A page of studies and the number of studies matching in all."""

    items: tuple[StudySummary, ...]
    total: int
    offset: int


def _filtered(query: StudyQuery) -> Select[Study, Patient]:
    stmt = select(Study, Patient).join(Patient, Study.patient_pk == Patient.id)
    if query.patient_id:
        stmt = stmt.where(wildcard_match(Patient.patient_id, query.patient_id))
    if query.patient_name:
        stmt = stmt.where(wildcard_match(Patient.name, query.patient_name))
    if query.accession_number:
        stmt = stmt.where(wildcard_match(Study.accession_number, query.accession_number))
    if query.study_uid:
        stmt = stmt.where(Study.study_uid == query.study_uid)
    if query.date_from:
        stmt = stmt.where(Study.study_date >= query.date_from)
    if query.date_to:
        stmt = stmt.where(Study.study_date <= query.date_to)
    if query.modality:
        has = select(Series.id).where(
            Series.study_pk == Study.id, Series.modality == query.modality
        )
        stmt = stmt.where(has.exists())
    return stmt


def study_counts(session: Session, study_pks: list[int]) -> dict[int, tuple[set[str], int, int]]:
    """Per study: modalities, number of series, number of instances."""
    stmt = (
        select(
            Series.study_pk,
            Series.modality,
            func.count(distinct(Series.id)),
            func.count(Instance.id),
        )
        .outerjoin(Instance, Instance.series_pk == Series.id)
        .where(Series.study_pk.in_(study_pks))
        .group_by(Series.study_pk, Series.modality)
    )
    out: dict[int, tuple[set[str], int, int]] = defaultdict(lambda: (set(), 0, 0))
    for study_pk, modality, n_series, n_instances in session.execute(stmt):
        modalities, series_total, instance_total = out[study_pk]
        if modality:
            modalities.add(modality)
        out[study_pk] = (modalities, series_total + n_series, instance_total + n_instances)
    return out


def list_studies(session: Session, query: StudyQuery) -> StudyPage:
    """The studies matching ``query``, newest study date first, one page at a time."""
    stmt = _filtered(query)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.execute(
        stmt.order_by(Study.study_date.desc().nulls_last(), Study.id.desc())
        .limit(query.limit)
        .offset(query.offset)
    ).all()
    counts = study_counts(session, [study.id for study, _ in rows])
    items = tuple(_summary(study, patient, counts.get(study.id)) for study, patient in rows)
    return StudyPage(items=items, total=total, offset=query.offset)


def _summary(
    study: Study, patient: Patient, counts: tuple[set[str], int, int] | None
) -> StudySummary:
    modalities, n_series, n_instances = counts or (set(), 0, 0)
    return StudySummary(
        study_uid=study.study_uid,
        study_date=study.study_date,
        study_time=study.study_time,
        accession_number=study.accession_number,
        description=study.description,
        patient_id=patient.patient_id,
        patient_name=patient.name,
        modalities=tuple(sorted(modalities)),
        n_series=n_series,
        n_instances=n_instances,
    )
