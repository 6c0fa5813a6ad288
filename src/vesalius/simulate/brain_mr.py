"""A T1-weighted brain MR phantom with known tissue volumes and an atrophy knob.

Tissues are nested, folded ellipsoid shells around the brain centre: scalp, skull,
subarachnoid CSF, cortical grey matter with sulci, white matter, deep grey nuclei and
lateral ventricles. ``atrophy`` in [0, 1] thins the cortex, widens the sulci and enlarges
the ventricles deterministically. T1 contrast: WM > GM > CSF. The image gets a smooth
multiplicative bias field and Rician noise; the truth comes from the label map.

Examples
--------
>>> mr = brain_mr(BrainMRSpec(shape=(24, 32, 32)), seed=0)
>>> mr.volume.modality, mr.volume.array.dtype
('MR', dtype('uint16'))
>>> t = mr.truth
>>> t.wm_volume_ml > 0 and t.gm_volume_ml > 0 and t.csf_volume_ml > 0
True
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from vesalius.core import ProvenanceStep, Volume
from vesalius.errors import InputError
from vesalius.io.dicom_write import derive_uid
from vesalius.simulate.render import Axes
from vesalius.simulate.study import (
    LabelMap,
    SeriesToWrite,
    WrittenPhantom,
    metadata,
    shape_variant,
    write_phantom,
)
from vesalius.simulate.truth import LabelEntry, label_table

BRAIN_LABELS = {1: "csf", 2: "gm", 3: "wm", 4: "skull_scalp"}
T1 = {"background": 0.0, "csf": 0.18, "gm": 0.62, "wm": 1.0, "skull": 0.08, "scalp": 0.85}
"""Relative T1-weighted intensities (WM = 1)."""
BRAIN_SEMI, BRAIN_CENTRE_Z = (68.0, 85.0, 62.0), 10.0
FULL_SHAPE, SMALL_SHAPE = (192, 256, 256), (40, 64, 64)
SCALE = 1000.0


@dataclass(frozen=True)
class BrainMRSpec:
    """Size, atrophy, bias and noise of a brain MR phantom.

    ``noise`` is the Rician sigma relative to WM; ``bias`` the peak-to-mean amplitude of
    the log bias field.
    """

    shape: tuple[int, int, int] = FULL_SHAPE
    fov_mm: tuple[float, float, float] = (192.0, 256.0, 256.0)
    atrophy: float = 0.0
    bias: float = 0.15
    noise: float = 0.03

    def __post_init__(self) -> None:
        if len(self.shape) != 3 or min(self.shape) < 2:
            raise InputError(None, f"phantom shape must be three sizes >= 2, found {self.shape}")
        if not 0.0 <= self.atrophy <= 1.0:
            raise InputError(None, f"atrophy must be within [0, 1], found {self.atrophy}")
        if self.bias < 0 or self.noise < 0 or min(self.fov_mm) <= 0:
            raise InputError(None, "bias and noise must be >= 0 and the field of view positive")

    @property
    def spacing(self) -> tuple[float, float, float]:
        """Voxel spacing ``(z, y, x)`` in mm."""
        z, y, x = (f / n for f, n in zip(self.fov_mm, self.shape, strict=True))
        return (z, y, x)


@dataclass(frozen=True)
class BiasField:
    """The bias field: ``exp(sum c_n * P_n)`` over normalized linear and quadratic terms."""

    coefficients: tuple[float, ...]
    terms: str = "x, y, z, x*y, x*z, y*z, x^2, y^2, z^2 on coordinates scaled to [-1, 1]"


@dataclass(frozen=True)
class BrainMRTruth:
    """Tissue volumes from the label map, with the parameters that made the image."""

    kind: str
    seed: int
    shape_zyx: tuple[int, int, int]
    spacing_zyx_mm: tuple[float, float, float]
    atrophy: float
    csf_volume_ml: float
    gm_volume_ml: float
    wm_volume_ml: float
    ventricle_volume_ml: float
    intracranial_volume_ml: float
    t1_intensity: dict[str, float]
    intensity_scale: float
    bias: BiasField
    rician_sigma: float
    labels: tuple[LabelEntry, ...]


@dataclass(frozen=True, eq=False)
class BrainMR:
    """The phantom: MR volume (uint16), label map (z, y, x) and truth."""

    volume: Volume
    labels: npt.NDArray[np.uint8]
    truth: BrainMRTruth
    seed: int


def _tissues(axes: Axes, atrophy: float) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.bool_]]:
    z, y, x = axes.mesh()
    ax, ay, az = BRAIN_SEMI
    u, v, w = x / ax, y / ay, (z - BRAIN_CENTRE_Z) / az
    rho = np.sqrt(u * u + v * v + w * w).astype(np.float32)
    theta = np.arctan2(v, u).astype(np.float32)
    phi = np.arcsin(np.clip(w / np.maximum(rho, 1e-6), -1, 1)).astype(np.float32)
    fold = np.sin(8 * theta + 2 * np.sin(3 * phi)) * np.cos(6 * phi)
    labels = np.zeros(rho.shape, np.uint8)
    labels[rho <= 1.22] = 4  # scalp and skull
    labels[rho <= 1.05] = 1  # subarachnoid CSF
    labels[rho <= 1.0 - 0.05 * atrophy] = 2
    wm = rho <= 0.82 + 0.05 * fold
    sulcus = (fold > 0.8 - 0.35 * atrophy) & ~wm & (labels == 2)
    labels[sulcus] = 1
    labels[wm] = 3
    for sx in (-1.0, 1.0):
        deep = (
            ((x - 13 * sx) / 10) ** 2 + ((y - 8) / 13) ** 2 + ((z - BRAIN_CENTRE_Z + 6) / 10) ** 2
        )
        labels[deep <= 1.0] = 2
    grow = 1.0 + 0.8 * atrophy
    ventricles = np.zeros(rho.shape, bool)
    for sx in (-1.0, 1.0):
        ellip = (
            ((x - 11 * sx) / (6 * grow)) ** 2
            + ((y + 5) / (24 * grow)) ** 2
            + ((z - BRAIN_CENTRE_Z - 12) / (9 * grow)) ** 2
        )
        ventricles |= ellip <= 1.0
    labels[ventricles] = 1
    return labels, ventricles


def _intensity(
    labels: npt.NDArray[np.uint8], rho_skull: npt.NDArray[np.bool_]
) -> npt.NDArray[np.float32]:
    lut = np.array([T1["background"], T1["csf"], T1["gm"], T1["wm"], T1["scalp"]], np.float32)
    img = lut[labels]
    img[rho_skull] = T1["skull"]
    return np.asarray(ndimage.gaussian_filter(img, 0.5), np.float32)


def _skull(axes: Axes) -> npt.NDArray[np.bool_]:
    z, y, x = axes.mesh()
    ax, ay, az = BRAIN_SEMI
    rho2 = (x / ax) ** 2 + (y / ay) ** 2 + ((z - BRAIN_CENTRE_Z) / az) ** 2
    return np.asarray((rho2 > 1.05**2) & (rho2 <= 1.13**2))


def _bias(
    axes: Axes, rng: np.random.Generator, amplitude: float
) -> tuple[npt.NDArray[np.float32], BiasField]:
    z, y, x = (c / max(abs(c).max(), 1e-6) for c in (axes.z, axes.y, axes.x))
    zz, yy, xx = z[:, None, None], y[None, :, None], x[None, None, :]
    coeffs = rng.uniform(-1.0, 1.0, size=9) * amplitude / 3.0
    terms = (xx, yy, zz, xx * yy, xx * zz, yy * zz, xx * xx, yy * yy, zz * zz)
    log_field = np.zeros(axes.shape, np.float32)
    for c, t in zip(coeffs, terms, strict=True):
        log_field += np.float32(c) * t
    return np.exp(log_field), BiasField(tuple(float(c) for c in coeffs))


def brain_mr(spec: BrainMRSpec | None = None, *, seed: int = 0) -> BrainMR:
    """Build the brain MR phantom and its truth, deterministically from ``seed``."""
    spec = spec if spec is not None else BrainMRSpec()
    rng = np.random.default_rng([seed, 2])
    axes = Axes.centred(spec.shape, spacing=spec.spacing)
    labels, ventricles = _tissues(axes, spec.atrophy)
    img = _intensity(labels, _skull(axes))
    field, bias = _bias(axes, rng, spec.bias)
    img *= field
    if spec.noise > 0:
        sigma = np.float32(spec.noise)
        real = img + sigma * rng.standard_normal(img.shape, dtype=np.float32)
        imag = sigma * rng.standard_normal(img.shape, dtype=np.float32)
        img = np.sqrt(real * real + imag * imag)
    stored = np.clip(np.rint(img * SCALE), 0, 65535).astype(np.uint16)
    volume = Volume(
        stored,
        axes.affine,
        frame_of_reference_uid=derive_uid("brain-mr", seed, "for", shape_variant(img.shape)),
        modality="MR",
        provenance=(ProvenanceStep("SimulateBrainMR", {"seed": seed}),),
    )
    ml = axes.voxel_ml
    table = label_table(labels, BRAIN_LABELS, voxel_ml=ml)
    vol = {e.name: e.volume_ml for e in table}
    truth = BrainMRTruth(
        kind="brain-mr",
        seed=seed,
        shape_zyx=spec.shape,
        spacing_zyx_mm=spec.spacing,
        atrophy=spec.atrophy,
        csf_volume_ml=vol["csf"],
        gm_volume_ml=vol["gm"],
        wm_volume_ml=vol["wm"],
        ventricle_volume_ml=float(np.count_nonzero(ventricles)) * ml,
        intracranial_volume_ml=vol["csf"] + vol["gm"] + vol["wm"],
        t1_intensity=dict(T1),
        intensity_scale=SCALE,
        bias=bias,
        rician_sigma=spec.noise,
        labels=table,
    )
    return BrainMR(volume, labels, truth, seed)


def write_brain_mr(mr: BrainMR, out: str | os.PathLike[str]) -> WrittenPhantom:
    """Write the MR series (``mr/``), the tissue label map and ``ground_truth.json``."""
    meta = metadata(
        "brain-mr",
        mr.seed,
        number=1,
        description="Phantom T1 MPRAGE",
        body_part="HEAD",
        variant=shape_variant(mr.volume.shape),
    )
    return write_phantom(
        out,
        kind="brain-mr",
        seed=mr.seed,
        series=(SeriesToWrite("mr", mr.volume, meta),),
        labels=(LabelMap("tissue", mr.labels, mr.volume.affine, "tissue: " + str(BRAIN_LABELS)),),
        truth=mr.truth,
    )
