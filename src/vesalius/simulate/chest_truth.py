"""Ground truth of the chest CT phantom, as frozen dataclasses that serialize to JSON."""

from __future__ import annotations

from dataclasses import dataclass

from vesalius.simulate.calcium import AgatstonScore
from vesalius.simulate.truth import LabelEntry

Triple = tuple[float, float, float]

FINDING_LABELS_DOC = (
    "findings label map: 1 emphysema, 10+n nodule n, 100+n coronary calcium "
    "lesion n (voxels >= 130 HU), 200+n aortic calcium lesion n"
)
LAA_METHOD = (
    "%LAA-950 = 100 * voxels below -950 HU in the lung label / voxels in the lung "
    "label; 'noise_free' on the image before noise, 'noisy' on the written image"
)
EMPHYSEMA_LABEL, NODULE_BASE, CORONARY_BASE, AORTIC_BASE = 1, 10, 100, 200


@dataclass(frozen=True)
class LungTruth:
    """One lung: label volume, emphysema volume and %LAA-950."""

    side: str
    label_value: int
    volume_ml: float
    emphysema_volume_ml: float
    laa950_percent_noise_free: float
    laa950_percent_noisy: float


@dataclass(frozen=True)
class NoduleTruth:
    """One nodule. Axes are measured on the axial plane through the centre."""

    id: int
    kind: str
    lung: str
    label_value: int
    centre_lps_mm: Triple
    centre_index_kji: Triple
    semi_axes_xyz_mm: Triple
    diameter_mm: float
    long_axis_mm: float
    short_axis_mm: float
    solid_core_diameter_mm: float
    volume_ml: float
    label_volume_ml: float


@dataclass(frozen=True)
class CalciumTruth:
    """One calcified lesion (coronary or aortic)."""

    id: int
    site: str
    label_value: int
    centre_lps_mm: Triple
    semi_axes_xyz_mm: Triple
    peak_hu: float
    background_hu: float
    geometric_volume_mm3: float
    agatston_written: AgatstonScore
    agatston_3mm: AgatstonScore


@dataclass(frozen=True)
class ChestCTTruth:
    """Everything known about a chest CT phantom."""

    kind: str
    seed: int
    shape_zyx: tuple[int, int, int]
    spacing_zyx_mm: Triple
    slice_thickness_mm: float
    affine_kji_to_lps: tuple[tuple[float, ...], ...]
    noise_hu: float
    noise_blur_px: float
    hu: dict[str, float]
    lungs: tuple[LungTruth, ...]
    nodules: tuple[NoduleTruth, ...]
    coronary_calcium: tuple[CalciumTruth, ...]
    aortic_calcium: tuple[CalciumTruth, ...]
    agatston_total_written: float
    agatston_total_3mm: float
    coronary_calcium_volume_mm3: float
    aortic_calcium_volume_mm3: float
    agatston_min_area_mm2: float
    agatston_method: str
    laa_method: str
    anatomy_labels: tuple[LabelEntry, ...]
    findings_labels: tuple[LabelEntry, ...]
    findings_labels_doc: str = FINDING_LABELS_DOC
