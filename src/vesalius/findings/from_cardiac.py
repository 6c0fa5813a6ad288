"""Findings from a coronary calcium score.

:func:`calcium_findings` turns a :class:`~vesalius.analyze.cardiac_ct.CalciumScore` into one
study-level finding, coronary artery calcification with the Agatston, volume (and mass)
scores and the CAC-DRS category, followed by one finding per scored lesion located in its
coronary territory. Territories are read from the lesion's position around the heart, not
from a tracked vessel; each lesion's description says so.

Examples
--------
>>> from vesalius.simulate.chest_ct import ChestCTSpec, chest_ct
>>> from vesalius.analyze.cardiac_ct import score_calcium
>>> ct = chest_ct(ChestCTSpec(shape=(60, 128, 128), noise_hu=0.0), seed=3)
>>> from vesalius.core import SeriesRef
>>> source = SeriesRef("1.2.3", "1.2.3.4")
>>> findings = calcium_findings(score_calcium(ct.volume), source=source)
>>> study = findings[0]
>>> round(study.measurement(codes.CALCIUM_SCORE).value, 1), study.category("CAC-DRS").value
(356.0, 'A3/N3')
>>> sorted(f.location.site.value for f in findings[1:])
['13647002', '57396003', '59438005', '59438005']
"""

from __future__ import annotations

import numpy as np

import vesalius
from vesalius.analyze.cardiac_ct import CalciumLesion, CalciumScore
from vesalius.core import SeriesRef
from vesalius.findings import codes
from vesalius.findings.model import Category, Finding, Location, Measurement

ALGORITHM = "vesalius.cardiac-ct.calcium"
"""Algorithm name of the calcium scoring findings (the version is Vesalius's)."""
CAC_DRS_MEANINGS = {
    0: "A0: no coronary calcium (Agatston 0)",
    1: "A1: mild (Agatston 1-99)",
    2: "A2: moderate (Agatston 100-299)",
    3: "A3: severe (Agatston 300 or more)",
}


def _scores(score: CalciumScore) -> tuple[Measurement, ...]:
    agatston = "Agatston" + ("" if not score.equivalent_3mm else f"; {score.equivalence}")
    found = [
        Measurement(codes.CALCIUM_SCORE, score.agatston, "1", method=agatston),
        Measurement(codes.CALCIUM_VOLUME, score.volume_mm3, "mm3", method="volume score"),
    ]
    if score.mass_mg is not None:
        found.append(Measurement(codes.CALCIUM_MASS, score.mass_mg, "mg", method="mass score"))
    return tuple(found)


def _lesion(lesion: CalciumLesion, score: CalciumScore, source: SeriesRef) -> Finding:
    voxel = np.rint(lesion.voxels_kji.mean(axis=0)).astype(int)
    site = codes.TERRITORY_SITES.get(lesion.territory, codes.CORONARY_ARTERY)
    return Finding(
        finding_type=codes.CALCIFIED_PLAQUE,
        algorithm_name=ALGORITHM,
        algorithm_version=vesalius.__version__,
        source=source,
        measurements=(
            Measurement(codes.CALCIUM_SCORE, lesion.agatston, "1", method="Agatston"),
            Measurement(codes.CALCIUM_VOLUME, lesion.volume_mm3, "mm3", method="volume score"),
        ),
        location=Location(
            site,
            voxel_kji=(int(voxel[0]), int(voxel[1]), int(voxel[2])),
            point_lps_mm=tuple(float(v) for v in lesion.centre_lps_mm),  # type: ignore[arg-type]
        ),
        description=(
            f"Calcified lesion {lesion.id}, {lesion.territory} territory (from its position "
            f"around the heart, not vessel-tracked), max {lesion.max_hu:.0f} HU, "
            f"{lesion.n_slices} slices"
        ),
    )


def calcium_findings(score: CalciumScore, *, source: SeriesRef) -> tuple[Finding, ...]:
    """The study-level calcification finding, then one finding per lesion.

    Parameters
    ----------
    score
        The calcium score of the CT.
    source
        The CT series it was computed on.
    """
    grade = score.cac_drs
    study = Finding(
        finding_type=codes.CORONARY_CALCIFICATION,
        algorithm_name=ALGORITHM,
        algorithm_version=vesalius.__version__,
        source=source,
        measurements=_scores(score),
        categories=(Category("CAC-DRS", grade.label, CAC_DRS_MEANINGS[grade.category]),),
        location=Location(codes.CORONARY_ARTERY),
        description=(
            f"Coronary artery calcium: Agatston {score.agatston:.1f}, volume "
            f"{score.volume_mm3:.1f} mm3, CAC-DRS {grade.label}, {len(score.lesions)} lesion(s)"
        ),
    )
    return (study, *(_lesion(lesion, score, source) for lesion in score.lesions))
