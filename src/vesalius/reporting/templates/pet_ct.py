"""PET/CT: the PET findings (uptake, metabolic tumour volume), then the CT findings.

Examples
--------
>>> render([]).impression[0].text
'No PET finding reported by the analyses.'
"""

from __future__ import annotations

from collections.abc import Sequence

from vesalius.reporting.templates.base import Draft, Sentence, StoredFinding, finding_sentence
from vesalius.reporting.templates.base import section as one_section

NAME, TITLE = "pet-ct", "PET/CT"

_PET_WORDS = ("suv", "metabolic", "glycolysis", "uptake", "fdg")


def is_pet(stored: StoredFinding) -> bool:
    """Whether a finding is about tracer uptake (its type or a measurement says so)."""
    f = stored.finding
    names = [f.finding_type.meaning, *(m.concept.meaning for m in f.measurements)]
    return any(word in name.lower() for name in names for word in _PET_WORDS)


def render(found: Sequence[StoredFinding]) -> Draft:
    """The PET/CT report."""
    pet = [finding_sentence(s) for s in found if is_pet(s)]
    ct = [finding_sentence(s) for s in found if not is_pet(s)]
    sections = one_section("PET", pet) + one_section("CT", ct)
    impression = pet[:3] or [Sentence("No PET finding reported by the analyses.")]
    return Draft(NAME, TITLE, sections, tuple(impression), ())
