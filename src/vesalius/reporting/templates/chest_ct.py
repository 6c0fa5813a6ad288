"""Chest CT: lung volumes and emphysema index, nodules, incidental coronary calcium.

Examples
--------
>>> emphysema_words(3.2), emphysema_words(12.0)
('no quantitative emphysema', 'emphysema')
"""

from __future__ import annotations

from collections.abc import Sequence

from vesalius.findings import codes
from vesalius.reporting.templates import calcium
from vesalius.reporting.templates.base import (
    Draft,
    Sentence,
    StoredFinding,
    finding_sentence,
    section,
)

NAME, TITLE = "chest-ct", "CT CHEST"

EMPHYSEMA_LAA_PERCENT = 6.0
"""%LAA-950 from which a lung is said to show emphysema (a commonly used cut-off)."""


def emphysema_words(laa_percent: float) -> str:
    """Words for a lung's %LAA-950."""
    return "emphysema" if laa_percent >= EMPHYSEMA_LAA_PERCENT else "no quantitative emphysema"


def _laa(stored: StoredFinding) -> float | None:
    f = stored.finding
    return next((m.value for m in f.measurements if m.concept == codes.LAA_PERCENT), None)


def _lung_impression(lungs: Sequence[StoredFinding]) -> list[Sentence]:
    out = []
    for stored in lungs:
        laa = _laa(stored)
        location = stored.finding.location
        side = location.laterality if location is not None and location.laterality else "lung"
        if laa is not None:
            text = f"{side.capitalize()} lung: {emphysema_words(laa)} (%LAA-950 {laa:.1f}%)."
            out.append(Sentence.of(text, stored))
    return out


def render(found: Sequence[StoredFinding]) -> Draft:
    """The chest CT report."""
    lungs = [s for s in found if s.finding.finding_type == codes.LUNG]
    cac_body, cac_impression, cac_recommendation = calcium.calcium_parts(found)
    used = {s.id for s in lungs} | {s.finding_id for s in cac_body}
    others = [finding_sentence(s) for s in found if s.id not in used]
    sections = (
        section("Lungs", [finding_sentence(s) for s in lungs])
        + section("Heart and coronary arteries", cac_body)
        + section("Other findings", others)
    )
    impression = _lung_impression(lungs) + cac_impression
    if not impression:
        impression = [Sentence("No quantitative abnormality reported by the analyses.")]
    return Draft(NAME, TITLE, sections, tuple(impression), tuple(cac_recommendation))
