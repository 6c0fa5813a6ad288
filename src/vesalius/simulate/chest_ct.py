"""A chest CT phantom with ground truth: lungs, nodules, emphysema, calcium, noise.

Examples
--------
>>> ct = chest_ct(ChestCTSpec(shape=(20, 48, 48)), seed=3)
>>> ct.volume.array.dtype, ct.volume.shape
(dtype('int16'), (20, 48, 48))
>>> [n.kind for n in ct.truth.nodules]
['solid', 'part-solid', 'ground-glass', 'solid']
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from vesalius.core import ProvenanceStep, Volume
from vesalius.errors import InputError
from vesalius.io.dicom_write import derive_uid
from vesalius.simulate import chest_layout as L  # noqa: N812
from vesalius.simulate import chest_truth as T  # noqa: N812
from vesalius.simulate.calcium import METHOD as AGATSTON_METHOD
from vesalius.simulate.calcium import AgatstonScore, agatston
from vesalius.simulate.chest_render import (
    ANATOMY_LABELS,
    LUNG_LABEL,
    Canvas,
    draw_anatomy,
    draw_vessels,
)
from vesalius.simulate.noise import noise_slabs
from vesalius.simulate.render import Axes, Box, box_fraction, composite, ellipsoid
from vesalius.simulate.study import (
    LabelMap,
    SeriesToWrite,
    WrittenPhantom,
    metadata,
    shape_variant,
    write_phantom,
)
from vesalius.simulate.truth import label_table

log = logging.getLogger(__name__)

FULL_SHAPE = (300, 512, 512)
SMALL_SHAPE = (40, 64, 64)


@dataclass(frozen=True)
class ChestCTSpec:
    """Size and acquisition of a chest CT phantom.

    Parameters
    ----------
    shape
        Voxels ``(z, y, x)``; spacing is ``fov_mm / shape``.
    fov_mm
        Field of view ``(z, y, x)`` in mm.
    slice_thickness_mm
        Written SliceThickness; ``None`` means the slice spacing.
    noise_hu, noise_blur_px
        Standard deviation of the Gaussian noise (HU) and its in-plane correlation blur.
    agatston_min_area_mm2
        Regions smaller than this do not score (1 mm² is customary).
    """

    shape: tuple[int, int, int] = FULL_SHAPE
    fov_mm: tuple[float, float, float] = (300.0, 360.0, 360.0)
    slice_thickness_mm: float | None = None
    noise_hu: float = 12.0
    noise_blur_px: float = 0.7
    agatston_min_area_mm2: float = 1.0

    def __post_init__(self) -> None:
        if len(self.shape) != 3 or min(self.shape) < 2:
            raise InputError(None, f"phantom shape must be three sizes >= 2, found {self.shape}")
        if min(self.fov_mm) <= 0 or self.noise_hu < 0 or self.noise_blur_px < 0:
            raise InputError(None, "field of view must be positive and noise not negative")
        if self.slice_thickness_mm is not None and self.slice_thickness_mm <= 0:
            raise InputError(
                None, f"slice thickness must be positive, found {self.slice_thickness_mm}"
            )

    @property
    def spacing(self) -> tuple[float, float, float]:
        """Voxel spacing ``(z, y, x)`` in mm."""
        z, y, x = (f / n for f, n in zip(self.fov_mm, self.shape, strict=True))
        return (z, y, x)

    def axes(self) -> Axes:
        """The phantom's grid, centred on the LPS origin."""
        return Axes.centred(self.shape, spacing=self.spacing)


@dataclass(frozen=True, eq=False)
class ChestCT:
    """The phantom: the CT volume (int16 HU), label maps (z, y, x) and the truth."""

    volume: Volume
    anatomy: npt.NDArray[np.uint8]
    findings: npt.NDArray[np.uint8]
    truth: T.ChestCTTruth
    seed: int


@dataclass(frozen=True, eq=False)
class _Lesion:
    blob: L.BlobSpec
    box: Box
    frac: npt.NDArray[np.float64]
    background_hu: float


def _draw_emphysema(canvas: Canvas, findings: npt.NDArray[np.uint8], layout: L.ChestLayout) -> None:
    for blob in layout.emphysema:
        box = Box.around(canvas.axes, blob.centre, blob.semi_axes)
        if box.empty:
            continue
        _, frac = box_fraction(canvas.axes, box, ellipsoid(blob.centre, blob.semi_axes), samples=2)
        lung = canvas.anatomy[box.slices] == LUNG_LABEL[blob.tag]
        composite(canvas.image, box, frac, blob.hu, lung)
        findings[box.slices][(frac >= 0.5) & lung] = T.EMPHYSEMA_LABEL


