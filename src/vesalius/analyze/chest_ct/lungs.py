"""Lung segmentation of a chest CT: left and right lungs, airways removed, lesions filled.

The classic, training-free pipeline. Every parameter is in HU or millimetres, so it works
at the CT's own spacing; the coarse steps run on block means of about ``working_mm``.

1. Body: the largest tissue component (above -500 HU) after a small opening that detaches
   the table (:mod:`~vesalius.analyze.chest_ct.body`).
2. Lung air: air below -400 HU with body on both its left and right in the same row, in
   components big enough and not pure air (outside air has a median near -1000 HU).
3. Airways: the trachea, a round air structure in the upper slices, grown down below a
   rising threshold with leak control (:mod:`~vesalius.analyze.chest_ct.airways`), then
   widened by ``airway_wall_mm`` to take in the airway wall.
4. Left and right: connected components on either side of the mid-line; touching lungs
   are split by erosion (:mod:`~vesalius.analyze.chest_ct.split`).
5. Filling (:mod:`~vesalius.analyze.chest_ct.fill`): a rolling-ball closing of
   ``closing_mm``, a convex hull per slice on the costal (lateral) side that takes in
   tumours against the pleura, holes filled slice by slice (vessels, nodules), then the
   pleural bays (:mod:`~vesalius.analyze.chest_ct.border`): tumours against the pleura on
   any side, the mediastinal one included, whose contact with the pleura is narrower than
   about ``2 * bay_mm`` (40 mm) and which the lung wraps around by at least ``bay_wrap``
   of their outline in the slice (the heart's and the aorta's impressions are not).
6. Refinement on the CT's own grid: inside each coarse lung (grown by one block) the
   voxels below -400 HU, plus what the coarse filling added, holes filled per slice; then
   the airways are removed.

Assumptions: an axial CT in HU (slices along the patient's long axis), lungs darker than
-400 HU and not pure air (a lung whose median is below -970 HU would be taken for outside
air), a trachea visible in the upper slices for the airways to be removed (otherwise the
result says ``trachea_found=False`` and the airways stay in the lungs). A tumour is taken
into its lung as far as aerated lung lies around it: where it rests on collapsed lung or
effusion (at the lung base) the part beyond the aerated lung stays out.

Examples
--------
>>> from vesalius.simulate.chest_ct import ChestCTSpec, chest_ct
>>> ct = chest_ct(ChestCTSpec(shape=(40, 96, 96)), seed=0)
>>> seg = segment_lungs(ct.volume)
>>> seg.trachea_found, round(seg.left_ml, -2), round(seg.right_ml, -2)
(True, 1400.0, 1900.0)
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from vesalius.analyze.blocks import block_factors, block_mean
from vesalius.analyze.chest_ct import airways, body, border, coarse
from vesalius.analyze.chest_ct.coarse import BoolArray, Factors, FloatArray, Spacing
from vesalius.analyze.chest_ct.fill import fill_lung
from vesalius.analyze.chest_ct.results import AIRWAY, LEFT, RIGHT, LungSegmentation
from vesalius.analyze.chest_ct.split import split_sides
from vesalius.core import ProvenanceStep, Volume
from vesalius.errors import InputError, UnsupportedError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LungOptions:
    """Parameters of :func:`segment_lungs` (HU and millimetres).

    ``bay_mm`` is the radius of the disk that closes the bays of tumours against the
    pleura (0 turns that step off); ``bay_wrap`` the share of a bay's outline that must be
    lung for it to be taken in.
    """

    air_hu: float = body.AIR_HU
    body_hu: float = body.BODY_HU
    working_mm: float = 2.0
    closing_mm: float = 10.0
    bay_mm: float = 20.0
    bay_wrap: float = border.MIN_WRAP
    airway_wall_mm: float = 2.0
    min_lung_ml: float = 10.0


@dataclass(frozen=True, eq=False)
class _Axes:
    lr_axis: int
    superior_last: bool
    x_mm: npt.NDArray[np.float64]


def _axes(ct: Volume) -> _Axes:
    d = ct.direction
    if abs(d[2, 0]) < 0.8:
        raise UnsupportedError(
            None, "lung segmentation needs axial slices; reorient the CT so that slices are axial"
        )
    lr_axis = 1 if abs(d[0, 1]) > abs(d[0, 2]) else 2
    n = ct.shape[lr_axis]
    index = np.zeros((n, 3))
    index[:, lr_axis] = np.arange(n)
    return _Axes(lr_axis, bool(d[2, 0] > 0), ct.index_to_lps(index)[:, 0])


def _check_ct(ct: Volume) -> None:
    if ct.modality not in ("CT", "OT"):
        raise UnsupportedError(None, f"lung segmentation needs a CT, found modality {ct.modality}")
    if not np.issubdtype(ct.array.dtype, np.number):
        raise InputError(None, f"CT voxels must be numbers, found {ct.array.dtype}")


@dataclass(frozen=True, eq=False)
class _Coarse:
    hu: FloatArray
    spacing: Spacing
    factors: Factors
    x_mm: npt.NDArray[np.float64]


def _coarse(ct: Volume, opts: LungOptions, axes: _Axes) -> _Coarse:
    factors = block_factors(ct.spacing, target_mm=opts.working_mm)
    hu = block_mean(ct.array, factors)
    sz, sy, sx = (s * f for s, f in zip(ct.spacing, factors, strict=True))
    f = factors[axes.lr_axis]
    x = axes.x_mm
    pad = np.concatenate([x, np.full(hu.shape[axes.lr_axis] * f - x.size, x[-1])])
    return _Coarse(hu, (sz, sy, sx), factors, pad.reshape(-1, f).mean(axis=1))


def _airways(c: _Coarse, enclosed: BoolArray, axes: _Axes) -> BoolArray | None:
    seed = airways.find_trachea(
        c.hu, enclosed, c.spacing, superior_last=axes.superior_last, lr_axis=axes.lr_axis
    )
    if seed is None:
        log.warning("no trachea found in the upper slices: airways are not removed")
        return None
    return airways.grow_airways(c.hu, seed, c.spacing)


def _fine_side(
    ct: Volume, side: BoolArray, filled: BoolArray, c: _Coarse, opts: LungOptions
) -> tuple[tuple[slice, slice, slice], BoolArray]:
    """The lung on the CT's grid, within its bounding box."""
    region_c = coarse.grow(filled, max(c.spacing), c.spacing)
    box_c = coarse.bbox(region_c)
    box = tuple(
        slice(b.start * f, min(n, b.stop * f))
        for b, f, n in zip(box_c, c.factors, ct.shape, strict=True)
    )
    offset, shape = [b.start for b in box], [b.stop - b.start for b in box]
    region = coarse.upsample(region_c, c.factors, shape, offset=offset)
    added = coarse.upsample(filled & ~side, c.factors, shape, offset=offset)
    fine = (np.asarray(ct.array[box]) < opts.air_hu) & region.astype(bool) | added.astype(bool)
    return (box[0], box[1], box[2]), coarse.fill_holes_2d(fine)


