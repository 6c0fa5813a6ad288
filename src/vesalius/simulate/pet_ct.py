"""A PET/CT phantom: FDG PET in Bq/ml with known SUVmax, MTV and misregistration.

The PET shows the body moved by a known rigid transform: the anatomy at PET point ``p``
is at CT point ``M @ p`` (``pet_to_ct`` in the truth). Both series share the study and
the frame of reference, as on a PET/CT scanner where the patient moved between scans.
Each lesion's amplitude is solved so that the maximum SUVbw over its VOI in the noisy,
blurred image equals the lesion's target, and the truth is then measured on the
quantized values actually written.

Examples
--------
>>> pc = pet_ct(PetCTSpec(ct_shape=(24, 32, 32), pet_shape=(20, 24, 24)), seed=0)
>>> pc.pet.modality, pc.ct.modality
('PT', 'CT')
>>> [abs(l.suvmax - l.suvmax_target) < 0.01 for l in pc.truth.lesions]
[True, True, True]
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from vesalius.core import ProvenanceStep, Volume
from vesalius.errors import InputError
from vesalius.io.dicom_write import StoredPixels, derive_uid, quantize
from vesalius.simulate import pet_body as B  # noqa: N812
from vesalius.simulate.noise import noise_slabs
from vesalius.simulate.pet_truth import (
    Misregistration,
    PetCTTruth,
    PetLesionTruth,
    SuvCalibration,
    pet_extra,
    suv_calibration,
)
from vesalius.simulate.render import Axes, Box, box_fraction, ellipsoid
from vesalius.simulate.study import (
    LabelMap,
    SeriesToWrite,
    WrittenPhantom,
    metadata,
    shape_variant,
    write_phantom,
)
from vesalius.simulate.truth import label_table

FOV_MM = (700.0, 500.0, 500.0)


@dataclass(frozen=True)
class PetCTSpec:
    """Grids, resolution and noise of the PET/CT phantom."""

    ct_shape: tuple[int, int, int] = (300, 512, 512)
    pet_shape: tuple[int, int, int] = (175, 192, 192)
    fov_mm: tuple[float, float, float] = FOV_MM
    psf_fwhm_mm: float = 6.0
    pet_noise: float = 0.08
    ct_noise_hu: float = 10.0
    weight_kg: float = 75.0
    injected_dose_bq: float = 370e6
    uptake_s: float = 3600.0

    def __post_init__(self) -> None:
        for shape in (self.ct_shape, self.pet_shape):
            if len(shape) != 3 or min(shape) < 2:
                raise InputError(None, f"phantom shape must be three sizes >= 2, found {shape}")
        if min(self.psf_fwhm_mm, self.weight_kg, self.injected_dose_bq) <= 0:
            raise InputError(None, "PSF, weight and dose must be positive")
        if self.pet_noise < 0 or self.ct_noise_hu < 0 or self.pet_noise >= 0.25:
            raise InputError(None, "noise must be >= 0 (PET relative noise below 0.25)")

    def axes(self, shape: tuple[int, int, int]) -> Axes:
        """The centred grid of ``shape`` over the field of view."""
        return Axes.centred(
            shape, spacing=tuple(f / n for f, n in zip(self.fov_mm, shape, strict=True))
        )


@dataclass(frozen=True, eq=False)
class PetCT:
    """CT (int16 HU) and PET (float Bq/ml, as written) volumes, labels and truth."""

    ct: Volume
    pet: Volume
    pet_pixels: StoredPixels
    ct_labels: npt.NDArray[np.uint8]
    pet_labels: npt.NDArray[np.uint8]
    truth: PetCTTruth
    seed: int


def _ct_image(
    spec: PetCTSpec, lesions: tuple[B.LesionSpec, ...], rng: np.random.Generator
) -> tuple[npt.NDArray[np.int16], npt.NDArray[np.uint8], Axes]:
    axes = spec.axes(spec.ct_shape)
    labels = np.empty(axes.shape, np.uint8)
    for k0 in range(0, axes.shape[0], 16):
        z = axes.z[k0 : k0 + 16, None, None]
        labels[k0 : k0 + 16] = B.body_tissue(axes.x[None, None, :], axes.y[None, :, None], z)
    for n, lesion in enumerate(lesions, start=1):
        box = Box.around(axes, lesion.centre, lesion.radius_mm)
        if not box.empty:
            inside = ellipsoid(lesion.centre, (lesion.radius_mm,) * 3)(*axes.mesh(box))
            labels[box.slices][inside] = 10 + n
    lut = np.array([B.TISSUE_HU.get(v, B.LESION_HU) for v in range(256)], np.float32)
    image = np.empty(axes.shape, np.int16)
    slabs = noise_slabs(axes.shape, sigma=max(spec.ct_noise_hu, 1e-9), blur_px=0.7, rng=rng)
    for k0, slab in slabs:
        values = lut[labels[k0 : k0 + slab.shape[0]]] + (slab if spec.ct_noise_hu > 0 else 0)
        image[k0 : k0 + slab.shape[0]] = np.clip(np.rint(values), -32768, 32767)
    return image, labels, axes


def _misregistration(rng: np.random.Generator) -> Misregistration:
    t = rng.uniform(-6.0, 6.0, size=3)
    r = rng.uniform(-2.0, 2.0, size=3)
    translation = (float(t[0]), float(t[1]), float(t[2]))
    rotation = (float(r[0]), float(r[1]), float(r[2]))
    matrix = B.rigid_matrix(translation, rotation)
    return Misregistration(
        translation, rotation, tuple(tuple(float(v) for v in row) for row in matrix)
    )


def _pet_tissue(axes: Axes, pet_to_ct: npt.NDArray[np.float64]) -> npt.NDArray[np.uint8]:
    out = np.empty(axes.shape, np.uint8)
    for k0 in range(0, axes.shape[0], 16):
        z, y, x = np.meshgrid(axes.z[k0 : k0 + 16], axes.y, axes.x, indexing="ij")
        pts = np.stack([x, y, z], axis=-1) @ pet_to_ct[:3, :3].T + pet_to_ct[:3, 3]
        out[k0 : k0 + 16] = B.body_tissue(pts[..., 0], pts[..., 1], pts[..., 2])
    return out


@dataclass(frozen=True, eq=False)
class _Voi:
    box: Box
    mask: npt.NDArray[np.bool_]
    profile: npt.NDArray[np.float32]
    centre_pet: tuple[float, float, float]


def _voi(
    axes: Axes,
    lesion: B.LesionSpec,
    centre_pet: npt.NDArray[np.float64],
    sigma_px: tuple[float, ...],
    fwhm: float,
) -> _Voi:
    centre = (float(centre_pet[0]), float(centre_pet[1]), float(centre_pet[2]))
    reach = lesion.radius_mm + 2.0 * fwhm
    box = Box.around(axes, centre, reach)
    if box.empty:
        raise InputError(None, f"the {lesion.site} lesion lies outside the PET field of view")
    _, frac = box_fraction(axes, box, ellipsoid(centre, (lesion.radius_mm,) * 3))
    profile = ndimage.gaussian_filter(frac, sigma_px, mode="constant").astype(np.float32)
    z, y, x = axes.mesh(box)
    dist2 = (x - centre[0]) ** 2 + (y - centre[1]) ** 2 + (z - centre[2]) ** 2
    mask = (dist2 <= reach**2) | (dist2 == dist2.min())  # coarse grids: at least one voxel
    return _Voi(box, mask, profile, centre)


def _solve_amplitude(
    base: npt.NDArray[np.float32],
    gain: npt.NDArray[np.float32],
    profile: npt.NDArray[np.float32],
    mask: npt.NDArray[np.bool_],
    target: float,
) -> float:
    """Amplitude ``a`` with ``max((base + a * profile) * gain)`` over ``mask`` = ``target``."""
    c = (base * gain)[mask].astype(np.float64)
    d = (profile * gain)[mask].astype(np.float64)
    if c.max() >= target:
        raise InputError(None, f"lesion SUVmax {target} is not above its background")
    lo, hi = 0.0, (target - c.min()) / max(float(d.max()), 1e-12) * 4.0 + 1.0
    for _ in range(80):
        mid = (lo + hi) / 2.0
        lo, hi = (mid, hi) if float(np.max(c + mid * d)) < target else (lo, mid)
    return float((lo + hi) / 2.0)


def _pet_suv(
    spec: PetCTSpec,
    axes: Axes,
    tissue: npt.NDArray[np.uint8],
    vois: list[_Voi],
    lesions: tuple[B.LesionSpec, ...],
    rng: np.random.Generator,
) -> npt.NDArray[np.float32]:
    sigma_px = tuple(spec.psf_fwhm_mm / 2.3548 / s for s in axes.spacing)
    lut = np.array([B.TISSUE_SUV.get(v, 0.0) for v in range(256)], np.float32)
    base = ndimage.gaussian_filter(lut[tissue], sigma_px).astype(np.float32)
    gain = np.ones(axes.shape, np.float32)
    if spec.pet_noise > 0:
        for k0, slab in noise_slabs(axes.shape, sigma=spec.pet_noise, blur_px=1.0, rng=rng):
            gain[k0 : k0 + slab.shape[0]] += np.clip(slab, -4 * spec.pet_noise, 4 * spec.pet_noise)
    for voi, lesion in zip(vois, lesions, strict=True):
        s = voi.box.slices
        a = _solve_amplitude(base[s], gain[s], voi.profile, voi.mask, lesion.suvmax)
        base[s] += np.float32(a) * voi.profile
    return np.asarray(base * gain, np.float32)


def _measure(
    pet_values: npt.NDArray[np.float32],
    axes: Axes,
    vois: list[_Voi],
    lesions: tuple[B.LesionSpec, ...],
    cal: SuvCalibration,
    fwhm: float,
    labels: npt.NDArray[np.uint8],
) -> tuple[PetLesionTruth, ...]:
    out = []
    for n, (voi, lesion) in enumerate(zip(vois, lesions, strict=True), start=1):
        region = np.where(voi.mask, pet_values[voi.box.slices], -np.inf)
        flat = int(np.argmax(region))
        local = np.unravel_index(flat, region.shape)
        peak = float(region[local])
        suvmax = peak * cal.suv_per_bqml
        hot, _ = ndimage.label(region >= 0.4 * peak, structure=np.ones((3, 3, 3), bool))
        component = hot == hot[local]
        labels[voi.box.slices][component] = n
        index = tuple(int(i + lo) for i, lo in zip(local, voi.box.lo, strict=True))
        out.append(
            PetLesionTruth(
                id=n,
                site=lesion.site,
                label_value=n,
                radius_mm=lesion.radius_mm,
                centre_ct_lps_mm=lesion.centre,
                centre_pet_lps_mm=voi.centre_pet,
                voi_radius_mm=lesion.radius_mm + 2.0 * fwhm,
                suvmax_target=lesion.suvmax,
                suvmax=suvmax,
                max_bqml=peak,
                max_index_kji=(index[0], index[1], index[2]),
                mtv_ml=float(np.count_nonzero(component)) * axes.voxel_ml,
                mtv_threshold_suv=0.4 * suvmax,
            )
        )
    return tuple(out)


def pet_ct(spec: PetCTSpec | None = None, *, seed: int = 0) -> PetCT:
    """Build the PET/CT phantom and its truth, deterministically from ``seed``."""
    spec = spec if spec is not None else PetCTSpec()
    rng = np.random.default_rng([seed, 3])
    lesions = B.lesions(rng)
    motion = _misregistration(rng)
    matrix = np.asarray(motion.pet_to_ct, np.float64)
    ct_image, ct_labels, ct_axes = _ct_image(spec, lesions, np.random.default_rng([seed, 4]))
    axes = spec.axes(spec.pet_shape)
    sigma_px = tuple(spec.psf_fwhm_mm / 2.3548 / s for s in axes.spacing)
    inverse = np.linalg.inv(matrix)
    vois = [
        _voi(
            axes,
            les,
            inverse[:3, :3] @ np.asarray(les.centre) + inverse[:3, 3],
            sigma_px,
            spec.psf_fwhm_mm,
        )
        for les in lesions
    ]
    tissue = _pet_tissue(axes, matrix)
    suv = _pet_suv(spec, axes, tissue, vois, lesions, np.random.default_rng([seed, 5]))
    cal = suv_calibration(
        weight_kg=spec.weight_kg, dose_bq=spec.injected_dose_bq, uptake_s=spec.uptake_s
    )
    pixels = quantize(suv / np.float32(cal.suv_per_bqml))
    written = (pixels.stored * np.float32(pixels.slope)).astype(np.float32)
    pet_labels = np.zeros(axes.shape, np.uint8)
    measured = _measure(written, axes, vois, lesions, cal, spec.psf_fwhm_mm, pet_labels)
    frame = derive_uid("pet-ct", seed, "for", shape_variant(written.shape))
    ct = Volume(
        ct_image,
        ct_axes.affine,
        frame_of_reference_uid=frame,
        modality="CT",
        provenance=(ProvenanceStep("SimulatePetCT", {"seed": seed, "series": "CT"}),),
    )
    pet = Volume(
        written,
        axes.affine,
        frame_of_reference_uid=frame,
        modality="PT",
        provenance=(ProvenanceStep("SimulatePetCT", {"seed": seed, "series": "PT"}),),
    )
    names = {10 + n: f"lesion_{n}_{les.site}" for n, les in enumerate(lesions, start=1)}
    truth = PetCTTruth(
        kind="pet-ct",
        seed=seed,
        ct_shape_zyx=spec.ct_shape,
        ct_spacing_zyx_mm=ct_axes.spacing,
        pet_shape_zyx=spec.pet_shape,
        pet_spacing_zyx_mm=axes.spacing,
        psf_fwhm_mm=spec.psf_fwhm_mm,
        pet_relative_noise=spec.pet_noise,
        misregistration=motion,
        suv=cal,
        tissue_suv={B.TISSUES.get(k, "air"): v for k, v in B.TISSUE_SUV.items()},
        tissue_hu={B.TISSUES.get(k, "air"): v for k, v in B.TISSUE_HU.items()},
        lesions=measured,
        ct_labels=label_table(ct_labels, B.TISSUES | names, voxel_ml=ct_axes.voxel_ml),
        pet_labels=label_table(
            pet_labels, {n: f"mtv_lesion_{n}" for n in range(1, 4)}, voxel_ml=axes.voxel_ml
        ),
    )
    return PetCT(ct, pet, pixels, ct_labels, pet_labels, truth, seed)


def write_pet_ct(pc: PetCT, out: str | os.PathLike[str]) -> WrittenPhantom:
    """Write ``ct/`` and ``pet/`` series, label maps and ``ground_truth.json`` into ``out``."""
    cal = pc.truth.suv
    t = cal.series_datetime[8:]
    ct_meta = metadata(
        "pet-ct",
        pc.seed,
        number=1,
        description="Phantom CT for AC",
        weight_kg=cal.weight_kg,
        time="092000",
        body_part="WHOLEBODY",
        variant=shape_variant(pc.pet.shape),
    )
    pet_meta = metadata(
        "pet-ct",
        pc.seed,
        number=2,
        description="Phantom FDG PET AC",
        weight_kg=cal.weight_kg,
        time=t,
        body_part="WHOLEBODY",
        variant=shape_variant(pc.pet.shape),
    )
    pet_meta = replace(pet_meta, extra=pet_extra(cal))
    return write_phantom(
        out,
        kind="pet-ct",
        seed=pc.seed,
        series=(
            SeriesToWrite("ct", pc.ct, ct_meta),
            SeriesToWrite("pet", pc.pet, pet_meta, pc.pet_pixels),
        ),
        labels=(
            LabelMap(
                "ct_tissue",
                pc.ct_labels,
                pc.ct.affine,
                "CT tissue: " + str(B.TISSUES) + ", 10+n lesion n",
            ),
            LabelMap(
                "pet_lesions",
                pc.pet_labels,
                pc.pet.affine,
                "PET MTV (>= 40% SUVmax) of lesion n = n",
            ),
        ),
        truth=pc.truth,
    )
