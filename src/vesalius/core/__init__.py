"""Types shared by every stage: :class:`Volume`, :class:`Grid`, provenance, references.

``core`` imports nothing else of Vesalius.
"""

from vesalius.core.provenance import ProvenanceStep
from vesalius.core.refs import SeriesRef
from vesalius.core.volume import Grid, Volume

__all__ = ["Grid", "ProvenanceStep", "SeriesRef", "Volume"]
