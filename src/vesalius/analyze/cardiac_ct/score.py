"""Coronary artery calcium score (Agatston, volume, mass) of a non-contrast chest CT.

Only calcium on the heart counts: the heart is found first
(:func:`~vesalius.analyze.cardiac_ct.heart.find_heart`), and a 3-D lesion (26-connected
voxels of at least 130 HU) is scored when its nearest voxel lies within ``margin_mm`` of the
heart (the coronaries run in the epicardial fat on its surface) and most of it is not in
bone. Aortic wall calcium farther than ``margin_mm`` from the heart is left out, and so are
spine, ribs and sternum. The Agatston rule is in
:mod:`vesalius.analyze.cardiac_ct.agatston`.

Slice spacing: the score is computed on the slices as acquired, with the slice spacing
read from the affine (the distance between slice centres, not the reconstructed
SliceThickness). At spacings other than 3 mm, each slice's score is multiplied by
``spacing / 3``: an equivalent score, stated as such in the result (``equivalence``), not a
score on 3 mm reconstructions, which can differ by a few percent.
"""

from __future__ import annotations

import logging

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from vesalius.analyze.cardiac_ct import coarse as C  # noqa: N812
from vesalius.analyze.cardiac_ct.agatston import CANONICAL_SLICE_MM, THRESHOLD_HU, Tally, tally
from vesalius.analyze.cardiac_ct.heart import REACH_MM, HeartRegion, find_heart
from vesalius.analyze.cardiac_ct.results import CalciumLesion, CalciumScore, cac_drs
from vesalius.analyze.cardiac_ct.territory import territory
from vesalius.core import Volume
from vesalius.errors import InputError, UnsupportedError

log = logging.getLogger(__name__)

CONTRAST_HU = 100.0
AXIAL_COSINE = 0.99
METHOD = (
    "Agatston: per axial slice, 8-connected regions >= 130 HU with area (pixels x pixel "
    "spacing) >= min_area_mm2 score area_mm2 x weight(max HU: 130-199:1, 200-299:2, "
    "300-399:3, >=400:4), times slice_spacing/3; only 3-D lesions (26-connected) whose "
    "nearest voxel is within margin_mm of the heart and mostly outside bone; volume = scored "
    "voxels x voxel volume; mass = calibration x sum(HU) x voxel volume"
)


def _where(volume: Volume) -> str:
    return f"series {volume.source.series_uid}" if volume.source is not None else "the CT"


def _check(volume: Volume, margin_mm: float, min_area_mm2: float) -> None:
    if volume.modality not in ("CT", "OT"):
        raise UnsupportedError(
            None, f"{_where(volume)}: calcium scoring needs a CT, found modality {volume.modality}"
        )
    if abs(float(volume.direction[2, 0])) < AXIAL_COSINE:
        raise UnsupportedError(
            None, f"{_where(volume)}: slices are not axial; reorient to axial before scoring"
        )
    if not 0.0 < margin_mm <= REACH_MM / 2:
        raise InputError(None, f"margin must be in (0, {REACH_MM / 2:g}] mm, found {margin_mm}")
    if min_area_mm2 < 0:
        raise InputError(None, f"minimum lesion area cannot be negative, found {min_area_mm2}")


def _select(
    labels: npt.NDArray[np.int32], heart: HeartRegion, offset: npt.NDArray[np.intp], margin: float
) -> tuple[npt.NDArray[np.int32], dict[int, float], int, int]:
    """Lesion labels to score, their distance to the heart, and how many were left out."""
    keep: dict[int, float] = {}
    outside = bone = 0
    for label, box in enumerate(ndimage.find_objects(labels), start=1):
        if box is None:
            continue
        voxels = np.argwhere(labels[box] == label) + [s.start for s in box] + offset
        distance = float(heart.distance_at(voxels).min())
        if distance > margin:
            outside += 1
        elif heart.is_bone(voxels).mean() > 0.5:
            bone += 1
        else:
            keep[label] = distance
    lesions = np.where(np.isin(labels, list(keep)), labels, 0).astype(np.int32)
    return lesions, keep, outside, bone


def _equivalence(spacing: float) -> tuple[bool, str]:
    if abs(spacing - CANONICAL_SLICE_MM) < 0.05:
        return False, "3 mm slices: the standard Agatston score, no scaling"
    factor = spacing / CANONICAL_SLICE_MM
    return True, (
        f"{spacing:.2f} mm slices ({'thinner' if spacing < 3 else 'thicker'} than 3 mm): each "
        f"slice's score multiplied by {spacing:.2f}/3 = {factor:.3f}, a 3 mm equivalent score "
        "from the acquired slices (not re-sampled to 3 mm)"
    )


