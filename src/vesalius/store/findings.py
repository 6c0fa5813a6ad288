"""Findings in the index: typed columns for queries, the full serialized form as JSON.

The ``findings`` stage owns the finding types; the store keeps what the worklist filters
and sorts on (kind, code, category, confidence, algorithm) plus the serialized finding in
``payload``, so nothing is lost and no schema change is needed when a finding type grows.

Examples
--------
>>> import tempfile, pathlib
>>> from vesalius.store import open_store, sqlite_url
>>> from vesalius.store.header import PatientInfo, StudyInfo
>>> from vesalius.store.index import upsert_patient, upsert_study
>>> store = open_store(sqlite_url(pathlib.Path(tempfile.mkdtemp()) / "i.sqlite3"))
>>> record = FindingRecord(
...     study_uid="1.2.3", kind="nodule", algorithm=Algorithm("chest-ct", "1.0"),
...     category="4A", confidence=0.91, payload={"diameter_mm": 9.5},
... )
>>> with store.session() as s:
...     _ = upsert_study(s, StudyInfo("1.2.3"), patient=upsert_patient(s, PatientInfo("P1")))
...     _ = add_finding(s, record)
>>> with store.read_session() as s:
...     [(f.kind, f.category, f.payload["diameter_mm"]) for f in findings_of_study(s, "1.2.3")]
[('nodule', '4A', 9.5)]
>>> store.close()
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vesalius.errors import StoreError
from vesalius.store._sql import clip
from vesalius.store.models import Finding, Series, Study


@dataclass(frozen=True)
class Algorithm:
    """The algorithm (name and version) that produced a finding."""

    name: str
    version: str


@dataclass(frozen=True)
class Code:
    """A coded concept (SNOMED CT, RadLex...): scheme designator, value, meaning."""

    scheme: str
    value: str
    meaning: str


@dataclass(frozen=True)
class FindingRecord:
    """A finding to store. ``payload`` is its JSON-ready serialized form."""

    study_uid: str
    kind: str
    algorithm: Algorithm
    series_uid: str | None = None
    code: Code | None = None
    category: str | None = None
    confidence: float | None = None
    is_ai: bool = True
    payload: Mapping[str, Any] = field(default_factory=dict)


def _refs(session: Session, record: FindingRecord) -> tuple[int, int | None]:
    study_pk = session.scalar(select(Study.id).where(Study.study_uid == record.study_uid))
    if study_pk is None:
        raise StoreError(f"finding for unknown study {record.study_uid}")
    if record.series_uid is None:
        return study_pk, None
    series_pk = session.scalar(
        select(Series.id).where(Series.series_uid == record.series_uid, Series.study_pk == study_pk)
    )
    if series_pk is None:
        raise StoreError(f"finding for unknown series {record.series_uid} of {record.study_uid}")
    return study_pk, series_pk


def add_finding(session: Session, record: FindingRecord) -> Finding:
    """Store ``record``; the study (and series, if given) must be indexed.

    Raises
    ------
    StoreError
        Unknown study or series, or a payload that is not JSON-serializable.
    """
    try:
        payload = json.loads(json.dumps(dict(record.payload), allow_nan=False))
    except (TypeError, ValueError) as err:
        raise StoreError(f"finding payload is not JSON: {err}") from None
    study_pk, series_pk = _refs(session, record)
    code = record.code
    values = clip(
        Finding,
        {
            "kind": record.kind,
            "code_scheme": code.scheme if code else None,
            "code_value": code.value if code else None,
            "code_meaning": code.meaning if code else None,
            "category": record.category,
            "algorithm_name": record.algorithm.name,
            "algorithm_version": record.algorithm.version,
        },
    )
    finding = Finding(
        **values,
        study_pk=study_pk,
        series_pk=series_pk,
        confidence=record.confidence,
        is_ai=record.is_ai,
        payload=payload,
    )
    session.add(finding)
    session.flush()
    return finding


def findings_of_study(session: Session, study_uid: str) -> list[Finding]:
    """The findings of a study, oldest first."""
    stmt = select(Finding).join(Study).where(Study.study_uid == study_uid).order_by(Finding.id)
    return list(session.scalars(stmt))
