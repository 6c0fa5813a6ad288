"""Find the heart on a non-contrast chest CT, so that only coronary calcium is scored.

How (on a coarse grid of about 2.5 mm block means, which also averages out noise):

1. Body: the largest connected region above -500 HU, each axial slice's holes filled.
2. Lungs: air (below -400 HU) inside the body, in components of at least 50 ml and 15 %
   of the largest (airways join them; small gas pockets are left out). The lung slab is
   the slices where the lungs have at least 5 % of their largest slice area.
3. Soft tissue: -30 to 600 HU inside the body (fat, air and cortical bone are out; blood
   with contrast is in, so that a contrast CT is found and then refused). The heart is
   the thickest soft-tissue structure of the mediastinum and is wrapped in epicardial fat,
   so shrinking soft tissue by ``erode_mm`` (18 mm, more than the radius of the aorta) cuts
   the aorta, the chest wall and thin bridges, and leaves a core of the heart. The heart's
   core is the largest remaining component that lies within the lung slab (which rules out
   the abdomen and the neck), does not touch the edge of the image, and whose centroid lies
   between the left and right lungs. Growing that core back by ``erode_mm`` inside soft
   tissue gives the heart (myocardium, chambers and aortic root).
4. Bone: connected regions above 200 HU spanning at least 30 mm along z (spine with the
   ribs, sternum), grown by one coarse voxel.

Assumptions: an axial, non-contrast CT in HU that covers the whole heart with lungs on
both sides; epicardial fat or lung around most of the heart (true in most adults, not
always in very thin patients); an aorta narrower than ``2 * erode_mm``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from vesalius.analyze.blocks import block_factors, block_mean
from vesalius.analyze.cardiac_ct import coarse as C  # noqa: N812
from vesalius.core import Grid, Volume
from vesalius.errors import UnsupportedError

log = logging.getLogger(__name__)

BODY_HU, AIR_HU, SOFT_HU, BONE_HU = -500.0, -400.0, (-30.0, 600.0), 200.0
MIN_LUNG_ML, LUNG_FRACTION, SLAB_FRACTION = 50.0, 0.15, 0.05
BONE_MIN_EXTENT_MM = 30.0
HEART_ML = (100.0, 2500.0)
REACH_MM, FAR_MM = 40.0, 1.0e4
METHOD = (
    "heart: body (>-500 HU) -> lungs (air <-400 HU inside the body) -> soft tissue "
    "(-30..600 HU) shrunk by erode_mm, largest core within the lung slab and between the "
    "lungs, grown back by erode_mm inside soft tissue; bone: >=200 HU regions spanning "
    ">=30 mm in z; computed on ~2.5 mm block means"
)


@dataclass(frozen=True, eq=False)
class HeartRegion:
    """The heart and the bone found on a coarse grid, with distances to the heart.

    Attributes
    ----------
    grid
        The coarse grid (block centres), in the same LPS frame as the CT.
    factors
        CT voxels per coarse voxel along ``(z, y, x)``.
    heart
        Coarse heart mask ``(z, y, x)``.
    distance_mm
        Distance in mm from each coarse voxel to the heart (0 inside it).
    bone
        Coarse bone mask (spine, ribs, sternum), grown by one coarse voxel.
    centre_lps_mm
        Centroid of the heart, LPS mm.
    volume_ml
        Volume of the heart mask in ml.
    mean_hu
        Mean HU of the heart mask (about 40 without contrast; well above 100 with it).
    lung_volume_ml
        Volume of the lungs that were found, in ml.
    erode_mm
        The shrink radius used to separate the heart from the aorta and chest wall.
    """

    grid: Grid
    factors: tuple[int, int, int]
    heart: npt.NDArray[np.bool_]
    distance_mm: npt.NDArray[np.float32]
    bone: npt.NDArray[np.bool_]
    centre_lps_mm: tuple[float, float, float]
    volume_ml: float
    mean_hu: float
    lung_volume_ml: float
    erode_mm: float
    method: str = METHOD

    def distance_at(self, indices: npt.NDArray[np.integer]) -> npt.NDArray[np.float32]:
        """Distance (mm, linear interpolation) to the heart of CT voxels ``(n, 3)`` (k, j, i)."""
        coords = C.fine_to_coarse(indices, self.factors).T
        out = ndimage.map_coordinates(self.distance_mm, coords, order=1, mode="nearest")
        return np.asarray(out, np.float32)

    def is_bone(self, indices: npt.NDArray[np.integer]) -> npt.NDArray[np.bool_]:
        """Whether CT voxels ``(n, 3)`` fall in the (grown) bone mask."""
        idx = np.clip(
            np.rint(C.fine_to_coarse(indices, self.factors)).astype(np.intp),
            0,
            np.asarray(self.bone.shape) - 1,
        )
        return np.asarray(self.bone[idx[:, 0], idx[:, 1], idx[:, 2]])

    def fine_bounds(self, margin_mm: float, shape: tuple[int, int, int]) -> tuple[slice, ...]:
        """Slices of the CT array that hold every voxel within ``margin_mm`` of the heart.

        Distances are only known up to ``REACH_MM`` (40 mm) from the heart's box.
        """
        reach = min(REACH_MM, margin_mm + float(np.linalg.norm(self.grid.spacing)))
        near = np.nonzero(self.distance_mm <= reach)
        out = []
        for axis, f in enumerate(self.factors):
            lo, hi = int(near[axis].min()) * f, (int(near[axis].max()) + 1) * f
            out.append(slice(max(0, lo), min(shape[axis], hi)))
        return tuple(out)


def _lungs(c: npt.NDArray[np.float32], body: C.BoolArray, voxel_ml: float) -> C.BoolArray:
    labels, n = C.components(body & (c < AIR_HU))
    sizes = np.bincount(labels.ravel(), minlength=n + 1)[1:] * voxel_ml
    if n == 0 or sizes.max() < MIN_LUNG_ML:
        raise UnsupportedError(
            None, "no lungs found: calcium scoring needs a chest CT in HU covering the heart"
        )
    keep = np.flatnonzero((sizes >= MIN_LUNG_ML) & (sizes >= LUNG_FRACTION * sizes.max())) + 1
    return np.asarray(np.isin(labels, keep))


def _slab(lungs: C.BoolArray) -> tuple[int, int]:
    area = lungs.sum(axis=(1, 2))
    ks = np.flatnonzero(area >= SLAB_FRACTION * area.max())
    return int(ks.min()), int(ks.max())


def _pick_core(
    core: C.BoolArray,
    grid: Grid,
    offset: npt.NDArray[np.intp],
    slab: tuple[int, int],
    lung_x: tuple[float, float],
) -> C.BoolArray:
    """The largest core component inside the slab, off the edges, between the lungs."""
    labels, _ = C.components(core)
    best, best_size = 0, 0
    for label, box in enumerate(ndimage.find_objects(labels), start=1):
        if box is None:
            continue
        member = np.argwhere(labels[box] == label) + [s.start for s in box]
        in_slab = slab[0] <= box[0].start + offset[0] and box[0].stop - 1 + offset[0] <= slab[1]
        edge = any(s.start == 0 or s.stop == n for s, n in zip(box, core.shape, strict=True))
        x = float(grid.index_to_lps(member.mean(axis=0) + offset)[0, 0])
        if in_slab and not edge and lung_x[0] < x < lung_x[1] and len(member) > best_size:
            best, best_size = label, len(member)
    if best == 0:
        raise UnsupportedError(None, "no heart found between the lungs of this chest CT")
    return np.asarray(labels == best)


def _heart(
    c: npt.NDArray[np.float32],
    body: C.BoolArray,
    grid: Grid,
    slab: tuple[int, int],
    lungs: C.BoolArray,
    erode_mm: float,
) -> C.BoolArray:
    """Steps 3 of the module docstring, inside the body's box around the lung slab."""
    sp = grid.spacing
    pad = C.pad_voxels(erode_mm, sp)
    _, ys, xs = C.bounds(body, (0, 1, 1))
    zs = slice(max(0, slab[0] - pad[0]), min(c.shape[0], slab[1] + 1 + pad[0]))
    box = (zs, ys, xs)
    soft = body[box] & (c[box] >= SOFT_HU[0]) & (c[box] <= SOFT_HU[1])
    offset = np.array([s.start for s in box], np.intp)
    core = _pick_core(C.shrink(soft, erode_mm, sp), grid, offset, slab, _lung_x(lungs, grid))
    heart = np.zeros(c.shape, bool)
    heart[box] = ndimage.binary_fill_holes(C.grow(core, erode_mm, sp) & soft)
    return heart