def _lesions(
    volume: Volume,
    t: Tally,
    lesions: npt.NDArray[np.int32],
    offset: npt.NDArray[np.intp],
    context: tuple[HeartRegion, dict[int, float], float | None],
) -> tuple[CalciumLesion, ...]:
    heart, distances, calibration = context
    voxel_ml = float(np.prod(volume.spacing)) / 1000.0
    out: list[CalciumLesion] = []
    for label in sorted(distances):
        if t.voxels[label] == 0:
            continue
        kji = (np.argwhere(t.scored & (lesions == label)) + offset).astype(np.int32)
        c = volume.index_to_lps(kji.mean(axis=0))[0]
        centre = (float(c[0]), float(c[1]), float(c[2]))
        out.append(
            CalciumLesion(
                id=len(out) + 1,
                agatston=float(t.score[label]),
                volume_mm3=float(t.voxels[label]) * voxel_ml * 1000.0,
                area_mm2=float(t.area_mm2[label]),
                max_hu=float(t.max_hu[label]),
                mass_mg=None if calibration is None else calibration * t.sum_hu[label] * voxel_ml,
                centre_lps_mm=centre,
                n_slices=int(t.slices[label]),
                territory=territory(centre, heart.centre_lps_mm),
                distance_to_heart_mm=distances[label],
                voxels_kji=kji,
            )
        )
    return tuple(out)


def score_calcium(
    volume: Volume,
    *,
    heart: HeartRegion | None = None,
    margin_mm: float = 8.0,
    min_area_mm2: float = 1.0,
    mass_calibration: float | None = None,
) -> CalciumScore:
    """Coronary artery calcium score of an axial, non-contrast chest CT in HU.

    Parameters
    ----------
    volume
        The CT.
    heart
        The heart region, when already found; found with default settings otherwise.
    margin_mm
        How far from the heart a lesion's nearest voxel may lie (epicardial fat, about 5 mm,
        plus the coronary wall); at most 20 mm.
    min_area_mm2
        Smallest 2-D region that scores (1 mm² is customary).
    mass_calibration
        mg of calcium hydroxyapatite per ml per HU, from a calibration phantom scanned with
        the patient; without it the mass score is not computed.

    Raises
    ------
    UnsupportedError
        Not a CT, not axial, no heart found, or contrast in the heart.
    InputError
        Options out of range.
    """
    _check(volume, margin_mm, min_area_mm2)
    heart = heart if heart is not None else find_heart(volume)
    if heart.mean_hu > CONTRAST_HU:
        raise UnsupportedError(
            None,
            f"{_where(volume)}: the heart averages {heart.mean_hu:.0f} HU, so the CT has "
            "contrast; Agatston scoring needs a non-contrast CT",
        )
    box = heart.fine_bounds(margin_mm, volume.shape)
    crop, offset = volume.array[box], np.array([s.start for s in box], np.intp)
    labels, _ = C.components(crop >= THRESHOLD_HU, full=True)
    lesions, distances, outside, bone = _select(labels, heart, offset, margin_mm)
    spacing = volume.spacing
    t = tally(
        crop,
        lesions,
        int(labels.max(initial=0)),
        pixel_area_mm2=spacing[1] * spacing[2],
        slice_factor=spacing[0] / CANONICAL_SLICE_MM,
        min_area_mm2=min_area_mm2,
    )
    found = _lesions(volume, t, lesions, offset, (heart, distances, mass_calibration))
    return _result(volume, found, heart, (margin_mm, outside, bone), mass_calibration)


def _result(
    volume: Volume,
    lesions: tuple[CalciumLesion, ...],
    heart: HeartRegion,
    counts: tuple[float, int, int],
    calibration: float | None,
) -> CalciumScore:
    spacing = volume.spacing
    scaled, words = _equivalence(spacing[0])
    total = float(sum(les.agatston for les in lesions))
    masses = [les.mass_mg for les in lesions if les.mass_mg is not None]
    log.info("Agatston %.1f from %d lesions (%s)", total, len(lesions), words)
    return CalciumScore(
        agatston=total,
        volume_mm3=float(sum(les.volume_mm3 for les in lesions)),
        mass_mg=None if calibration is None else float(sum(masses)),
        lesions=lesions,
        cac_drs=cac_drs(total, vessels=len({les.territory for les in lesions})),
        slice_spacing_mm=spacing[0],
        pixel_area_mm2=spacing[1] * spacing[2],
        equivalent_3mm=scaled,
        thinner_than_3mm=spacing[0] < CANONICAL_SLICE_MM - 0.05,
        equivalence=words,
        heart_volume_ml=heart.volume_ml,
        heart_centre_lps_mm=heart.centre_lps_mm,
        margin_mm=counts[0],
        excluded_outside_heart=counts[1],
        excluded_bone=counts[2],
        method=METHOD,
    )
