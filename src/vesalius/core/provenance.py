"""Provenance: the record of every step that produced a :class:`~vesalius.core.Volume`.

Each step names what was done and with which parameters. Geometric steps also keep the
grid the volume had before them (``grid_before``), so that a result computed on the new
grid can be mapped back to the original scanner grid, and may keep the object that did the
step (``operator``) so it can be inverted.

Examples
--------
>>> step = ProvenanceStep("ReadDicomSeries", {"n_files": 60})
>>> step.name, step.params["n_files"]
('ReadDicomSeries', 60)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vesalius.core.volume import Grid


@dataclass(frozen=True)
class ProvenanceStep:
    """One recorded step.

    Parameters
    ----------
    name
        What was done, for example ``"Resample"`` or ``"ReadDicomSeries"``.
    params
        The parameters, as plain values (numbers, strings, tuples).
    grid_before
        For steps that change the voxel grid: the grid before the step.
    operator
        Optionally, the object that performed the step (for example a ``Transform``),
        kept so the step can be inverted. Not serialized.
    """

    name: str
    params: Mapping[str, object] = field(default_factory=dict)
    grid_before: Grid | None = None
    operator: object | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a provenance step needs a name")
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    def to_json(self) -> dict[str, object]:
        """A JSON-ready summary (the operator is left out)."""
        out: dict[str, object] = {"name": self.name, "params": dict(self.params)}
        if self.grid_before is not None:
            out["grid_before"] = self.grid_before.to_json()
        return out