def _draw_nodules(canvas: Canvas, findings: npt.NDArray[np.uint8], layout: L.ChestLayout) -> None:
    for n, nod in enumerate(layout.nodules, start=1):
        box = Box.around(canvas.axes, nod.centre, nod.semi_axes)
        if box.empty:
            continue
        _, outer = box_fraction(canvas.axes, box, ellipsoid(nod.centre, nod.semi_axes))
        if nod.kind == "solid":
            composite(canvas.image, box, outer, L.HU["solid_nodule"])
        else:
            composite(canvas.image, box, outer, L.HU["ground_glass"])
        if nod.kind == "part-solid":
            r = nod.core_diameter_mm / 2.0
            _, core = box_fraction(canvas.axes, box, ellipsoid(nod.centre, (r, r, r)))
            composite(canvas.image, box, core, L.HU["solid_nodule"])
        findings[box.slices][outer >= 0.5] = T.NODULE_BASE + n


def _draw_calcium(canvas: Canvas, blobs: tuple[L.BlobSpec, ...]) -> list[_Lesion]:
    lesions = []
    for blob in blobs:
        k, j, i = np.rint(_to_index(canvas.axes, blob.centre)).astype(int)
        inside = all(0 <= v < n for v, n in zip((k, j, i), canvas.axes.shape, strict=True))
        background = float(canvas.image[k, j, i]) if inside else L.HU["soft_tissue"]
        box = Box.around(canvas.axes, blob.centre, blob.semi_axes)
        if box.empty:
            lesions.append(_Lesion(blob, box, np.zeros((0, 0, 0)), background))
            continue
        _, frac = box_fraction(canvas.axes, box, ellipsoid(blob.centre, blob.semi_axes))
        composite(canvas.image, box, frac, blob.hu)
        lesions.append(_Lesion(blob, box, frac, background))
    return lesions


def _to_index(axes: Axes, lps: tuple[float, float, float]) -> npt.NDArray[np.float64]:
    sz, sy, sx = axes.spacing
    return np.array(
        [(lps[2] - axes.z[0]) / sz, (lps[1] - axes.y[0]) / sy, (lps[0] - axes.x[0]) / sx]
    )


def _score_written(
    image: npt.NDArray[np.float32], lesion: _Lesion, axes: Axes, min_area: float
) -> AgatstonScore:
    if lesion.box.empty:
        return AgatstonScore(0.0, 0.0, 0.0, 0.0)
    region = np.where(lesion.frac > 0, image[lesion.box.slices], -1000.0)
    return agatston(
        region,
        pixel_area_mm2=axes.spacing[1] * axes.spacing[2],
        slice_spacing_mm=axes.spacing[0],
        min_area_mm2=min_area,
    )


def _score_3mm(lesion: _Lesion, axes: Axes, min_area: float) -> AgatstonScore:
    """Re-render the lesion alone on 3 mm slices in phase with the written grid."""
    blob, step = lesion.blob, 3.0
    n0 = np.floor((blob.centre[2] - blob.semi_axes[2] - step - axes.z[0]) / step)
    n1 = np.ceil((blob.centre[2] + blob.semi_axes[2] + step - axes.z[0]) / step)
    local = Axes(axes.z[0] + step * np.arange(n0, n1 + 1), axes.y, axes.x)
    box = Box.around(local, blob.centre, blob.semi_axes)
    if box.empty:
        return AgatstonScore(0.0, 0.0, 0.0, 0.0)
    _, frac = box_fraction(local, box, ellipsoid(blob.centre, blob.semi_axes))
    values = np.rint(lesion.background_hu + (blob.hu - lesion.background_hu) * frac)
    region = np.where(frac > 0, values, -1000.0)
    return agatston(
        region,
        pixel_area_mm2=axes.spacing[1] * axes.spacing[2],
        slice_spacing_mm=step,
        min_area_mm2=min_area,
    )


