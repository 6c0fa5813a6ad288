"""Findings from the chest CT lung analysis: volume and %LAA-950 of each lung.

:func:`lung_findings` gives one finding per lung (left, then right), located in that lung,
with its volume in mL and, when the emphysema index was computed, its %LAA-950 and
low-attenuation volume.

Examples
--------
>>> from vesalius.simulate.chest_ct import ChestCTSpec, chest_ct
>>> from vesalius.analyze.chest_ct import emphysema_index, segment_lungs
>>> ct = chest_ct(ChestCTSpec(shape=(48, 176, 176), noise_hu=0.0), seed=1)
>>> seg = segment_lungs(ct.volume)
>>> from vesalius.core import SeriesRef
>>> source = SeriesRef("1.2.3", "1.2.3.4")
>>> left, right = lung_findings(seg, emphysema_index(ct.volume, seg), source=source)
>>> left.location.laterality, left.measurement(codes.VOLUME).unit
('left', 'mL')
>>> abs(left.measurement(codes.VOLUME).value / ct.truth.lungs[0].volume_ml - 1) < 0.03
True
"""

from __future__ import annotations

import logging

import vesalius
from vesalius.analyze.chest_ct import EmphysemaResult, LungEmphysema, LungSegmentation
from vesalius.core import SeriesRef
from vesalius.findings import codes
from vesalius.findings.model import Finding, Location, Measurement

ALGORITHM = "vesalius.chest-ct.lungs"
"""Algorithm name of the lung findings (the version is Vesalius's)."""
log = logging.getLogger(__name__)

VOLUME_METHOD = "lung segmentation (airways excluded, vessels filled): voxel count x voxel volume"


def _laa(side: LungEmphysema, result: EmphysemaResult) -> tuple[Measurement, ...]:
    method = f"{result.method}; threshold {result.threshold_hu:g} HU, prefilter {result.prefilter}"
    return (
        Measurement(codes.LAA_PERCENT, side.laa_percent, "%", method=method),
        Measurement(codes.LAA_VOLUME, side.laa_ml, "mL", method=method),
    )


def _lung(side: str, volume_ml: float, laa: tuple[Measurement, ...], source: SeriesRef) -> Finding:
    percent = f", %LAA-950 {laa[0].value:.1f}%" if laa else ""
    return Finding(
        finding_type=codes.LUNG,
        algorithm_name=ALGORITHM,
        algorithm_version=vesalius.__version__,
        source=source,
        measurements=(Measurement(codes.VOLUME, volume_ml, "mL", method=VOLUME_METHOD), *laa),
        location=Location(codes.LUNG, laterality=side),
        description=f"{side.capitalize()} lung: {volume_ml:.0f} mL{percent}",
    )


def lung_findings(
    segmentation: LungSegmentation,
    emphysema: EmphysemaResult | None = None,
    *,
    source: SeriesRef,
) -> tuple[Finding, ...]:
    """One finding per lung found: left, then right.

    A lung with no voxel on the CT (a scan cropped to one side, a pneumonectomy) gets no
    finding: a "0 mL lung" would read as a measurement, and it is not one.

    Parameters
    ----------
    segmentation
        The lungs found on the CT.
    emphysema
        The emphysema index on that segmentation, or ``None`` to report volumes only.
    source
        The CT series.
    """
    volumes = {"left": segmentation.left_ml, "right": segmentation.right_ml}
    found = []
    for side in ("left", "right"):
        if volumes[side] <= 0:
            log.info("no %s lung on series %s: no lung finding for it", side, source.series_uid)
            continue
        laa = () if emphysema is None else _laa(getattr(emphysema, side), emphysema)
        found.append(_lung(side, volumes[side], laa, source))
    return tuple(found)