def _distance(heart: C.BoolArray, spacing: tuple[float, float, float]) -> C.FloatArray:
    """Distance to the heart within REACH_MM of its box; FAR_MM beyond."""
    out = np.full(heart.shape, FAR_MM, np.float32)
    box = C.bounds(heart, C.pad_voxels(REACH_MM, spacing))
    out[box] = C.distance_from(heart[box], spacing)
    return out


def _bone(c: npt.NDArray[np.float32], spacing: tuple[float, float, float]) -> C.BoolArray:
    labels, _ = C.components(c >= BONE_HU)
    keep = [
        label
        for label, box in enumerate(ndimage.find_objects(labels), start=1)
        if box is not None and (box[0].stop - box[0].start) * spacing[0] >= BONE_MIN_EXTENT_MM
    ]
    bone = np.isin(labels, keep)
    return np.asarray(ndimage.binary_dilation(bone, structure=np.ones((3, 3, 3), bool)))


def _lung_x(lungs: C.BoolArray, grid: Grid) -> tuple[float, float]:
    idx = np.argwhere(lungs)[:: max(1, int(lungs.sum()) // 20000)]
    x = grid.index_to_lps(idx)[:, 0]
    return float(np.percentile(x, 10)), float(np.percentile(x, 90))


def find_heart(volume: Volume, *, target_mm: float = 2.5, erode_mm: float = 18.0) -> HeartRegion:
    """Find the heart (and the bone to ignore) in an axial chest CT in HU.

    Parameters
    ----------
    volume
        The CT; axial slices, values in HU.
    target_mm
        Size of the coarse working voxels.
    erode_mm
        Shrink radius that separates the heart from the aorta and the chest wall.

    Raises
    ------
    UnsupportedError
        When no lungs or no heart can be found.
    """
    factors = block_factors(volume.spacing, target_mm=target_mm)
    grid = C.coarse_grid(volume.grid, factors)
    c = block_mean(volume.array, factors)
    sp, voxel_ml = grid.spacing, float(np.prod(grid.spacing)) / 1000.0
    body = C.fill_slices(C.largest_component(c > BODY_HU))
    lungs = _lungs(c, body, voxel_ml)
    heart = _heart(c, body, grid, _slab(lungs), lungs, erode_mm)
    volume_ml = float(heart.sum()) * voxel_ml
    if not HEART_ML[0] <= volume_ml <= HEART_ML[1]:
        raise UnsupportedError(
            None,
            f"the heart found has {volume_ml:.0f} ml, outside {HEART_ML[0]:.0f}-"
            f"{HEART_ML[1]:.0f} ml: is this a chest CT in HU covering the heart?",
        )
    centre = grid.index_to_lps(np.argwhere(heart).mean(axis=0))[0]
    log.info("heart %.0f ml at LPS %s, factors %s", volume_ml, np.round(centre, 1), factors)
    return HeartRegion(
        grid=grid,
        factors=factors,
        heart=heart,
        distance_mm=_distance(heart, sp),
        bone=_bone(c, sp),
        centre_lps_mm=(float(centre[0]), float(centre[1]), float(centre[2])),
        volume_ml=volume_ml,
        mean_hu=float(c[heart].mean()),
        lung_volume_ml=float(lungs.sum()) * voxel_ml,
        erode_mm=erode_mm,
    )
