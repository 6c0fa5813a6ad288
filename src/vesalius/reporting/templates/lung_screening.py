"""Lung cancer screening low-dose CT: nodules, Lung-RADS v2022 category and management.

The exam's category is the most suspicious category of its findings (0, incomplete, only
when no nodule is graded); the management is the ACR's statement for it (from
:mod:`vesalius.analyze.chest_ct.lungrads`).

Examples
--------
>>> study_category(["2", "4A", "3"]), study_category([]), study_category(["0"])
('4A', '1', '0')
"""

from __future__ import annotations

from collections.abc import Sequence

from vesalius.analyze.chest_ct.lungrads import MANAGEMENT, ORDER
from vesalius.findings import codes
from vesalius.findings.model import Finding
from vesalius.reporting.templates import calcium
from vesalius.reporting.templates.base import (
    Draft,
    Sentence,
    StoredFinding,
    finding_sentence,
    section,
)
from vesalius.reporting.triage import lung_rads_category, lung_rads_of

NAME, TITLE = "lung-screening", "LOW-DOSE CT LUNG CANCER SCREENING"

DESCRIPTORS = {
    "0": "incomplete",
    "1": "negative",
    "2": "benign appearance or behavior",
    "3": "probably benign",
    "4A": "suspicious",
    "4B": "very suspicious",
    "4X": "very suspicious, with additional features",
}
"""Lung-RADS v2022 descriptor of each category."""
INCOMPLETE_MANAGEMENT = f"{MANAGEMENT['0-comparison']}, or {MANAGEMENT['0-not-evaluable'].lower()}"


def study_category(categories: Sequence[str]) -> str:
    """The exam's category: the most suspicious graded one, else 0 if any, else 1."""
    graded = [c for c in categories if c in ORDER]
    if graded:
        return max(graded, key=ORDER.index)
    return "0" if "0" in categories else "1"


def management(category: str) -> str:
    """The v2022 management statement of ``category``."""
    return INCOMPLETE_MANAGEMENT if category == "0" else MANAGEMENT[category]


NODULE_CODES = ("27925004", "4147007")
"""SNOMED CT codes of a nodule and of a mass (a finding of either goes under nodules)."""


def is_nodule(finding: Finding) -> bool:
    """Whether a finding is a lung nodule or mass (by its code, else by its name)."""
    kind = finding.finding_type
    if kind.value in NODULE_CODES:
        return True
    return "nodule" in kind.meaning.lower() or kind.meaning.lower() == "mass"


def _rank(category: str | None) -> int:
    return ORDER.index(category) if category in ORDER else -1


def _label(stored: StoredFinding) -> str:
    """The category as the finding states it, modifiers included (``"4AS"``)."""
    for category in stored.finding.categories:
        if lung_rads_of(category) is not None:
            return category.value.strip().upper()
    return ""


def render(found: Sequence[StoredFinding]) -> Draft:
    """The screening report.

    Nodules (one sentence each, most suspicious first) come from findings that are nodules
    or masses with measurements; the category may sit on each nodule or on one study-level
    summary finding (as the nodule analysis gives it): the impression and the
    recommendation link to the finding that sets the exam's category.
    """
    graded = [(s, c) for s in found if (c := lung_rads_category(s.finding)) is not None]
    graded.sort(key=lambda sc: -_rank(sc[1]))
    listed = [s for s in found if s.finding.measurements and is_nodule(s.finding)]
    listed += [s for s, _ in graded if s.finding.measurements and s not in listed]
    listed.sort(key=lambda s: -_rank(lung_rads_category(s.finding)))
    nodules = []
    for stored in listed:
        category = lung_rads_category(stored.finding)
        text = finding_sentence(stored).text
        if category is not None:
            text = text.rstrip(".") + f" (Lung-RADS {category})."
        nodules.append(Sentence.of(text, stored))
    lungs = [finding_sentence(s) for s in found if s.finding.finding_type == codes.LUNG]
    cac_body, cac_impression, _ = calcium.calcium_parts(found)
    used: set[int | None] = {s.finding_id for s in lungs + cac_body}
    used.update(s.id for s in listed)
    used.update(s.id for s, _ in graded)
    others = [finding_sentence(s) for s in found if s.id not in used]
    category = study_category([c for _, c in graded])
    driver = graded[0][0] if graded else None
    label = _label(driver) if driver else category
    words = f"Lung-RADS {label or category}: {DESCRIPTORS[category]}."
    if not graded:
        words = "No lung nodule graded by the analysis: Lung-RADS 1, negative."
    first = Sentence.of(words, driver) if driver else Sentence(words)
    advice = management(category) + "."
    recommendation = Sentence.of(advice, driver) if driver else Sentence(advice)
    sections = (
        section("Lung nodules", nodules or [Sentence("No lung nodules reported.")])
        + section("Lungs", lungs)
        + section("Other findings", cac_body + others)
    )
    return Draft(NAME, TITLE, sections, (first, *cac_impression), (recommendation,))
