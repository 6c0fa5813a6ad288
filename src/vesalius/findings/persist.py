"""Keep findings in the store's findings table and read them back.

Each :class:`~vesalius.findings.model.Finding` becomes one row: the typed columns the
worklist filters on (kind, code, category, confidence, algorithm, AI flag) and the whole
finding as its JSON payload, from which :func:`load_findings` rebuilds it.

Examples
--------
>>> import tempfile, pathlib
>>> from vesalius.core import SeriesRef
>>> from vesalius.findings import codes
>>> from vesalius.findings.model import Finding, Measurement
>>> from vesalius.store import open_store, sqlite_url
>>> from vesalius.store.header import PatientInfo, StudyInfo
>>> from vesalius.store.index import upsert_patient, upsert_study
>>> store = open_store(sqlite_url(pathlib.Path(tempfile.mkdtemp()) / "i.sqlite3"))
>>> finding = Finding(
...     codes.LUNG, "vesalius.chest-ct.lungs", "0.1.0", SeriesRef("1.2.3", "1.2.3.4"),
...     measurements=(Measurement(codes.VOLUME, 2400.0, "mL"),),
... )
>>> with store.session() as s:
...     _ = upsert_study(s, StudyInfo("1.2.3"), patient=upsert_patient(s, PatientInfo("P1")))
...     save_findings(s, [finding])
1
>>> with store.read_session() as s:
...     load_findings(s, "1.2.3") == [finding]
True
>>> store.close()
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from vesalius.errors import InputError, StoreError
from vesalius.findings.model import Finding
from vesalius.store.findings import Algorithm, Code, FindingRecord, add_finding, findings_of_study
from vesalius.store.models import Series

log = logging.getLogger(__name__)

PAYLOAD_KEY = "finding_type"
"""Rows whose payload has this key were written by :func:`save_findings`."""


def _series_indexed(session: Session, series_uid: str) -> bool:
    return session.scalar(select(Series.id).where(Series.series_uid == series_uid)) is not None


def to_record(finding: Finding, *, series_indexed: bool = True) -> FindingRecord:
    """The store record of ``finding``: typed columns plus the finding's JSON as payload."""
    concept = finding.finding_type
    first = finding.categories[0].value if finding.categories else None
    return FindingRecord(
        study_uid=finding.source.study_uid,
        kind=concept.meaning,
        algorithm=Algorithm(finding.algorithm_name, finding.algorithm_version),
        series_uid=finding.source.series_uid if series_indexed else None,
        code=Code(concept.scheme, concept.value, concept.meaning)
        if concept.scheme is not None and concept.value is not None
        else None,
        category=first,
        confidence=finding.confidence,
        is_ai=finding.ai_generated,
        payload=finding.to_json(),
    )


def save_findings(session: Session, findings: Iterable[Finding]) -> int:
    """Add ``findings`` to the index; returns how many were added.

    Each finding's study must be indexed. A finding whose series is not indexed is filed
    under its study only (its payload still names the series).

    Raises
    ------
    StoreError
        Unknown study.
    """
    count = 0
    for finding in findings:
        indexed = _series_indexed(session, finding.source.series_uid)
        if not indexed:
            log.debug("series %s not indexed: finding filed under its study", finding.source)
        add_finding(session, to_record(finding, series_indexed=indexed))
        count += 1
    return count


def load_findings(session: Session, study_uid: str) -> list[Finding]:
    """The findings saved by :func:`save_findings` for a study, oldest first.

    Rows written in another form (no finding payload) are skipped.

    Raises
    ------
    StoreError
        A row whose payload is not a valid finding.
    """
    found: list[Finding] = []
    for row in findings_of_study(session, study_uid):
        if PAYLOAD_KEY not in row.payload:
            log.debug("finding row %d has no finding payload; skipped", row.id)
            continue
        try:
            found.append(Finding.from_json(row.payload))
        except InputError as err:
            raise StoreError(f"finding row {row.id} of study {study_uid}: {err}") from None
    return found
