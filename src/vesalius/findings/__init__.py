"""Findings: the typed hand-off from analyses to reports, worklists and exports.

- :mod:`~vesalius.findings.model`: :class:`Finding` and its parts, with a JSON round trip;
- :mod:`~vesalius.findings.codes`: the coded concepts used (real SNOMED CT and DCM codes);
- :mod:`~vesalius.findings.from_cardiac` and :mod:`~vesalius.findings.from_chest`: analysis
  results to findings;
- :mod:`~vesalius.findings.persist`: findings in and out of the store's findings table.
"""

from vesalius.findings.model import AxisEnds, Category, CodedConcept, Finding, Location, Measurement

__all__ = ["AxisEnds", "Category", "CodedConcept", "Finding", "Location", "Measurement"]