def _label_map(
    ct: Volume, sides: list[BoolArray], c: _Coarse, opts: LungOptions, lr_axis: int
) -> npt.NDArray[np.uint8]:
    labels = np.zeros(ct.shape, np.uint8)
    for value, side, sign in zip((RIGHT, LEFT), sides, (-1.0, 1.0), strict=True):
        if not side.any():
            continue
        filled = fill_lung(
            side,
            c.hu,
            c.x_mm,
            spacing=c.spacing,
            lr_axis=lr_axis,
            lateral_sign=sign,
            closing_mm=opts.closing_mm,
            bay_mm=opts.bay_mm,
            bay_wrap=opts.bay_wrap,
        )
        box, fine = _fine_side(ct, side, filled, c, opts)
        labels[box][fine] = value
    return labels


def segment_lungs(ct: Volume, *, options: LungOptions | None = None) -> LungSegmentation:
    """Segment the left and right lungs of an axial chest CT in HU (see the module doc).

    Raises
    ------
    UnsupportedError
        When the CT is not axial or not a CT.
    InputError
        When no lung-like air is found inside the body.
    """
    opts = options or LungOptions()
    _check_ct(ct)
    axes = _axes(ct)
    clock = _Clock()
    c = _coarse(ct, opts, axes)
    clock.lap("coarse grid")
    body_c = body.body_mask(c.hu, c.spacing, lr_axis=axes.lr_axis, body_hu=opts.body_hu)
    enclosed = body.enclosed_air(c.hu, body_c, lr_axis=axes.lr_axis, air_hu=opts.air_hu)
    clock.lap("body and air")
    airway_c = _airways(c, enclosed, axes)
    clock.lap("airways")
    left, right = _sides(c, enclosed, body_c, airway_c, opts, axes)
    clock.lap("lung air and sides")
    labels = _label_map(ct, [right, left], c, opts, axes.lr_axis)
    _mark_airways(labels, ct, airway_c, c, opts)
    clock.lap("fill and refine")
    step = ProvenanceStep("SegmentLungs", {"closing_mm": opts.closing_mm, "air_hu": opts.air_hu})
    return LungSegmentation.from_label_map(
        ct.with_array(labels, step),
        trachea_found=airway_c is not None,
        stage_seconds=tuple(clock.laps),
    )


