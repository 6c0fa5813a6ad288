"""What an export says about a study, read once from the store: patient, series, findings, report.

:func:`load_study_content` gathers it in one read session into plain frozen dataclasses, so
the FHIR and PDF writers never touch the database. The report is the study's latest one;
its impression and recommendation are the ``IMPRESSION:`` and ``RECOMMENDATION:`` sections
of its text (the headings the report templates write), so that what a radiologist edited
and signed is what is exported.

Examples
--------
>>> report = ReportSummary(1, "final", "FINDINGS:\\nNormal.\\n\\nIMPRESSION:\\nNo disease.", 1)
>>> report.impression, report.recommendation, report.signed
('No disease.', '', True)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vesalius.errors import InputError
from vesalius.findings.model import Finding
from vesalius.findings.persist import load_findings
from vesalius.store.models import Instance, Series, Study
from vesalius.store.reports import reports_of_study

SIGNED_STATES = ("final", "amended")
"""Report states that carry a radiologist's signature."""


class UnknownStudyError(InputError):
    """The study to export is not in the store."""

    def __init__(self, study_uid: str) -> None:
        super().__init__(None, f"study {study_uid} is not in the store")


class NothingToExportError(InputError):
    """The study has nothing of the kind asked for (no findings, no segmentation)."""


_HEADING = re.compile(r"^\s*([A-Z][A-Z ]+):\s*$", re.MULTILINE)


def report_section(text: str, heading: str) -> str:
    """The text under ``HEADING:`` up to the next heading, stripped ("" when absent).

    Examples
    --------
    >>> report_section("IMPRESSION:\\nA.\\nRECOMMENDATION:\\nB.", "recommendation")
    'B.'
    """
    matches = list(_HEADING.finditer(text))
    for k, match in enumerate(matches):
        if match.group(1).strip().rstrip("S") == heading.upper().rstrip("S"):
            end = matches[k + 1].start() if k + 1 < len(matches) else len(text)
            return text[match.end() : end].strip()
    return ""


_CLOSING = ("IMPRESSION", "RECOMMENDATION")


def report_body(text: str) -> str:
    r"""The text before the impression and recommendation sections, stripped.

    Examples
    --------
    >>> report_body("FINDINGS:\nA.\n\nIMPRESSION:\nB.")
    'FINDINGS:\nA.'
    """
    for match in _HEADING.finditer(text):
        if match.group(1).strip().rstrip("S") in _CLOSING:
            return text[: match.start()].strip()
    return text.strip()


@dataclass(frozen=True)
class SeriesSummary:
    """A series of the study and how many instances the store holds of it."""

    series_uid: str
    modality: str | None
    number: int | None
    description: str | None
    n_instances: int


@dataclass(frozen=True)
class ReportSummary:
    """The report as exported: state (``draft`` ... ``amended``), text, signature."""

    id: int
    state: str
    text: str
    version: int
    signed_by: str | None = None
    signed_at: datetime | None = None
    author: str = ""

    @property
    def signed(self) -> bool:
        """Whether a radiologist signed it (final or amended)."""
        return self.state in SIGNED_STATES

    @property
    def body(self) -> str:
        """The text without its impression and recommendation sections."""
        return report_body(self.text)

    @property
    def impression(self) -> str:
        """The ``IMPRESSION:`` section of the text ("" when there is none)."""
        return report_section(self.text, "impression")

    @property
    def recommendation(self) -> str:
        """The ``RECOMMENDATION:`` section of the text ("" when there is none)."""
        return report_section(self.text, "recommendation")


@dataclass(frozen=True)
class StudyContent:
    """Everything an export states about one study."""

    study_uid: str
    patient_id: str
    patient_name: str | None
    patient_birth_date: date | None
    patient_sex: str | None
    study_date: date | None
    accession_number: str | None
    description: str | None
    series: tuple[SeriesSummary, ...]
    findings: tuple[Finding, ...]
    report: ReportSummary | None

    @property
    def modalities(self) -> tuple[str, ...]:
        """The distinct modalities of the series, in series order."""
        return tuple(dict.fromkeys(s.modality for s in self.series if s.modality))

    @property
    def n_instances(self) -> int:
        """Instances of the study held by the store."""
        return sum(s.n_instances for s in self.series)


def _series(session: Session, study_pk: int) -> tuple[SeriesSummary, ...]:
    counts = (
        select(Series, func.count(Instance.id))
        .outerjoin(Instance, Instance.series_pk == Series.id)
        .where(Series.study_pk == study_pk)
        .group_by(Series.id)
        .order_by(Series.series_number, Series.id)
    )
    return tuple(
        SeriesSummary(s.series_uid, s.modality, s.series_number, s.description, int(n))
        for s, n in session.execute(counts)
    )


def load_study_content(session: Session, study_uid: str) -> StudyContent:
    """The content of study ``study_uid``: patient, series, findings, latest report.

    Raises
    ------
    UnknownStudyError
        No such study in the store.
    """
    study = session.scalars(select(Study).where(Study.study_uid == study_uid)).first()
    if study is None:
        raise UnknownStudyError(study_uid)
    reports = reports_of_study(session, study_uid)
    latest = reports[-1] if reports else None
    report = (
        None
        if latest is None
        else ReportSummary(
            latest.id,
            latest.state.value,
            latest.text,
            latest.version,
            latest.signed_by,
            latest.signed_at,
            latest.author,
        )
    )
    patient = study.patient
    return StudyContent(
        study_uid=study.study_uid,
        patient_id=patient.patient_id,
        patient_name=patient.name,
        patient_birth_date=patient.birth_date,
        patient_sex=patient.sex,
        study_date=study.study_date,
        accession_number=study.accession_number,
        description=study.description,
        series=_series(session, study.id),
        findings=tuple(load_findings(session, study_uid)),
        report=report,
    )
