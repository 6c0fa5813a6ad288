"""Lung nodule detection, measurement and typing on a chest CT.

:func:`detect_nodules` runs, inside the lung segmentation's bounding box on a working grid
of blocks about 2 mm wide (:mod:`~vesalius.analyze.chest_ct.nodule_grid`):

1. candidate generation: dense blobs thicker than the small vessels, cut where they
   touch (:mod:`~vesalius.analyze.chest_ct.nodule_candidates`);
2. false-positive reduction: candidates smaller than a 4 mm ball
   (:data:`MIN_VOLUME_MM3`) or whose centre is not inside them (a vessel tree, not a blob:
   :func:`~vesalius.analyze.chest_ct.nodule_regions.is_centred`) are dropped, the others
   are scored by boosted shallow trees trained on phantoms
   (:mod:`~vesalius.analyze.chest_ct.nodule_classifier`, model card there); lesions at
   least 20 mm thick are kept by rule;
3. measurement: long and short axis (Lung-RADS plane), mean diameter, volume, partial-volume
   corrected mean HU (:mod:`~vesalius.analyze.chest_ct.nodule_measure`);
4. type and solid component (:mod:`~vesalius.analyze.chest_ct.nodule_type`);
5. location: lung (the side of the lung label it lies in) and zone (upper, middle, lower
   third of that lung's extent along z); lobes are not segmented.

Lesions with a long axis over :data:`MASS_MM` (30 mm) are masses (``is_mass``).

Examples
--------
>>> from vesalius.simulate.chest_ct import ChestCTSpec, chest_ct
>>> from vesalius.analyze.chest_ct import segment_lungs
>>> ct = chest_ct(ChestCTSpec(shape=(60, 192, 192), noise_hu=0.0), seed=3)
>>> result = detect_nodules(ct.volume, segment_lungs(ct.volume))
>>> [(t.kind, t.long_axis_mm) for t in ct.truth.nodules]
[('solid', 6.0), ('part-solid', 14.0), ('ground-glass', 10.0), ('solid', 11.0)]
>>> [(n.kind, round(n.long_axis_mm)) for n in result.nodules]
[('part-solid', 15), ('solid', 11), ('ground-glass', 10), ('solid', 6)]
>>> result.label_map.array.dtype, int(result.label_map.array.max()) == len(result.nodules)
(dtype('uint16'), True)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from vesalius.analyze.chest_ct.coarse import BoolArray
from vesalius.analyze.chest_ct.nodule_classifier import (
    MASS_THICKNESS_MM,
    NoduleModel,
    load_model,
)
from vesalius.analyze.chest_ct.nodule_features import (
    FEATURES,
    candidate_features,
    size_features,
)
from vesalius.analyze.chest_ct.nodule_grid import working_grid
from vesalius.analyze.chest_ct.nodule_measure import Axes, map_points
from vesalius.analyze.chest_ct.nodule_regions import (
    Box,
    Region,
    Scene,
    is_centred,
    make_scene,
    measure_candidates,
)
from vesalius.analyze.chest_ct.results import LEFT, RIGHT, LungSegmentation
from vesalius.core import ProvenanceStep, Volume

MIN_VOLUME_MM3 = float(np.pi / 6.0 * 4.0**3)
"""Candidates smaller than a 4 mm ball are dropped before the classifier."""
MASS_MM = 30.0
"""A lesion whose long axis exceeds this is a mass, not a nodule."""
ZONES = ("upper", "middle", "lower")


@dataclass(frozen=True)
class Nodule:
    """One detected nodule or mass; fields map onto Lung-RADS inputs.

    Attributes
    ----------
    id
        1-based, in order of decreasing long axis; the value of its label.
    kind
        ``"solid"``, ``"part-solid"`` or ``"ground-glass"``.
    long_axis_mm, short_axis_mm
        Long axis on the Lung-RADS plane (axial, coronal or sagittal) and the longest
        diameter perpendicular to it on that plane.
    mean_diameter_mm
        ``(long + short) / 2`` rounded to one decimal (Lung-RADS v2022).
    solid_component_long_axis_mm, solid_component_mean_diameter_mm
        Long axis and mean diameter of the solid part (the whole nodule when solid;
        ``None`` for ground glass).
    volume_mm3, mean_hu
        Volume and partial-volume corrected mean attenuation.
    centre_kji, centre_lps_mm
        Centre as a fractional CT index ``(k, j, i)`` and as an LPS point.
    side, zone
        ``"left"``/``"right"`` lung and ``"upper"``/``"middle"``/``"lower"`` third.
    is_mass
        Long axis over :data:`MASS_MM`.
    probability
        The classifier's probability (1.0 for lesions kept by the thickness rule).
    method
        How it was measured.
    axes, axes_axial
        Lung-RADS plane measurement (``axes.plane``: axial, coronal or sagittal; long and
        short axis as above) and the axial one, end points in LPS mm; the axial end points
        lie on the acquired slice nearest the centre, for viewers that draw on source images.
    """

    id: int
    kind: str
    long_axis_mm: float
    short_axis_mm: float
    mean_diameter_mm: float
    solid_component_long_axis_mm: float | None
    solid_component_mean_diameter_mm: float | None
    volume_mm3: float
    mean_hu: float
    centre_kji: tuple[float, float, float]
    centre_lps_mm: tuple[float, float, float]
    side: str
    zone: str
    is_mass: bool
    probability: float
    method: str
    axes: Axes | None = None
    axes_axial: Axes | None = None


@dataclass(frozen=True, eq=False)
class NoduleResult:
    """The nodules of a CT and their label map.

    Attributes
    ----------
    nodules
        Largest first.
    label_map
        uint16 Volume on the CT's grid: 0 background, ``n`` nodule ``n``.
    candidates
        How many candidates the classifier scored.
    seconds
        Wall-clock time of the detection.
    slice_spacing_mm
        The CT's spacing between slices (``None``: not known); on slices thicker than
        Lung-RADS assumes, small nodules may be missed
        (:func:`~vesalius.analyze.chest_ct.lungrads.thick_slice_caveat`): on the test
        phantoms, every nodule of 6 mm or more is found on 3 mm slices, and 48 of 51 (94 %)
        on 5 and 6.25 mm slices.
    """

    nodules: tuple[Nodule, ...]
    label_map: Volume
    candidates: int
    seconds: float
    slice_spacing_mm: float | None = None


def _zone(centre_k: float, side: int, scene: Scene) -> str:
    grid = scene.grid
    present = np.flatnonzero((grid.lungs == side).any(axis=(1, 2)))
    if present.size == 0:
        return "middle"
    k = np.arange(grid.hu.shape[0], dtype=np.float64)
    z_mm = grid.to_lps(np.column_stack([k, np.zeros_like(k), np.zeros_like(k)]))[:, 2]
    z = z_mm[present]
    lo, hi = float(z.min()), float(z.max())
    zc = float(np.interp(centre_k, k, z_mm))
    third = (hi - zc) / max(hi - lo, 1e-6)
    return ZONES[min(2, max(0, int(third * 3.0)))]


def _side(body: BoolArray, box: Box, scene: Scene, x_mm: float) -> int:
    lungs = scene.grid.lungs[box][ndimage.binary_dilation(body, iterations=2)]
    left, right = int((lungs == LEFT).sum()), int((lungs == RIGHT).sum())
    if left == right:
        return LEFT if x_mm > 0 else RIGHT
    return LEFT if left > right else RIGHT


def _mean(long_axis: float | None, short_axis: float | None) -> float | None:
    if long_axis is None or short_axis is None:
        return None
    return round((long_axis + short_axis) / 2.0, 1)


def _lps(axes: Axes, start: npt.NDArray[np.float64], scene: Scene, snap: bool) -> Axes:
    def to_lps(kji: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        ct_kji = scene.grid.to_ct_index(kji + start)
        ct_kji[:, 0] = np.round(ct_kji[:, 0]) if snap else ct_kji[:, 0]
        return np.asarray(scene.grid.ct.index_to_lps(ct_kji), np.float64)

    return map_points(axes, to_lps)


def _nodule(region: Region, scene: Scene, probability: float) -> Nodule:
    size = region.size
    start = np.asarray([float(b.start) for b in region.box])
    local = np.asarray(size.centroid) + [b.start for b in region.box]
    centre = scene.grid.to_ct_index(local[None, :])[0]
    lps = scene.grid.ct.index_to_lps(centre[None, :])[0]
    side = _side(region.body, region.box, scene, float(lps[0]))
    return Nodule(
        id=0,
        kind=region.kind,
        long_axis_mm=size.chosen.long_axis_mm,
        short_axis_mm=size.chosen.short_axis_mm,
        mean_diameter_mm=round((size.chosen.long_axis_mm + size.chosen.short_axis_mm) / 2.0, 1),
        solid_component_long_axis_mm=region.solid_component_mm,
        solid_component_mean_diameter_mm=_mean(
            region.solid_component_mm, region.solid_component_short_mm
        ),
        volume_mm3=size.volume_mm3,
        mean_hu=size.mean_hu,
        centre_kji=(float(centre[0]), float(centre[1]), float(centre[2])),
        centre_lps_mm=(float(lps[0]), float(lps[1]), float(lps[2])),
        side="left" if side == LEFT else "right",
        zone=_zone(float(local[0]), side, scene),
        is_mass=size.chosen.long_axis_mm > MASS_MM,
        probability=probability,
        method=size.method,
        axes=_lps(size.chosen, start, scene, size.chosen.plane == "axial"),
        axes_axial=_lps(size.axial, start, scene, True),
    )


def features(scene: Scene, regions: list[Region]) -> npt.NDArray[np.float64]:
    """The classifier's features (:data:`FEATURES`) of each candidate, in label order."""
    grid = scene.grid
    shape = candidate_features(scene.labels, scene.n, grid.hu, grid.spacing, scene.dense)
    return np.column_stack([shape, size_features([r.size for r in regions])])