def _calcium_truth(
    image: npt.NDArray[np.float32],
    findings: npt.NDArray[np.uint8],
    lesions: list[_Lesion],
    base: int,
    spec: ChestCTSpec,
) -> tuple[T.CalciumTruth, ...]:
    axes, out = spec.axes(), []
    for n, lesion in enumerate(lesions, start=1):
        if not lesion.box.empty:
            hot = (lesion.frac > 0) & (image[lesion.box.slices] >= 130.0)
            findings[lesion.box.slices][hot] = base + n
        b = lesion.blob
        out.append(
            T.CalciumTruth(
                id=n,
                site=b.tag,
                label_value=base + n,
                centre_lps_mm=b.centre,
                semi_axes_xyz_mm=b.semi_axes,
                peak_hu=b.hu,
                background_hu=lesion.background_hu,
                geometric_volume_mm3=float(4.0 / 3.0 * np.pi * np.prod(b.semi_axes)),
                agatston_written=_score_written(image, lesion, axes, spec.agatston_min_area_mm2),
                agatston_3mm=_score_3mm(lesion, axes, spec.agatston_min_area_mm2),
            )
        )
    return tuple(out)


def _nodule_truth(
    volume: Volume, findings: npt.NDArray[np.uint8], layout: L.ChestLayout, voxel_ml: float
) -> tuple[T.NoduleTruth, ...]:
    counts = np.bincount(findings.ravel(), minlength=256)
    out = []
    for n, nod in enumerate(layout.nodules, start=1):
        ax, ay, az = nod.semi_axes
        long_axis, short_axis = 2 * max(ax, ay), 2 * min(ax, ay)
        core = {"solid": 2 * min(ax, ay), "ground-glass": 0.0}.get(nod.kind, nod.core_diameter_mm)
        k, j, i = volume.lps_to_index([nod.centre])[0]
        out.append(
            T.NoduleTruth(
                id=n,
                kind=nod.kind,
                lung=nod.side,
                label_value=T.NODULE_BASE + n,
                centre_lps_mm=nod.centre,
                centre_index_kji=(float(k), float(j), float(i)),
                semi_axes_xyz_mm=nod.semi_axes,
                diameter_mm=(long_axis + short_axis) / 2,
                long_axis_mm=long_axis,
                short_axis_mm=short_axis,
                solid_core_diameter_mm=core,
                volume_ml=float(4.0 / 3.0 * np.pi * ax * ay * az / 1000.0),
                label_volume_ml=float(counts[T.NODULE_BASE + n]) * voxel_ml,
            )
        )
    return tuple(out)


def _lung_truth(
    anatomy: npt.NDArray[np.uint8],
    findings: npt.NDArray[np.uint8],
    noise_free: npt.NDArray[Any],
    noisy: npt.NDArray[np.int16],
    voxel_ml: float,
) -> tuple[T.LungTruth, ...]:
    out = []
    for side, label in LUNG_LABEL.items():
        lung = anatomy == label
        n = int(np.count_nonzero(lung)) or 1
        out.append(
            T.LungTruth(
                side=side,
                label_value=label,
                volume_ml=float(np.count_nonzero(lung)) * voxel_ml,
                emphysema_volume_ml=float(np.count_nonzero(lung & (findings == T.EMPHYSEMA_LABEL)))
                * voxel_ml,
                laa950_percent_noise_free=100.0 * np.count_nonzero(noise_free[lung] < -950) / n,
                laa950_percent_noisy=100.0 * np.count_nonzero(noisy[lung] < -950) / n,
            )
        )
    return tuple(out)


def _add_noise(
    image: npt.NDArray[np.float32], spec: ChestCTSpec, rng: np.random.Generator
) -> npt.NDArray[np.int16]:
    out = np.empty(image.shape, np.int16)
    if spec.noise_hu <= 0:
        np.copyto(out, np.clip(image, -32768, 32767), casting="unsafe")
        return out
    for k0, slab in noise_slabs(
        image.shape, sigma=spec.noise_hu, blur_px=spec.noise_blur_px, rng=rng
    ):
        slab += image[k0 : k0 + slab.shape[0]]
        np.copyto(
            out[k0 : k0 + slab.shape[0]], np.clip(np.rint(slab), -32768, 32767), casting="unsafe"
        )
    return out


