"""Each candidate's own region, background, size and type (before the classifier).

A candidate comes out of the opening slightly shaved; its *body* is the candidate grown
back by up to :data:`~vesalius.analyze.chest_ct.nodule_candidates.CORE_MM` inside the dense
mask. Its *background* is the median HU of the aerated lung in a shell around the body.
The size (:mod:`~vesalius.analyze.chest_ct.nodule_measure`) and type
(:mod:`~vesalius.analyze.chest_ct.nodule_type`) are measured for every candidate, since
the partial-volume corrected size and HU also help tell nodules from vessels: a vessel
running across thick slices looks like a small disk whose corrected HU is above soft
tissue (it fills the whole slice, which no ellipsoid of that width would).

Examples
--------
>>> from vesalius.simulate.chest_ct import ChestCTSpec, chest_ct
>>> from vesalius.analyze.chest_ct import segment_lungs
>>> from vesalius.analyze.chest_ct.nodule_grid import working_grid
>>> ct = chest_ct(ChestCTSpec(shape=(48, 176, 176), noise_hu=0.0), seed=2)
>>> scene = make_scene(working_grid(ct.volume, segment_lungs(ct.volume).label_map))
>>> regions = measure_candidates(scene)
>>> len(regions) > 4, regions[0].size.long_axis_mm > 0
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from vesalius.analyze.chest_ct.coarse import BoolArray
from vesalius.analyze.chest_ct.nodule_candidates import (
    CORE_MM,
    candidate_labels,
    dense_mask,
    lung_region,
)
from vesalius.analyze.chest_ct.nodule_grid import WorkingGrid
from vesalius.analyze.chest_ct.nodule_measure import (
    Size,
    measure_ellipsoid,
    measure_outline,
    well_sampled,
)
from vesalius.analyze.chest_ct.nodule_type import (
    core_axes,
    ground_glass_level,
    nodule_kind,
    solid_core,
)

SHELL_MM = 6.0
"""The background is the median HU of the aerated lung within this distance of the body."""
NOISE_SIGMAS = 3.0
"""Rim voxels more than this many noise deviations below the background are not nodule."""
DEFAULT_BACKGROUND_HU = -850.0
"""Background used when no aerated lung surrounds a candidate."""

Box = tuple[slice, slice, slice]


@dataclass(frozen=True, eq=False)
class Scene:
    """The working grid with its dense and lung masks and candidate labels."""

    grid: WorkingGrid
    dense: BoolArray
    lung: BoolArray
    labels: npt.NDArray[np.int32]
    n: int


@dataclass(frozen=True, eq=False)
class Region:
    """One candidate: where it is, its body, size, type and solid component."""

    value: int
    box: Box
    body: BoolArray
    background_hu: float
    size: Size
    kind: str
    solid_component_mm: float | None
    solid_component_short_mm: float | None


def make_scene(grid: WorkingGrid) -> Scene:
    """Dense mask, lung mask and candidates of ``grid``."""
    dense = dense_mask(grid)
    labels, n = candidate_labels(grid, dense)
    return Scene(grid, dense, lung_region(grid), labels, n)


def _grow(seed: BoolArray, dense: BoolArray, grid: WorkingGrid) -> BoolArray:
    """``seed`` grown by up to :data:`CORE_MM` inside ``dense``."""
    dist = ndimage.distance_transform_edt(~seed, sampling=grid.spacing)
    grown = ((dist <= CORE_MM + 1e-6) & dense) | seed
    labels, _ = ndimage.label(grown)
    keep = np.unique(labels[seed])
    return np.asarray(np.isin(labels, keep[keep > 0]))


def _background(body: BoolArray, scene: Scene, box: Box) -> tuple[float, float]:
    """Median HU of the aerated lung around ``body`` and the lowest HU its noise explains.

    The floor is the median minus :data:`NOISE_SIGMAS` robust standard deviations (1.4826
    median absolute deviations); darker voxels are emphysema or air, not noise.
    """
    dist = ndimage.distance_transform_edt(~body, sampling=scene.grid.spacing)
    shell = (dist > 1.5 * max(scene.grid.spacing[1:])) & (dist <= SHELL_MM)
    shell &= scene.lung[box] & ~scene.dense[box]
    if not shell.any():
        return DEFAULT_BACKGROUND_HU, DEFAULT_BACKGROUND_HU - 100.0
    values = scene.grid.hu[box][shell]
    median = float(np.median(values))
    sigma = 1.4826 * float(np.median(np.abs(values - median)))
    return median, median - NOISE_SIGMAS * max(sigma, 1.0)


def _box(obj: tuple[slice, ...], shape: tuple[int, ...], margin: list[int]) -> Box:
    b = [
        slice(max(0, s.start - m), min(n, s.stop + m))
        for s, n, m in zip(obj, shape, margin, strict=True)
    ]
    return (b[0], b[1], b[2])


def measure_region(scene: Scene, value: int, box: Box) -> Region:
    """Body, background, size and type of candidate ``value`` within ``box``."""
    grid = scene.grid
    hu = grid.hu[box]
    body = _grow(scene.labels[box] == value, scene.dense[box], grid)
    background, floor = _background(body, scene, box)
    others = scene.dense[box] & ~body
    if well_sampled(body):
        size = measure_outline(hu, body, background, grid.spacing)
    else:
        size = measure_ellipsoid(hu, body, others, background, grid.spacing, floor_hu=floor)
    core = solid_core(hu, body)
    kind = nodule_kind(size.mean_hu, bool(core.any()))
    solid: tuple[float, float] | None = None
    if kind == "solid":
        solid = (size.chosen.long_axis_mm, size.chosen.short_axis_mm)
    elif kind == "part-solid":
        level = ground_glass_level(hu, body, core)
        if size.method.startswith("ellipsoid"):
            size = measure_ellipsoid(
                hu, body, others, background, grid.spacing, ceiling_hu=level, floor_hu=floor
            )
        long_axis, short_axis = core_axes(hu, body, core, level, grid.spacing)
        outer = size.chosen
        solid = (min(long_axis, outer.long_axis_mm), min(short_axis, outer.short_axis_mm))
    return Region(
        value,
        box,
        body,
        background,
        size,
        kind,
        None if solid is None else solid[0],
        None if solid is None else solid[1],
    )


def is_centred(region: Region) -> bool:
    """Whether ``region``'s measured centre lies in its body (within one voxel).

    A lesion is a blob (assumption 4 of :mod:`~vesalius.analyze.chest_ct.nodule_candidates`),
    so its centre is inside it; the centre of a branching vessel tree or a curved band falls
    in the aerated lung between its arms.
    """
    centre = np.round(np.asarray(region.size.centroid)).astype(int)
    lo = np.maximum(centre - 1, 0)
    near = region.body[lo[0] : centre[0] + 2, lo[1] : centre[1] + 2, lo[2] : centre[2] + 2]
    return bool(near.any())


def measure_candidates(scene: Scene) -> list[Region]:
    """:func:`measure_region` of every candidate, in label order."""
    margin = [int(np.ceil((SHELL_MM + CORE_MM + 2.0) / s)) for s in scene.grid.spacing]
    out = []
    for value, obj in enumerate(ndimage.find_objects(scene.labels), start=1):
        if obj is not None:
            out.append(measure_region(scene, value, _box(obj, scene.labels.shape, margin)))
    return out