def screened(x: npt.NDArray[np.float64], regions: list[Region]) -> npt.NDArray[np.bool_]:
    """The candidates the classifier scores: 4 mm or larger, and blobs or masses.

    Dropped: those smaller than :data:`MIN_VOLUME_MM3`, and those whose centre is not in
    them (:func:`~vesalius.analyze.chest_ct.nodule_regions.is_centred`: vessel trees)
    unless thick enough to be a mass (a cavitating mass has its centre in its cavity).
    """
    if not len(x):
        return np.zeros(0, bool)
    volume = np.exp(x[:, FEATURES.index("log_volume")])
    centred = np.array([is_centred(r) for r in regions], bool)
    return np.asarray((volume >= MIN_VOLUME_MM3) & (centred | _masses(x)))


def _masses(x: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    """Candidates thick enough (:data:`MASS_THICKNESS_MM`) to be kept by rule."""
    if not len(x):
        return np.zeros(0, bool)
    return np.asarray(x[:, FEATURES.index("thickness")] >= MASS_THICKNESS_MM)


def _kept(
    x: npt.NDArray[np.float64], regions: list[Region], model: NoduleModel
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.float64]]:
    p = model.probability(x) if len(x) else np.zeros(0)
    p = np.where(_masses(x), 1.0, p)
    return screened(x, regions) & (p >= model.threshold), p


def detect_nodules(
    ct: Volume, lungs: LungSegmentation, *, model: NoduleModel | None = None
) -> NoduleResult:
    """Find, measure and type the nodules of ``ct`` inside ``lungs`` (see the module doc)."""
    start = time.perf_counter()
    model = model or load_model()
    grid = working_grid(ct, lungs.label_map)
    scene = make_scene(grid)
    regions = measure_candidates(scene)
    keep, p = _kept(features(scene, regions), regions, model)
    found = [(_nodule(r, scene, float(p[i])), r) for i, r in enumerate(regions) if keep[i]]
    found.sort(key=lambda f: -f[0].long_axis_mm)
    work = np.zeros(scene.labels.shape, np.uint16)
    nodules = []
    for number, (nodule, region) in enumerate(found, start=1):
        target = work[region.box]
        target[region.body & (target == 0)] = number
        nodules.append(replace(nodule, id=number))
    step = ProvenanceStep("DetectNodules", {"threshold": model.threshold})
    label_map = ct.with_array(grid.upsample(work), step)
    seconds = time.perf_counter() - start
    return NoduleResult(tuple(nodules), label_map, scene.n, seconds, float(ct.spacing[0]))