class _Clock:
    def __init__(self) -> None:
        self.laps: list[tuple[str, float]] = []
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps.append((name, now - self._last))
        self._last = now


def _sides(
    c: _Coarse,
    enclosed: BoolArray,
    body_c: BoolArray,
    airway_c: BoolArray | None,
    opts: LungOptions,
    axes: _Axes,
) -> tuple[BoolArray, BoolArray]:
    voxel_ml = float(np.prod(c.spacing)) / 1000.0
    air = enclosed if airway_c is None else enclosed & ~airway_c
    lungs_c = body.lung_candidates(c.hu, air, voxel_ml=voxel_ml, min_ml=opts.min_lung_ml)
    if not lungs_c.any():
        raise InputError(None, "no lung-like air (below -400 HU) found inside the body")
    x = np.broadcast_to(_along(c.x_mm, axes.lr_axis), body_c.shape)
    centre = float(x[body_c].mean())
    return split_sides(
        lungs_c, c.x_mm, body_centre_x=centre, spacing=c.spacing, lr_axis=axes.lr_axis
    )


def _along(x: npt.NDArray[np.float64], axis: int) -> npt.NDArray[np.float64]:
    shape = [1, 1, 1]
    shape[axis] = x.size
    return x.reshape(shape)


def _mark_airways(
    labels: npt.NDArray[np.uint8],
    ct: Volume,
    airway_c: BoolArray | None,
    c: _Coarse,
    opts: LungOptions,
) -> None:
    """Label the airway lumen widened by the wall thickness, over the lungs."""
    if airway_c is None or not airway_c.any():
        return
    # the lumen found on 3x3x3 means is about one block short of the wall
    block = float(np.mean(c.spacing[1:]))
    wide = coarse.grow(airway_c, opts.airway_wall_mm + block, c.spacing)
    box_c = coarse.bbox(wide)
    box = tuple(
        slice(b.start * f, min(n, b.stop * f))
        for b, f, n in zip(box_c, c.factors, ct.shape, strict=True)
    )
    shape = [b.stop - b.start for b in box]
    fine = coarse.upsample(wide, c.factors, shape, offset=[b.start for b in box]).astype(bool)
    labels[box][fine] = AIRWAY
