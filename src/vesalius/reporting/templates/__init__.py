"""Report templates, one per study type, and :func:`choose_template`.

========================  =========================================================
Template                  Chosen when
========================  =========================================================
``lung-screening``        a finding has a Lung-RADS category, or the study says
                          screening / LDCT / low dose
``pet-ct``                a series is PET (PT) or NM
``brain-mr-volumetry``    a series is MR
``calcium-scoring``       CT with a coronary calcium score and no lung findings, or
                          a study description about calcium scoring
``chest-ct``              any other CT
``general``               anything else
========================  =========================================================

Examples
--------
>>> choose_template([], [SeriesBrief("1.2.3", "CT")]).name
'chest-ct'
>>> choose_template([], [SeriesBrief("1.2.3", "CT")], study_description="LDCT screening").name
'lung-screening'
>>> choose_template([], [SeriesBrief("1.2.3", "PT"), SeriesBrief("1.2.4", "CT")]).name
'pet-ct'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from vesalius.findings import codes
from vesalius.reporting.templates import (
    brain_mr,
    calcium,
    chest_ct,
    general,
    lung_screening,
    pet_ct,
)
from vesalius.reporting.templates.base import (
    Draft,
    Render,
    Section,
    Sentence,
    SeriesBrief,
    StoredFinding,
    with_limitations,
)
from vesalius.reporting.triage import lung_rads_category

__all__ = [
    "TEMPLATES",
    "Draft",
    "Section",
    "Sentence",
    "SeriesBrief",
    "StoredFinding",
    "Template",
    "choose_template",
]


@dataclass(frozen=True)
class Template:
    """A report template: its name, its title and how it renders findings."""

    name: str
    title: str
    render: Render


TEMPLATES = {
    module.NAME: Template(module.NAME, module.TITLE, with_limitations(module.render))
    for module in (lung_screening, chest_ct, calcium, pet_ct, brain_mr, general)
}
"""Every template by name."""

_SCREENING = re.compile(r"screen|\bldct\b|low[- ]dose", re.IGNORECASE)
_CALCIUM = re.compile(r"calcium|\bcac\b|ca score", re.IGNORECASE)


def choose_template(
    findings: Sequence[StoredFinding],
    series: Sequence[SeriesBrief],
    *,
    study_description: str = "",
) -> Template:
    """The template for a study with these findings and series (see the table above)."""
    modalities = {s.modality for s in series if s.modality}
    described = " ".join([study_description, *(s.description or "" for s in series)])
    kinds = {s.finding.finding_type for s in findings}
    if any(lung_rads_category(s.finding) for s in findings) or _SCREENING.search(described):
        name = lung_screening.NAME
    elif modalities & {"PT", "NM"}:
        name = pet_ct.NAME
    elif "MR" in modalities:
        name = brain_mr.NAME
    elif "CT" in modalities and (
        (codes.CORONARY_CALCIFICATION in kinds and codes.LUNG not in kinds)
        or _CALCIUM.search(described)
    ):
        name = calcium.NAME
    elif "CT" in modalities:
        name = chest_ct.NAME
    else:
        name = general.NAME
    return TEMPLATES[name]
