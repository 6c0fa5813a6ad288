"""Triage: a priority score per study, with its reasons in words.

The score is a sum of points, each with the sentence that explains it:

==========================================  ======  =========================================
What                                        Points  Why
==========================================  ======  =========================================
Lung-RADS 4X nodule                            100  very suspicious, with additional features
Lung-RADS 4B nodule                             80  very suspicious
Lung-RADS 4A nodule                             50  suspicious
Lung-RADS 3 nodule                              20  probably benign, short-interval follow-up
Lung-RADS 0 (incomplete)                        10  needs comparison or more imaging
Mass (a lesion over 30 mm)                      80  masses are suspected cancer
PET metabolic tumour volume >= 100 mL           60  large disease burden
Agatston >= 1000                                40  very high coronary calcium
Agatston 300-999 (CAC-DRS A3)                   20  severe coronary calcium
Emphysema: %LAA-950 >= 25 in a lung             10  extensive emphysema
Order priority STAT / ASAP                   60/30  what the referrer asked for
Patient class emergency / inpatient          30/15  the patient is waiting in the hospital
Waiting time                                1 / h   aging: no study is starved
==========================================  ======  =========================================

A study with findings none of which earns points says so ("no finding raises priority").
Within one kind of finding only the highest rule counts (two 4B nodules are not twice as
urgent as one); different kinds add up. The *level* comes from the clinical points (the
findings, the order and the patient class): ``critical`` from 80, ``urgent`` from 30,
``routine`` below. The waiting-time term grows without a ceiling, one point per hour, so an
unread routine study overtakes a fresh urgent study after a day or so and a fresh
critical one after about four days: a steady stream of urgent work can delay it but never
starve it. Because that term is linear, the reading order at any time ``now`` is the order
of :func:`rank_key` (the score minus one point per hour since a fixed epoch), a number
that does not change while a study waits, so the store can index it.

Order priority comes from the DICOM request attributes: Requested Procedure Priority
(0040,1003), at the top level or in the Request Attributes Sequence (0040,0275), else the
retired Study Priority ID (0032,000C). DICOM images carry no HL7 "patient class"; we read it
from the Visit module where present: Current Patient Location (0038,0300) (an emergency
department, a ward or an intensive care unit, a clinic) and Visit Status ID (0038,0008)
``ADMITTED``.

Examples
--------
>>> from datetime import datetime, timedelta, UTC
>>> from vesalius.core import SeriesRef
>>> from vesalius.findings.model import Category, CodedConcept, Finding
>>> nodule = Finding(CodedConcept.text("Lung nodule"), "vesalius.chest-ct.nodules", "0.1.0",
...                  SeriesRef("1.2", "1.2.3"), categories=(Category("Lung-RADS", "4B"),))
>>> now = datetime(2026, 1, 2, 12, tzinfo=UTC)
>>> t = triage([nodule], order_priority="STAT", arrived_at=now - timedelta(hours=3), now=now)
>>> t.score, t.level
(143.0, 'critical')
>>> t.reasons
('Lung-RADS 4B nodule (very suspicious)', 'order priority STAT', 'waiting 3 h')
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from pydicom.dataset import Dataset

from vesalius.findings import codes
from vesalius.findings.model import Category, Finding

AGING_POINTS_PER_HOUR = 1.0
"""Points a study gains per hour it waits."""
LEVELS = (("critical", 80.0), ("urgent", 30.0), ("routine", -math.inf))
"""Level of a study by its clinical points (first threshold reached)."""
NOTHING_RAISED = "no finding raises priority"
"""The reason given when a study has findings and none of them earns points, so that a
routine study reads as analysed and unremarkable, not as not looked at."""

LUNG_RADS_POINTS = {
    "4X": (100.0, "very suspicious, with additional features"),
    "4B": (80.0, "very suspicious"),
    "4A": (50.0, "suspicious"),
    "3": (20.0, "probably benign"),
    "0": (10.0, "incomplete, needs comparison or more imaging"),
}
MASS_MM, MASS_POINTS = 30.0, 80.0
PET_MTV_ML, PET_POINTS = 100.0, 60.0
AGATSTON_VERY_HIGH, AGATSTON_VERY_HIGH_POINTS = 1000.0, 40.0
AGATSTON_SEVERE, AGATSTON_SEVERE_POINTS = 300.0, 20.0
EMPHYSEMA_LAA_PERCENT, EMPHYSEMA_POINTS = 25.0, 10.0
ORDER_POINTS = {"STAT": 60.0, "ASAP": 30.0, "ROUTINE": 0.0}
PATIENT_CLASS_POINTS = {"emergency": 30.0, "inpatient": 15.0, "outpatient": 0.0}

_ORDER_WORDS = {
    "STAT": "STAT",
    "HIGH": "ASAP",
    "ASAP": "ASAP",
    "URGENT": "ASAP",
    "ROUTINE": "ROUTINE",
    "MEDIUM": "ROUTINE",
    "MED": "ROUTINE",
    "LOW": "ROUTINE",
}
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class TriageScore:
    """A study's priority: the score (higher is read first), its level and the reasons."""

    score: float
    level: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Points:
    """Points of one rule and the sentence that explains them."""

    points: float
    reason: str


