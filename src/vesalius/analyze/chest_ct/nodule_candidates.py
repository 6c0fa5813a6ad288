"""Nodule candidates: dense blobs inside the lungs, thicker than the small vessels.

Assumptions, each in HU or millimetres:

1. Aerated lung is darker than :data:`DENSE_HU` (-700 HU, between normal parenchyma, about
   -850 HU, and faint ground glass, about -600 HU) after an in-plane Gaussian smoothing of
   :data:`SMOOTH_MM`; nodules of every type (ground glass included) and vessels are denser.
2. Nodules lie in the lung segmentation, which fills vessels, nodules and tumours against
   the costal pleura (see :mod:`~vesalius.analyze.chest_ct.fill`).
3. Nodules worth reporting (6 mm and more) are thicker than most vessels: an opening by a
   ball of radius :data:`CORE_MM` (2.5 mm) removes vessels thinner than about 5 mm and
   detaches nodules from the thin vessels that touch them. What stays (nodules, the large
   central vessels, dense bands) are the candidates; the false-positive reduction step
   (:mod:`~vesalius.analyze.chest_ct.nodule_classifier`) tells them apart.
4. A lesion is a blob: balls of three quarters of its own radius fit everywhere in it.
   So each candidate is opened again by a ball of :data:`RELATIVE_CORE` of its thickness
   (the radius of the largest ball it holds), which cuts off the vessels and strands of
   dense lung thinner than that, so that a nodule touching a vessel is measured alone
   (unless the vessel is about as thick as the nodule). A candidate this opening would
   remove entirely is kept as it was. A thick part the opening cut off (a nodule against a
   vessel thicker than itself, which the ball of the vessel's size does not fit in) is
   opened again at its own thickness and becomes a candidate of its own.
5. Touching blobs meet at a neck. A piece that is not one blob (its volume exceeds
   :data:`BLOB_BALLS` balls of its own thickness: a chain or a tree) is cut at the necks
   of its distance map (a watershed from the maxima that stand :data:`NECK_MM` above the
   saddles around them), so that a nodule touching a vessel as thick as itself, which no
   opening detaches, becomes a candidate of its own; the vessel falls into segments that
   the false-positive reduction step rejects.
6. On thick slices a small nodule is blurred: its dense part may be too thin for the
   opening of assumption 3. A dense blob that the opening removes entirely and that
   touches nothing the opening kept is a candidate when it holds at least
   :data:`ISOLATED_MM3` (half a 6 mm ball).

Examples
--------
>>> import numpy as np
>>> from vesalius.core import Volume
>>> from vesalius.analyze.chest_ct.nodule_grid import working_grid
>>> hu = np.full((9, 40, 40), -850, np.int16)
>>> zz, yy, xx = np.mgrid[:9, :40, :40]
>>> hu[(zz - 4) ** 2 * 4 + (yy - 20) ** 2 + (xx - 20) ** 2 <= 16] = 30  # an 8 mm blob
>>> hu[4, 5, 2:38] = 30  # a 1 mm vessel: opened away, then kept alone (assumption 6)
>>> ct = Volume.from_spacing(hu, spacing=(2.0, 1.0, 1.0), modality="CT")
>>> lungs = Volume.from_spacing(np.full(hu.shape, 2, np.uint8), spacing=(2.0, 1.0, 1.0))
>>> labels, n = candidate_labels(working_grid(ct, lungs))
>>> n, sorted(np.unique(np.argwhere(labels == 1)[:, 0]).tolist()), int((labels == 2).sum())
(2, [3, 4, 5], 18)
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import ndimage
from skimage.morphology import h_maxima
from skimage.segmentation import watershed

from vesalius.analyze.chest_ct.coarse import BoolArray, FloatArray, Spacing
from vesalius.analyze.chest_ct.nodule_grid import WorkingGrid
from vesalius.analyze.chest_ct.results import LEFT, RIGHT

DENSE_HU = -700.0
"""Denser than this (after smoothing) is not aerated lung."""
SMOOTH_MM = 1.0
"""In-plane Gaussian sigma of the smoothing used for detection."""
CORE_MM = 2.5
"""Radius of the opening ball: vessels thinner than about twice this drop out."""
RELATIVE_CORE = 0.75
"""Each candidate is opened again by a ball of this fraction of its own thickness."""
SPLIT_LEVELS = 2
"""How deep :func:`_split` goes: a candidate, then the thick parts its opening cut off."""
RELATIVE_REST = 0.5
"""A part cut off is split again when at least this fraction as thick as its candidate..."""
MIN_REST_MM = 3.0
"""... and when it holds a ball of this radius (a 6 mm nodule)."""
BLOB_BALLS = 2.0
"""A piece larger than this many balls of its own thickness is not one blob."""
NECK_MM = 1.0
"""A piece is cut where its distance map dips at least this much between two maxima."""
ISOLATED_MM3 = float(np.pi / 6.0 * 6.0**3 / 2.0)
"""A dense blob too thin for the opening but apart from the rest is kept from this volume."""


def smoothed(grid: WorkingGrid) -> FloatArray:
    """The working HU smoothed in-plane by :data:`SMOOTH_MM` (float32)."""
    _, sy, sx = grid.spacing
    out = ndimage.gaussian_filter(grid.hu, sigma=(0.0, SMOOTH_MM / sy, SMOOTH_MM / sx))
    return np.asarray(out, np.float32)


def lung_region(grid: WorkingGrid) -> BoolArray:
    """Where nodules are searched: the left and right lungs (airways excluded)."""
    return np.asarray((grid.lungs == LEFT) | (grid.lungs == RIGHT))


def _open(mask: BoolArray, radius_mm: float, spacing: Spacing) -> BoolArray:
    """Opening by a ball of ``radius_mm``: the union of the balls that fit in ``mask``."""
    if not mask.any():
        return mask.copy()
    pad = [int(np.ceil(radius_mm / s)) + 1 for s in spacing]
    padded = np.pad(mask, [(p, p) for p in pad])
    core = ndimage.distance_transform_edt(padded, sampling=spacing) > radius_mm
    if not core.any():
        return np.zeros_like(mask)
    grown = ndimage.distance_transform_edt(~core, sampling=spacing) <= radius_mm
    out = grown & padded
    return np.asarray(out[pad[0] : -pad[0], pad[1] : -pad[1], pad[2] : -pad[2]])


def _reopen(
    labels: npt.NDArray[np.int32], dense: BoolArray, spacing: Spacing
) -> npt.NDArray[np.int32]:
    """Open each candidate again at :data:`RELATIVE_CORE` of its own thickness.

    Each part that stays, cut at its necks (:func:`_cut_necks`), becomes a candidate of its
    own; what the opening removes (the vessels and strands joined to a lesion) is dropped
    unless it is thick itself (see :func:`_split`). A candidate the opening would remove
    entirely (a blob on coarse voxels) is kept as it was.
    """
    out = np.zeros_like(labels)
    count = 0
    for value, box in enumerate(ndimage.find_objects(labels), start=1):
        if box is None:
            continue
        region = out[box]
        for piece in _split(labels[box] == value, dense[box], spacing, SPLIT_LEVELS):
            parts, m = ndimage.label(piece)
            for k in range(1, m + 1):
                for cut in _cut_necks(parts == k, spacing):
                    count += 1
                    region[cut] = count
    return out


def _cut_necks(piece: BoolArray, spacing: Spacing) -> list[BoolArray]:
    """``piece`` cut at the necks of its distance map when it is not one blob.

    One blob (at most :data:`BLOB_BALLS` balls of its thickness) is kept whole. Otherwise
    each maximum of the distance map standing :data:`NECK_MM` above its surroundings seeds
    a watershed of the inverted map: the pieces meet where the piece is narrowest.

    >>> yy, xx = np.mgrid[:9, :24]
    >>> disks = ((yy - 4) ** 2 + (xx - 5) ** 2 <= 16) | ((yy - 4) ** 2 + (xx - 17) ** 2 <= 16)
    >>> pair = (disks | ((abs(yy - 4) <= 1) & (xx > 5) & (xx < 17)))[None]  # a 3 mm strand
    >>> pieces = _cut_necks(pair, (9.0, 1.0, 1.0))
    >>> len(pieces), [(bool(p[0, 4, 5]), bool(p[0, 4, 17])) for p in pieces]
    (2, [(True, False), (False, True)])
    >>> len(_cut_necks(pair & (xx < 11)[None], (9.0, 1.0, 1.0)))  # one disk, a short strand
    1
    """
    depth = ndimage.distance_transform_edt(piece, sampling=spacing)
    ball = 4.0 / 3.0 * np.pi * float(depth.max()) ** 3
    if float(piece.sum()) * float(np.prod(spacing)) <= BLOB_BALLS * ball:
        return [piece]
    tops = h_maxima(depth, NECK_MM)  # type: ignore[no-untyped-call]
    peaks, m = ndimage.label(tops, structure=np.ones((3, 3, 3), bool))
    if m < 2:
        return [piece]
    basins = watershed(-depth, peaks, mask=piece)  # type: ignore[no-untyped-call]
    return [basins == k for k in range(1, m + 1)]


def _thickness(mask: BoolArray, spacing: Spacing) -> float:
    """Radius (mm) of the largest ball in ``mask`` (0 when empty)."""
    if not mask.any():
        return 0.0
    return float(ndimage.distance_transform_edt(mask, sampling=spacing).max())


def _split(own: BoolArray, dense: BoolArray, spacing: Spacing, levels: int) -> list[BoolArray]:
    """``own`` opened at :data:`RELATIVE_CORE` of its thickness, and thick parts cut off.

    A part the opening cut off that is itself thick (:data:`RELATIVE_REST` of ``own``'s
    thickness and :data:`MIN_REST_MM`: a nodule beside a thicker vessel) is split the same
    way, ``levels`` deep in all; thinner parts (vessels, strands) are dropped.
    """
    thick = _thickness(own, spacing)
    radius = max(CORE_MM, RELATIVE_CORE * thick)
    if radius <= CORE_MM:
        return [own]
    opened = _open(own & dense, radius, spacing)
    if not opened.any():
        return [own]
    pieces = [opened]
    if levels > 1:
        rest, m = ndimage.label(_open(own & ~opened, CORE_MM, spacing) & ~opened)
        for k in range(1, m + 1):
            piece = rest == k
            if _thickness(piece, spacing) >= max(RELATIVE_REST * thick, MIN_REST_MM):
                pieces += _split(piece, dense, spacing, levels - 1)
    return pieces


def dense_mask(grid: WorkingGrid) -> BoolArray:
    """Lung voxels denser than :data:`DENSE_HU` after smoothing."""
    return np.asarray((smoothed(grid) > DENSE_HU) & lung_region(grid))


def candidate_labels(
    grid: WorkingGrid, dense: BoolArray | None = None
) -> tuple[npt.NDArray[np.int32], int]:
    """Label map of the candidates on the working grid (0 background) and their number.

    ``dense`` is :func:`dense_mask` of ``grid`` (computed when not given).
    """
    dense = dense_mask(grid) if dense is None else dense
    opened = _open(dense, CORE_MM, grid.spacing)
    labels = _reopen(np.asarray(ndimage.label(opened)[0], np.int32), dense, grid.spacing)
    isolated = _isolated(dense, opened, grid.spacing)
    return _relabel(np.where(isolated > 0, isolated + labels.max(), labels))


def _isolated(dense: BoolArray, opened: BoolArray, spacing: Spacing) -> npt.NDArray[np.int32]:
    """Labels of the dense blobs of :data:`ISOLATED_MM3` or more that ``opened`` misses.

    >>> dense = np.zeros((3, 9, 9), bool)
    >>> dense[1, 2:4, 2:4] = True  # a blurred 4-voxel blob: too thin to open
    >>> dense[1, 6, 6] = True  # a single voxel: too small
    >>> _isolated(dense, np.zeros_like(dense), (6.25, 2.0, 2.0)).max()
    np.int32(1)
    """
    blobs, count = ndimage.label(dense, structure=np.ones((3, 3, 3), bool))
    volume = np.bincount(blobs.ravel(), minlength=count + 1) * float(np.prod(spacing))
    kept = volume >= ISOLATED_MM3
    kept[0] = False
    kept[np.unique(blobs[opened])] = False
    lut = np.zeros(count + 1, np.int32)
    lut[kept] = np.arange(1, int(kept.sum()) + 1, dtype=np.int32)
    return np.asarray(lut[blobs], np.int32)


def _relabel(labels: npt.NDArray[np.int32]) -> tuple[npt.NDArray[np.int32], int]:
    present = np.unique(labels)
    present = present[present > 0]
    lut = np.zeros(int(labels.max()) + 1, np.int32)
    lut[present] = np.arange(1, present.size + 1, dtype=np.int32)
    return lut[labels], int(present.size)
