"""Typed results of coronary calcium scoring, and the CAC-DRS category.

CAC-DRS (Coronary Artery Calcium Data and Reporting System, Hecht et al. 2018) grades the
Agatston score as A0 (0), A1 (1-99), A2 (100-299) and A3 (300 or more), and adds N, the
number of vessels with calcium (left main, LAD, LCX, RCA), when it is known.

Examples
--------
>>> cac_drs(0.0).label
'A0'
>>> cac_drs(57.3, vessels=2).label
'A1/N2'
>>> cac_drs(300.0).category
3
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

Triple = tuple[float, float, float]


@dataclass(frozen=True)
class CacDrs:
    """A CAC-DRS grade: the Agatston category and, when known, the number of vessels."""

    category: int
    vessels: int | None = None

    def __post_init__(self) -> None:
        if self.category not in (0, 1, 2, 3):
            raise ValueError(f"CAC-DRS category must be 0-3, found {self.category}")
        if self.vessels is not None and not 0 <= self.vessels <= 4:
            raise ValueError(f"CAC-DRS vessels must be 0-4, found {self.vessels}")

    @property
    def label(self) -> str:
        """The grade as written in a report, for example ``"A2/N3"`` (``"A0"`` for zero)."""
        if self.category == 0 or self.vessels is None:
            return f"A{self.category}"
        return f"A{self.category}/N{self.vessels}"


def cac_drs(agatston: float, *, vessels: int | None = None) -> CacDrs:
    """The CAC-DRS grade of an Agatston score: 0 -> A0, below 100 -> A1, below 300 -> A2.

    Any score above zero, even below 1, is A1: there is calcium.
    """
    if agatston < 0:
        raise ValueError(f"an Agatston score cannot be negative, found {agatston}")
    category = 0 if agatston == 0 else 1 if agatston < 100 else 2 if agatston < 300 else 3
    return CacDrs(category, None if category == 0 else vessels)


@dataclass(frozen=True, eq=False)
class CalciumLesion:
    """One calcified lesion: a 3-D connected region (26 neighbours) of at least 130 HU.

    Attributes
    ----------
    id
        1-based, in the order of the lesions' first voxel (slice, row, column).
    agatston
        Its share of the Agatston score (same slice scaling as the total).
    volume_mm3, area_mm2
        Voxels scored times the voxel volume; area summed over its slices.
    max_hu
        Highest HU in the lesion.
    mass_mg
        Calcium mass when a calibration factor was given, else ``None``.
    centre_lps_mm
        Centroid of its scored voxels, LPS mm.
    n_slices
        Axial slices it spans.
    territory
        ``"LAD"``, ``"LCX"`` or ``"RCA"`` from its position around the heart (see
        :mod:`vesalius.analyze.cardiac_ct.territory`); the left main is not told apart.
    distance_to_heart_mm
        Distance from its nearest voxel to the heart region found.
    voxels_kji
        ``(n, 3)`` indices ``(k, j, i)`` of its scored voxels in the CT.
    """

    id: int
    agatston: float
    volume_mm3: float
    area_mm2: float
    max_hu: float
    mass_mg: float | None
    centre_lps_mm: Triple
    n_slices: int
    territory: str
    distance_to_heart_mm: float
    voxels_kji: npt.NDArray[np.int32]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form, without the voxel list."""
        return {
            "id": self.id,
            "agatston": self.agatston,
            "volume_mm3": self.volume_mm3,
            "area_mm2": self.area_mm2,
            "max_hu": self.max_hu,
            "mass_mg": self.mass_mg,
            "centre_lps_mm": list(self.centre_lps_mm),
            "n_slices": self.n_slices,
            "territory": self.territory,
            "distance_to_heart_mm": self.distance_to_heart_mm,
            "n_voxels": len(self.voxels_kji),
        }


@dataclass(frozen=True, eq=False)
class CalciumScore:
    """The coronary calcium score of one CT.

    Attributes
    ----------
    agatston
        Total Agatston score; at slice spacings other than 3 mm, the 3 mm equivalent (see
        ``equivalence``).
    volume_mm3
        Volume score: scored voxels times the voxel volume.
    mass_mg
        Mass score when a calibration factor was given, else ``None``.
    lesions
        The lesions that scored.
    cac_drs
        CAC-DRS grade, with the number of territories that have calcium.
    slice_spacing_mm, pixel_area_mm2
        Geometry used: spacing between slices (from the affine) and in-plane pixel area.
    equivalent_3mm
        Whether the slice scores were scaled to the canonical 3 mm.
    thinner_than_3mm
        Whether the slices are closer than 3 mm (the score is a 3 mm equivalent, not a
        score on 3 mm reconstructions).
    equivalence
        In words: how the score relates to the canonical 3 mm score.
    heart_volume_ml, heart_centre_lps_mm
        The heart region that was found.
    margin_mm
        Lesions whose nearest voxel is farther than this from the heart were not scored.
    excluded_outside_heart, excluded_bone
        Regions of at least 130 HU near the heart that were left out, and why.
    method
        The scoring rule, stated.
    """

    agatston: float
    volume_mm3: float
    mass_mg: float | None
    lesions: tuple[CalciumLesion, ...]
    cac_drs: CacDrs
    slice_spacing_mm: float
    pixel_area_mm2: float
    equivalent_3mm: bool
    thinner_than_3mm: bool
    equivalence: str
    heart_volume_ml: float
    heart_centre_lps_mm: Triple
    margin_mm: float
    excluded_outside_heart: int
    excluded_bone: int
    method: str

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form (lesions without their voxel lists)."""
        return {
            "agatston": self.agatston,
            "volume_mm3": self.volume_mm3,
            "mass_mg": self.mass_mg,
            "cac_drs": self.cac_drs.label,
            "cac_drs_category": self.cac_drs.category,
            "cac_drs_vessels": self.cac_drs.vessels,
            "slice_spacing_mm": self.slice_spacing_mm,
            "pixel_area_mm2": self.pixel_area_mm2,
            "equivalent_3mm": self.equivalent_3mm,
            "thinner_than_3mm": self.thinner_than_3mm,
            "equivalence": self.equivalence,
            "heart_volume_ml": self.heart_volume_ml,
            "heart_centre_lps_mm": list(self.heart_centre_lps_mm),
            "margin_mm": self.margin_mm,
            "excluded_outside_heart": self.excluded_outside_heart,
            "excluded_bone": self.excluded_bone,
            "method": self.method,
            "lesions": [lesion.to_json() for lesion in self.lesions],
        }
