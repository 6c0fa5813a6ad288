"""Ground truth and DICOM PET attributes of the PET/CT phantom.

Examples
--------
>>> cal = suv_calibration(weight_kg=70.0, dose_bq=3.7e8, uptake_s=6586.2)
>>> round(cal.decayed_dose_bq / 1e6, 1), round(cal.suv_per_bqml * 1e4, 4)
(185.0, 3.7838)
"""

from __future__ import annotations

from dataclasses import dataclass

from pydicom.dataset import Dataset

from vesalius.simulate.truth import LabelEntry

F18_HALF_LIFE_S = 6586.2
INJECTION_DATE, INJECTION_TIME = "20240315", "083000"
Triple = tuple[float, float, float]


@dataclass(frozen=True)
class Misregistration:
    """Rigid motion of the patient between CT and PET.

    ``pet_to_ct`` maps an LPS point of the PET image to the LPS point of the CT showing the
    same anatomy: ``p_ct = R @ p_pet + t``, with ``R`` rotating about x, then y, then z.
    """

    translation_mm: Triple
    rotation_deg: Triple
    pet_to_ct: tuple[tuple[float, ...], ...]
    convention: str = (
        "p_ct = pet_to_ct @ [p_pet, 1]; R = Rz @ Ry @ Rx; shared frame of "
        "reference, the patient moved"
    )


@dataclass(frozen=True)
class SuvCalibration:
    """How Bq/ml becomes SUVbw: ``SUV = C[Bq/ml] * suv_per_bqml`` (1 g/ml tissue)."""

    weight_kg: float
    injected_dose_bq: float
    injection_datetime: str
    series_datetime: str
    half_life_s: float
    uptake_s: float
    decayed_dose_bq: float
    suv_per_bqml: float
    units: str = "BQML"
    decay_correction: str = "START"


def _clock(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 3600:02d}{s // 60 % 60:02d}{s % 60:02d}"


def series_time(uptake_s: float) -> str:
    """The series start time (HHMMSS) ``uptake_s`` after the 08:30:00 injection.

    Examples
    --------
    >>> series_time(3600.0)
    '093000'
    """
    return _clock(8.5 * 3600 + uptake_s)


def suv_calibration(*, weight_kg: float, dose_bq: float, uptake_s: float) -> SuvCalibration:
    """The SUVbw factor: weight in g over the dose decayed to the series start."""
    decayed = dose_bq * 2.0 ** (-uptake_s / F18_HALF_LIFE_S)
    return SuvCalibration(
        weight_kg=weight_kg,
        injected_dose_bq=dose_bq,
        injection_datetime=INJECTION_DATE + INJECTION_TIME,
        series_datetime=INJECTION_DATE + series_time(uptake_s),
        half_life_s=F18_HALF_LIFE_S,
        uptake_s=uptake_s,
        decayed_dose_bq=decayed,
        suv_per_bqml=weight_kg * 1000.0 / decayed,
    )


def pet_extra(cal: SuvCalibration) -> Dataset:
    """PET Series and PET Isotope module attributes for :mod:`vesalius.io.dicom_write`."""
    ds = Dataset()
    ds.Units, ds.DecayCorrection, ds.CorrectedImage = "BQML", "START", ["DECY", "ATTN"]
    ds.CountsSource, ds.SeriesType = "EMISSION", ["STATIC", "IMAGE"]
    ds.ReconstructionMethod, ds.AttenuationCorrectionMethod = "OSEM", "CT"
    ds.DecayFactor = "1"
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator = "77004003", "SCT"
    code.CodeMeaning = "^18^Fluorine"
    drug = Dataset()
    drug.CodeValue, drug.CodingSchemeDesignator = "35321007", "SCT"
    drug.CodeMeaning = "Fluorodeoxyglucose F^18^"
    item = Dataset()
    item.Radiopharmaceutical = "Fluorodeoxyglucose"
    item.RadiopharmaceuticalStartTime = INJECTION_TIME
    item.RadiopharmaceuticalStartDateTime = cal.injection_datetime
    item.RadionuclideTotalDose = f"{cal.injected_dose_bq:.6g}"
    item.RadionuclideHalfLife = f"{cal.half_life_s}"
    item.RadionuclidePositronFraction = "0.9673"
    item.RadionuclideCodeSequence = [code]
    item.RadiopharmaceuticalCodeSequence = [drug]
    ds.RadiopharmaceuticalInformationSequence = [item]
    return ds


@dataclass(frozen=True)
class PetLesionTruth:
    """One lesion: where it is in both images, its SUVmax and metabolic tumour volume."""

    id: int
    site: str
    label_value: int
    radius_mm: float
    centre_ct_lps_mm: Triple
    centre_pet_lps_mm: Triple
    voi_radius_mm: float
    suvmax_target: float
    suvmax: float
    max_bqml: float
    max_index_kji: tuple[int, int, int]
    mtv_ml: float
    mtv_threshold_suv: float


@dataclass(frozen=True)
class PetCTTruth:
    """Everything known about the PET/CT phantom."""

    kind: str
    seed: int
    ct_shape_zyx: tuple[int, int, int]
    ct_spacing_zyx_mm: Triple
    pet_shape_zyx: tuple[int, int, int]
    pet_spacing_zyx_mm: Triple
    psf_fwhm_mm: float
    pet_relative_noise: float
    misregistration: Misregistration
    suv: SuvCalibration
    tissue_suv: dict[str, float]
    tissue_hu: dict[str, float]
    lesions: tuple[PetLesionTruth, ...]
    ct_labels: tuple[LabelEntry, ...]
    pet_labels: tuple[LabelEntry, ...]
    suvmax_method: str = (
        "max of stored*RescaleSlope*suv_per_bqml over the lesion VOI (sphere of "
        "voi_radius_mm around centre_pet) in the written PET"
    )
    mtv_method: str = (
        "voxels of the written PET with SUV >= 40% of SUVmax, 26-connected to the "
        "max voxel, within the VOI; label map labels_pet_lesions"
    )
