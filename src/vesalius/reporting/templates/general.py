"""Any other study: its findings, one sentence each.

Examples
--------
>>> render([]).impression[0].text
'No findings reported by the analyses.'
"""

from __future__ import annotations

from collections.abc import Sequence

from vesalius.reporting.templates.base import Draft, Sentence, StoredFinding, finding_sentence
from vesalius.reporting.templates.base import section as one_section

NAME, TITLE = "general", "IMAGING REPORT"


def render(found: Sequence[StoredFinding]) -> Draft:
    """A plain list of the findings."""
    body = [finding_sentence(s) for s in found]
    impression = [Sentence("No findings reported by the analyses.")] if not body else []
    return Draft(NAME, TITLE, one_section("Findings", body), tuple(impression), ())