def lung_rads_category(finding: Finding) -> str | None:
    """The Lung-RADS category of ``finding`` (``"4B"``...), upper case, or ``None``.

    Examples
    --------
    >>> from vesalius.core import SeriesRef
    >>> from vesalius.findings.model import Category, CodedConcept, Finding
    >>> f = Finding(CodedConcept.text("Nodule"), "a", "1", SeriesRef("1", "1.1"),
    ...             categories=(Category("Lung-RADS v2022", "4bS"),))
    >>> lung_rads_category(f)
    '4B'
    """
    for category in finding.categories:
        found = lung_rads_of(category)
        if found is not None:
            return found
    return None


def lung_rads_of(category: Category) -> str | None:
    """``category``'s Lung-RADS category without modifiers, if it is a Lung-RADS one."""
    if not re.sub(r"[^a-z]", "", category.system.lower()).startswith("lungrads"):
        return None
    match = re.match(r"\s*([0-4])\s*([ABX]?)", category.value.upper())
    return match.group(1) + match.group(2) if match else None


def _mm_sizes(finding: Finding) -> Iterable[float]:
    for m in finding.measurements:
        meaning = m.concept.meaning.lower()
        if m.unit == "mm" and ("diameter" in meaning or "axis" in meaning):
            yield m.value


def _lung_rads(findings: Sequence[Finding]) -> Points | None:
    best: Points | None = None
    for finding in findings:
        category = lung_rads_category(finding)
        if category in LUNG_RADS_POINTS:
            points, words = LUNG_RADS_POINTS[category]
            if best is None or points > best.points:
                best = Points(points, f"Lung-RADS {category} nodule ({words})")
    return best


def _mass(findings: Sequence[Finding]) -> Points | None:
    sizes = [size for f in findings for size in _mm_sizes(f)]
    if sizes and max(sizes) > MASS_MM:
        return Points(MASS_POINTS, f"mass of {max(sizes):.0f} mm (over {MASS_MM:.0f} mm)")
    return None


def _pet_burden(findings: Sequence[Finding]) -> Points | None:
    volumes = [
        m.value
        for f in findings
        for m in f.measurements
        if m.unit == "mL" and "metabolic tumo" in m.concept.meaning.lower()
    ]
    if volumes and max(volumes) >= PET_MTV_ML:
        return Points(PET_POINTS, f"large PET tumour burden (MTV {max(volumes):.0f} mL)")
    return None


def agatston_score(findings: Sequence[Finding]) -> float | None:
    """The study's Agatston score (from the coronary calcification finding), if any."""
    scores = [
        m.value
        for f in findings
        if f.finding_type == codes.CORONARY_CALCIFICATION
        for m in f.measurements
        if m.concept == codes.CALCIUM_SCORE
    ]
    return max(scores) if scores else None


