"""Calcium scoring CT: the Agatston score per territory, CAC-DRS and its recommendation.

CAC-DRS (Hecht et al., SCCT 2018) grades the Agatston score: A0 (0), A1 (1-99),
A2 (100-299), A3 (300 or more), with N, the number of vessels with calcium; the
recommendation is the guideline's statement for the grade.

Examples
--------
>>> cac_drs_grade(0.0), cac_drs_grade(99.9), cac_drs_grade(120.0), cac_drs_grade(300.0)
(0, 1, 2, 3)
>>> RISK[3]
'Moderately to severely increased risk'
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from vesalius.findings import codes
from vesalius.findings.model import Finding
from vesalius.reporting.templates.base import (
    Draft,
    Sentence,
    StoredFinding,
    finding_sentence,
    section,
)

NAME, TITLE = "calcium-scoring", "CT CORONARY ARTERY CALCIUM SCORING"

RISK = {
    0: "Very low risk",
    1: "Mildly increased risk",
    2: "Moderately increased risk",
    3: "Moderately to severely increased risk",
}
"""CAC-DRS risk statement per Agatston grade."""
TREATMENT = {
    0: "Statin generally not recommended.",
    1: "Moderate intensity statin.",
    2: "Moderate to high intensity statin plus aspirin 81 mg.",
    3: "High intensity statin plus aspirin 81 mg.",
}
"""CAC-DRS treatment recommendation per Agatston grade."""
_TERRITORY = {concept: name for name, concept in codes.TERRITORY_SITES.items()}


def cac_drs_grade(agatston: float) -> int:
    """The CAC-DRS Agatston grade (0-3) of a score."""
    if agatston <= 0:
        return 0
    return 1 if agatston < 100 else 2 if agatston < 300 else 3


def is_calcium(f: Finding) -> bool:
    """The study-level coronary calcification finding."""
    return f.finding_type == codes.CORONARY_CALCIFICATION


def is_plaque(f: Finding) -> bool:
    """One scored calcified lesion."""
    return f.finding_type == codes.CALCIFIED_PLAQUE


def _value(f: Finding, concept: object) -> float | None:
    return next((m.value for m in f.measurements if m.concept == concept), None)


def _label(f: Finding, agatston: float) -> tuple[int, str]:
    category = f.category("CAC-DRS")
    if category is not None:
        match = re.match(r"A([0-3])", category.value)
        if match:
            return int(match.group(1)), category.value
    grade = cac_drs_grade(agatston)
    return grade, f"A{grade}"


def total_sentence(stored: StoredFinding) -> Sentence:
    """The total scores: Agatston, volume, mass."""
    f = stored.finding
    agatston = _value(f, codes.CALCIUM_SCORE) or 0.0
    parts = [f"Total coronary artery calcium score (Agatston) {agatston:.0f}"]
    volume, mass = _value(f, codes.CALCIUM_VOLUME), _value(f, codes.CALCIUM_MASS)
    if volume is not None:
        parts.append(f"volume score {volume:.0f} mm3")
    if mass is not None:
        parts.append(f"mass score {mass:.0f} mg")
    return Sentence.of(", ".join(parts) + ".", stored)


def plaque_sentence(stored: StoredFinding) -> Sentence:
    """One lesion: its territory and score."""
    f = stored.finding
    site = f.location.site if f.location is not None else None
    where = f"{_TERRITORY[site]} territory" if site in _TERRITORY else "Coronary artery"
    agatston = _value(f, codes.CALCIUM_SCORE) or 0.0
    return Sentence.of(f"{where}: calcified plaque, Agatston {agatston:.0f}.", stored)


def impression(stored: StoredFinding) -> tuple[Sentence, Sentence]:
    """The CAC-DRS grade with its risk statement, and the guideline's recommendation."""
    agatston = _value(stored.finding, codes.CALCIUM_SCORE) or 0.0
    grade, label = _label(stored.finding, agatston)
    first = Sentence.of(f"CAC-DRS {label}: Agatston score {agatston:.0f}. {RISK[grade]}.", stored)
    return first, Sentence.of(f"CAC-DRS {label}: {TREATMENT[grade]}", stored)


def calcium_parts(
    found: Sequence[StoredFinding],
) -> tuple[list[Sentence], list[Sentence], list[Sentence]]:
    """Findings sentences, impression and recommendation of the coronary calcium findings."""
    totals = [s for s in found if is_calcium(s.finding)]
    plaques = [s for s in found if is_plaque(s.finding)]
    body = [total_sentence(s) for s in totals] + [plaque_sentence(s) for s in plaques]
    if not totals:
        return body, [], []
    first, recommendation = impression(totals[0])
    return body, [first], [recommendation]


def render(found: Sequence[StoredFinding]) -> Draft:
    """The calcium scoring report."""
    body, impressions, recommendation = calcium_parts(found)
    others = [
        finding_sentence(s) for s in found if not (is_calcium(s.finding) or is_plaque(s.finding))
    ]
    if not impressions:
        impressions = [Sentence("No coronary artery calcium score was computed.")]
    sections = section("Coronary arteries", body) + section("Other findings", others)
    return Draft(NAME, TITLE, sections, tuple(impressions), tuple(recommendation))
