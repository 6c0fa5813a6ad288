"""Map a result computed on the standardized grid back onto the original scanner grid.

The standardized Volume's provenance holds, for each geometric step, the grid the volume
had before it. :func:`to_original_grid` walks those steps from the last to the first and
moves the result onto each ``grid_before`` in turn: exactly (by copying voxels) when the
step only permuted, flipped, cropped or padded, by SimpleITK interpolation otherwise
(``"nearest"`` for label maps, ``"linear"`` for probability or intensity maps).

Examples
--------
>>> import numpy as np
>>> from vesalius.core import Volume
>>> from vesalius.standardize.reorient import Reorient
>>> vol = Volume.from_spacing(np.arange(24).reshape(2, 3, 4))
>>> ras = Reorient("RAS")(vol)
>>> back = to_original_grid(ras.array, ras, interpolation="nearest")
>>> bool(np.array_equal(back.array, vol.array)), back.grid.same_as(vol.grid)
(True, True)
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import numpy.typing as npt

from vesalius.core import Grid, ProvenanceStep, Volume
from vesalius.standardize.gridmap import Interpolation, map_to_grid

logger = logging.getLogger(__name__)


def geometric_steps(volume: Volume) -> tuple[ProvenanceStep, ...]:
    """The steps of ``volume``'s provenance that changed its grid, oldest first."""
    return tuple(step for step in volume.provenance if step.grid_before is not None)


def original_grid(volume: Volume) -> Grid:
    """The grid ``volume`` had before its first geometric step (its own grid if none).

    Examples
    --------
    >>> vol = Volume.from_spacing(np.zeros((2, 2, 2)))
    >>> original_grid(vol).same_as(vol.grid)
    True
    """
    steps = geometric_steps(volume)
    if not steps or steps[0].grid_before is None:
        return volume.grid
    return steps[0].grid_before


def to_original_grid(
    result: npt.NDArray[Any] | Volume,
    standardized: Volume,
    *,
    interpolation: Interpolation = "nearest",
    fill: float = 0.0,
) -> Volume:
    """Map ``result`` (on ``standardized``'s grid) back onto the original scanner grid.

    Parameters
    ----------
    result
        An array of ``standardized.shape`` (a label map, a probability map...) or a Volume
        on the same grid.
    standardized
        The Volume the result was computed on; its provenance says how to go back.
    interpolation
        ``"nearest"`` for label maps (keeps the labels and the dtype), ``"linear"`` for
        continuous maps (float32).
    fill
        Value for original voxels that the standardized grid did not cover (cropped away).

    Returns
    -------
    Volume
        On the original grid, with ``standardized``'s frame of reference, modality and
        source, and a provenance made of one ``ToOriginalGrid`` step.
    """
    array = result.array if isinstance(result, Volume) else np.asarray(result)
    if array.shape != standardized.shape:
        raise ValueError(
            f"the result has shape {array.shape} but the standardized volume {standardized.shape}"
        )
    grid = standardized.grid
    steps = geometric_steps(standardized)
    for step in reversed(steps):
        before = step.grid_before
        if before is None:  # pragma: no cover - geometric_steps keeps only steps with one
            continue
        logger.debug("undoing %s: %s -> %s", step.name, grid.shape, before.shape)
        array = map_to_grid(array, grid, before, interpolation=interpolation, fill=fill)
        grid = before
    step = ProvenanceStep(
        "ToOriginalGrid",
        {"undone": tuple(s.name for s in reversed(steps)), "interpolation": interpolation},
        grid_before=standardized.grid,
    )
    return Volume(
        array,
        grid.affine,
        frame_of_reference_uid=standardized.frame_of_reference_uid,
        modality=standardized.modality,
        provenance=(step,),
        source=standardized.source,
    )