def _calcium(findings: Sequence[Finding]) -> Points | None:
    score = agatston_score(findings)
    if score is None or score < AGATSTON_SEVERE:
        return None
    if score >= AGATSTON_VERY_HIGH:
        words = f"very high coronary calcium (Agatston {score:.0f})"
        return Points(AGATSTON_VERY_HIGH_POINTS, words)
    return Points(AGATSTON_SEVERE_POINTS, f"severe coronary calcium (Agatston {score:.0f})")


def _emphysema(findings: Sequence[Finding]) -> Points | None:
    laa = [m.value for f in findings for m in f.measurements if m.concept == codes.LAA_PERCENT]
    if laa and max(laa) >= EMPHYSEMA_LAA_PERCENT:
        return Points(EMPHYSEMA_POINTS, f"extensive emphysema (%LAA-950 {max(laa):.0f}%)")
    return None


def finding_points(findings: Sequence[Finding]) -> list[Points]:
    """The points the findings earn, one entry per kind, highest first."""
    rules = (_lung_rads, _mass, _pet_burden, _calcium, _emphysema)
    found = [p for rule in rules if (p := rule(findings)) is not None]
    return sorted(found, key=lambda p: -p.points)


def _waiting_words(hours: float) -> str:
    if hours < 1:
        return f"waiting {int(hours * 60)} min"
    if hours < 48:
        return f"waiting {int(hours)} h"
    return f"waiting {hours / 24:.1f} days"


def level_of(points: float) -> str:
    """The level of a study with ``points`` clinical points."""
    return next(name for name, floor in LEVELS if points >= floor)


@dataclass(frozen=True)
class ClinicalScore:
    """The part of the score that does not change while a study waits."""

    points: float
    level: str
    reasons: tuple[str, ...]


def clinical_score(
    findings: Sequence[Finding],
    *,
    order_priority: str | None = None,
    patient_class: str | None = None,
) -> ClinicalScore:
    """Points from the findings, the order priority and the patient class; reasons by weight."""
    from_findings = finding_points(findings)
    parts = list(from_findings)
    if order_priority and ORDER_POINTS.get(order_priority, 0.0) > 0:
        parts.append(Points(ORDER_POINTS[order_priority], f"order priority {order_priority}"))
    if patient_class and PATIENT_CLASS_POINTS.get(patient_class, 0.0) > 0:
        parts.append(Points(PATIENT_CLASS_POINTS[patient_class], f"{patient_class} patient"))
    parts.sort(key=lambda p: -p.points)
    if findings and not from_findings:  # analysed, and nothing found that adds points
        parts.append(Points(0.0, NOTHING_RAISED))
    total = float(sum(p.points for p in parts))
    return ClinicalScore(total, level_of(total), tuple(p.reason for p in parts))


def hours_between(start: datetime, end: datetime) -> float:
    """Hours from ``start`` to ``end`` (both aware), never negative."""
    return max(0.0, (end - start).total_seconds() / 3600.0)


def with_waiting(clinical: ClinicalScore, *, arrived_at: datetime, now: datetime) -> TriageScore:
    """The full score at ``now``: the clinical points plus the waiting-time term."""
    hours = hours_between(arrived_at, now)
    reasons = clinical.reasons + ((_waiting_words(hours),) if hours >= 1 / 60 else ())
    score = round(clinical.points + AGING_POINTS_PER_HOUR * hours, 2)
    return TriageScore(score, clinical.level, reasons)


def triage(
    findings: Sequence[Finding],
    *,
    order_priority: str | None = None,
    patient_class: str | None = None,
    arrived_at: datetime,
    now: datetime,
) -> TriageScore:
    """The priority of a study at ``now``, with reasons in words.

    Parameters
    ----------
    findings
        The study's findings.
    order_priority
        ``"STAT"``, ``"ASAP"``, ``"ROUTINE"`` or ``None`` (see :func:`read_order_priority`).
    patient_class
        ``"emergency"``, ``"inpatient"``, ``"outpatient"`` or ``None``.
    arrived_at, now
        When the study arrived, and the time to score at (aware datetimes).
    """
    clinical = clinical_score(findings, order_priority=order_priority, patient_class=patient_class)
    return with_waiting(clinical, arrived_at=arrived_at, now=now)