def chest_ct(spec: ChestCTSpec | None = None, *, seed: int = 0) -> ChestCT:
    """Build a chest CT phantom and its ground truth, deterministically from ``seed``.

    The truth's Agatston scores, %LAA-950 (``noise_free``) and calcium labels are
    computed on the noise-free image rounded to integer HU, i.e. the written image when
    ``noise_hu`` is 0.
    """
    spec = spec if spec is not None else ChestCTSpec()
    rng = np.random.default_rng(seed)
    layout = L.chest_layout(rng)
    axes = spec.axes()
    canvas = draw_anatomy(axes)
    findings = np.zeros(axes.shape, np.uint8)
    _draw_emphysema(canvas, findings, layout)
    draw_vessels(canvas, layout)
    _draw_nodules(canvas, findings, layout)
    coronary = _draw_calcium(canvas, layout.coronary_calcium)
    aortic = _draw_calcium(canvas, layout.aortic_calcium)
    image = canvas.image
    np.rint(image, out=image)
    noisy = _add_noise(image, spec, np.random.default_rng([seed, 1]))
    volume = Volume(
        noisy,
        axes.affine,
        frame_of_reference_uid=derive_uid("chest-ct", seed, "for", shape_variant(spec.shape)),
        modality="CT",
        provenance=(ProvenanceStep("SimulateChestCT", {"seed": seed}),),
    )
    truth = _truth(spec, seed, volume, canvas, findings, layout, (coronary, aortic))
    log.info(
        "chest CT phantom %s seed %d: Agatston %.1f", spec.shape, seed, truth.agatston_total_written
    )
    return ChestCT(volume, canvas.anatomy, findings, truth, seed)


def _truth(
    spec: ChestCTSpec,
    seed: int,
    volume: Volume,
    canvas: Canvas,
    findings: npt.NDArray[np.uint8],
    layout: L.ChestLayout,
    lesions: tuple[list[_Lesion], list[_Lesion]],
) -> T.ChestCTTruth:
    voxel_ml = canvas.axes.voxel_ml
    coronary = _calcium_truth(canvas.image, findings, lesions[0], T.CORONARY_BASE, spec)
    aortic = _calcium_truth(canvas.image, findings, lesions[1], T.AORTIC_BASE, spec)
    names = {T.EMPHYSEMA_LABEL: "emphysema"}
    names |= {T.NODULE_BASE + n: f"nodule_{n}" for n in range(1, len(layout.nodules) + 1)}
    names |= {c.label_value: f"coronary_calcium_{c.id}_{c.site}" for c in coronary}
    names |= {c.label_value: f"aortic_calcium_{c.id}" for c in aortic}
    return T.ChestCTTruth(
        kind="chest-ct",
        seed=seed,
        shape_zyx=spec.shape,
        spacing_zyx_mm=spec.spacing,
        slice_thickness_mm=spec.slice_thickness_mm or spec.spacing[0],
        affine_kji_to_lps=tuple(tuple(float(v) for v in row) for row in volume.affine),
        noise_hu=spec.noise_hu,
        noise_blur_px=spec.noise_blur_px,
        hu=dict(L.HU),
        lungs=_lung_truth(canvas.anatomy, findings, canvas.image, volume.array, voxel_ml),
        nodules=_nodule_truth(volume, findings, layout, voxel_ml),
        coronary_calcium=coronary,
        aortic_calcium=aortic,
        agatston_total_written=sum(c.agatston_written.score for c in coronary),
        agatston_total_3mm=sum(c.agatston_3mm.score for c in coronary),
        coronary_calcium_volume_mm3=sum(c.agatston_written.volume_mm3 for c in coronary),
        aortic_calcium_volume_mm3=sum(c.agatston_written.volume_mm3 for c in aortic),
        agatston_min_area_mm2=spec.agatston_min_area_mm2,
        agatston_method=AGATSTON_METHOD + "; '3mm' re-renders each lesion alone on 3 mm slices "
        "over its background HU",
        laa_method=T.LAA_METHOD,
        anatomy_labels=label_table(canvas.anatomy, ANATOMY_LABELS, voxel_ml=voxel_ml),
        findings_labels=label_table(findings, names, voxel_ml=voxel_ml),
    )


def write_chest_ct(ct: ChestCT, out: str | os.PathLike[str]) -> WrittenPhantom:
    """Write the CT series (``ct/``), both label maps and ``ground_truth.json`` into ``out``."""
    meta = metadata(
        "chest-ct",
        ct.seed,
        number=1,
        description="Phantom chest CT",
        slice_thickness_mm=ct.truth.slice_thickness_mm,
        body_part="CHEST",
        variant=shape_variant(ct.volume.shape),
    )
    affine = ct.volume.affine
    return write_phantom(
        out,
        kind="chest-ct",
        seed=ct.seed,
        series=(SeriesToWrite("ct", ct.volume, meta),),
        labels=(
            LabelMap("anatomy", ct.anatomy, affine, "anatomy: " + str(ANATOMY_LABELS)),
            LabelMap("findings", ct.findings, affine, T.FINDING_LABELS_DOC),
        ),
        truth=ct.truth,
    )
