"""Brain MR volumetry: the volume of each structure measured.

Examples
--------
>>> render([]).text().splitlines()[0]
'MR BRAIN VOLUMETRY'
"""

from __future__ import annotations

from collections.abc import Sequence

from vesalius.reporting.templates.base import Draft, Sentence, StoredFinding, finding_sentence
from vesalius.reporting.templates.base import section as one_section

NAME, TITLE = "brain-mr-volumetry", "MR BRAIN VOLUMETRY"


def render(found: Sequence[StoredFinding]) -> Draft:
    """The volumetry report."""
    body = [finding_sentence(s) for s in found]
    impression = (
        [Sentence("Brain volumes as measured above; compare with age-matched norms.")]
        if body
        else [Sentence("No brain volumetry reported by the analyses.")]
    )
    return Draft(NAME, TITLE, one_section("Volumetry", body), tuple(impression), ())
