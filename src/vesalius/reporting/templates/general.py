"""Any other study: its findings, one sentence each.

Examples
--------
>>> render([]).impression[0].text
'No findings reported by the analyses.'
"""

from __future__ import annotations

from collections.abc import Sequence

from vesalius.reporting.templates.base import (
    Draft,
    Sentence,
    StoredFinding,
    finding_sentence,
    is_limitation,
    limitations,
)
from vesalius.reporting.templates.base import section as one_section

NAME, TITLE = "general", "IMAGING REPORT"


def render(found: Sequence[StoredFinding]) -> Draft:
    """A plain list of the findings, then the technique limitations."""
    body = [finding_sentence(s) for s in found if not is_limitation(s)]
    impression = [Sentence("No findings reported by the analyses.")] if not body else []
    sections = one_section("Findings", body) + limitations(found)
    return Draft(NAME, TITLE, sections, tuple(impression), ())