def hours_since_epoch(when: datetime) -> float:
    """Hours from 2000-01-01 UTC to ``when`` (aware)."""
    return (when - _EPOCH).total_seconds() / 3600.0


def rank_key(points: float, arrived_at: datetime) -> float:
    """The stored sort key: the score at any ``now`` is ``rank_key + hours_since_epoch(now)``.

    Examples
    --------
    >>> from datetime import datetime, timedelta, UTC
    >>> t0 = datetime(2026, 1, 1, tzinfo=UTC)
    >>> now = t0 + timedelta(hours=10)
    >>> rank_key(20.0, t0) + AGING_POINTS_PER_HOUR * hours_since_epoch(now)
    30.0
    """
    return points - AGING_POINTS_PER_HOUR * hours_since_epoch(arrived_at)


def score_at(rank: float, now: datetime) -> float:
    """The score at ``now`` of a study whose :func:`rank_key` is ``rank``."""
    return round(rank + AGING_POINTS_PER_HOUR * hours_since_epoch(now), 2)


def rank_floor(min_score: float, now: datetime) -> float:
    """The smallest :func:`rank_key` of the studies scoring at least ``min_score`` at ``now``."""
    return min_score - AGING_POINTS_PER_HOUR * hours_since_epoch(now)


def _text(value: object) -> str:
    return str(value).strip().upper() if value is not None else ""


def read_order_priority(ds: Dataset) -> str | None:
    """``"STAT"``, ``"ASAP"`` or ``"ROUTINE"`` from a header's request attributes, or ``None``.

    Examples
    --------
    >>> from pydicom import Dataset
    >>> item = Dataset()
    >>> item.RequestedProcedurePriority = "HIGH"
    >>> ds = Dataset()
    >>> ds.RequestAttributesSequence = [item]
    >>> read_order_priority(ds), read_order_priority(Dataset())
    ('ASAP', None)
    """
    candidates = [ds.get("RequestedProcedurePriority")]
    candidates += [item.get("RequestedProcedurePriority") for item in _requests(ds)]
    candidates.append(ds.get("StudyPriorityID"))
    for value in candidates:
        word = _ORDER_WORDS.get(_text(value))
        if word:
            return word
    return None


def _requests(ds: Dataset) -> list[Dataset]:
    sequence = ds.get("RequestAttributesSequence")
    return list(sequence) if sequence else []


_EMERGENCY = re.compile(r"\b(ED|ER|A&E|EMERG\w*|CASUALTY|TRAUMA)\b")
_INPATIENT = re.compile(r"\b(ICU|ITU|CCU|NICU|PICU|WARD|INPATIENT|BED|ROOM)\b")
_OUTPATIENT = re.compile(r"\b(OUTPATIENT|CLINIC|OPD|AMBULATORY)\b")


def read_patient_class(ds: Dataset) -> str | None:
    """``"emergency"``, ``"inpatient"``, ``"outpatient"`` from the Visit attributes, or ``None``.

    Examples
    --------
    >>> from pydicom import Dataset
    >>> ds = Dataset()
    >>> ds.CurrentPatientLocation = "Emergency Dept, bay 4"
    >>> read_patient_class(ds)
    'emergency'
    """
    location = _text(ds.get("CurrentPatientLocation"))
    for pattern, name in (
        (_EMERGENCY, "emergency"),
        (_INPATIENT, "inpatient"),
        (_OUTPATIENT, "outpatient"),
    ):
        if location and pattern.search(location):
            return name
    if _text(ds.get("VisitStatusID")) == "ADMITTED":
        return "inpatient"
    return None
