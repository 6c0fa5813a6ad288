"""Analysis apps the pipeline can run, by name, and the label maps they hand back.

An app is a plain function ``(volume, source) -> findings | AppResult``: it gets the series
as a :class:`~vesalius.core.Volume` and the :class:`~vesalius.core.SeriesRef` its findings
must cite. It returns its findings, or an :class:`AppResult`: the findings plus the label
maps it made on the series' grid (:class:`LabelMapOutput`), which the pipeline keeps in the
store for the DICOM SEG and SR exports. :func:`default_apps` is the explicit registry of the
apps Vesalius ships; callers may pass their own mapping (tests pass fakes).

The chest CT app keeps the lung label map (left lung, right lung, airway) and, when the
analysis gives them, the nodule label map (label ``n``: nodule ``n``) and the calcified
lesions (label ``n``: lesion ``n``); each segment names the findings it belongs to.

Examples
--------
>>> sorted(default_apps())
['chest-ct']
>>> [s.info.label for s in lung_segments(())]
['Left lung', 'Right lung', 'Airway']
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import vesalius
from vesalius.core import ProvenanceStep, SeriesRef, Volume
from vesalius.findings import codes
from vesalius.findings.model import Finding
from vesalius.store.findings import Code
from vesalius.store.segmentations import SegmentInfo

ANATOMY = Code("SCT", "91723000", "Anatomical Structure")
ABNORMAL = Code("SCT", "49755003", "Morphologically Abnormal Structure")
LUNG = Code("SCT", "39607008", "Lung")
AIRWAY = Code("SCT", "89187006", "Airway structure")
NODULE = Code("SCT", "27925004", "Nodule")
CALCIFIED_PLAQUE = Code("SCT", "29483008", "Calcified atheromatous plaque")
LEFT, RIGHT = Code("SCT", "7771000", "Left"), Code("SCT", "24028007", "Right")
SEGMENT_CODES = (ANATOMY, ABNORMAL, LUNG, AIRWAY, NODULE, CALCIFIED_PLAQUE, LEFT, RIGHT)
"""SNOMED CT codes of the segments (checked against pydicom's dictionary in the tests)."""

LUNG_ALGORITHM, NODULE_ALGORITHM = "vesalius.chest-ct.lungs", "vesalius.chest-ct.nodules"
CALCIUM_ALGORITHM = "vesalius.cardiac-ct.calcium"


@dataclass(frozen=True)
class SegmentOutput:
    """A segment of a label map and the app's findings (by index) that describe it."""

    info: SegmentInfo
    finding_indices: tuple[int, ...] = ()


@dataclass(frozen=True, eq=False)
class LabelMapOutput:
    """A label map an app made on the series' grid, with what each label value is."""

    volume: Volume
    algorithm_name: str
    algorithm_version: str
    segments: tuple[SegmentOutput, ...]

    def __post_init__(self) -> None:
        kind = np.asarray(self.volume.array).dtype
        if kind.kind != "u" or kind.itemsize > 2:
            raise ValueError(f"a label map must hold uint8 or uint16 values, found {kind}")
        values = [s.info.label_value for s in self.segments]
        if len(set(values)) != len(values):
            raise ValueError(f"each label value is described once, found {values}")


@dataclass(frozen=True, eq=False)
class AppResult:
    """What an app found: findings, and the label maps to keep."""

    findings: tuple[Finding, ...]
    label_maps: tuple[LabelMapOutput, ...] = field(default=())

    def __post_init__(self) -> None:
        n = len(self.findings)
        for label_map in self.label_maps:
            for segment in label_map.segments:
                if any(not 0 <= i < n for i in segment.finding_indices):
                    raise ValueError(
                        f"segment {segment.info.label!r} names findings "
                        f"{segment.finding_indices}, but there are {n}"
                    )


App = Callable[[Volume, SeriesRef], "tuple[Finding, ...] | AppResult"]
"""An analysis app: the series' volume and its reference in, findings (or more) out."""

Apps = Mapping[str, App]
"""Apps by the name routing rules use."""


def as_result(output: tuple[Finding, ...] | AppResult) -> AppResult:
    """An app's output as an :class:`AppResult` (plain findings have no label map)."""
    return output if isinstance(output, AppResult) else AppResult(tuple(output))


def _lung_index(findings: Sequence[Finding], side: str) -> tuple[int, ...]:
    return tuple(
        n
        for n, f in enumerate(findings)
        if f.finding_type == codes.LUNG and f.location is not None and f.location.laterality == side
    )


def lung_segments(findings: Sequence[Finding]) -> tuple[SegmentOutput, ...]:
    """Left lung, right lung and airway segments, linked to the per-lung findings."""
    from vesalius.analyze.chest_ct import AIRWAY as AIRWAY_LABEL
    from vesalius.analyze.chest_ct import LEFT as LEFT_LABEL
    from vesalius.analyze.chest_ct import RIGHT as RIGHT_LABEL

    return (
        SegmentOutput(
            SegmentInfo(LEFT_LABEL, "Left lung", ANATOMY, LUNG, LEFT), _lung_index(findings, "left")
        ),
        SegmentOutput(
            SegmentInfo(RIGHT_LABEL, "Right lung", ANATOMY, LUNG, RIGHT),
            _lung_index(findings, "right"),
        ),
        SegmentOutput(SegmentInfo(AIRWAY_LABEL, "Airway", ANATOMY, AIRWAY)),
    )


def _near(
    findings: Sequence[Finding], point: Iterable[float], tol_mm: float = 0.5
) -> tuple[int, ...]:
    target = tuple(float(v) for v in point)
    return tuple(
        n
        for n, f in enumerate(findings)
        if f.location is not None
        and f.location.point_lps_mm is not None
        and math.dist(f.location.point_lps_mm, target) <= tol_mm
    )


@dataclass(frozen=True, eq=False)
class NoduleLabels:
    """A nodule label map and its nodules (each with ``id`` and ``centre_lps_mm``)."""

    label_map: Volume
    nodules: tuple[Any, ...]


def nodule_label_map(result: Any, findings: Sequence[Finding]) -> LabelMapOutput | None:
    """The nodule label map of a nodule result (``label_map`` and ``nodules`` with ``id``).

    A nodule's findings are those located at its centre (``centre_lps_mm``).
    """
    volume = getattr(result, "label_map", result)
    if not isinstance(volume, Volume):
        return None
    segments = tuple(
        SegmentOutput(
            SegmentInfo(int(n.id), f"Nodule {n.id}", ABNORMAL, NODULE),
            _near(findings, n.centre_lps_mm),
        )
        for n in getattr(result, "nodules", ())
    )
    if not segments:
        values = np.unique(np.asarray(volume.array))
        segments = tuple(
            SegmentOutput(SegmentInfo(int(v), f"Nodule {v}", ABNORMAL, NODULE))
            for v in values[values > 0]
        )
    return LabelMapOutput(volume, NODULE_ALGORITHM, vesalius.__version__, segments)


def calcium_label_map(score: Any, ct: Volume, findings: Sequence[Finding]) -> LabelMapOutput:
    """A label map of a calcium score's lesions (label ``n``: lesion ``n``) on ``ct``'s grid.

    A lesion's findings are those located at its centroid (``centre_lps_mm``).
    """
    lesions = tuple(score.lesions)
    dtype = np.uint8 if len(lesions) < 256 else np.uint16
    labels = np.zeros(ct.shape, dtype)
    segments = []
    for lesion in lesions:
        k, j, i = np.asarray(lesion.voxels_kji).T
        labels[k, j, i] = lesion.id
        info = SegmentInfo(
            int(lesion.id), f"Calcified lesion {lesion.id}", ABNORMAL, CALCIFIED_PLAQUE
        )
        segments.append(SegmentOutput(info, _near(findings, lesion.centre_lps_mm)))
    return LabelMapOutput(
        ct.with_array(labels, ProvenanceStep("CalciumLesionLabels", {"n": len(lesions)})),
        CALCIUM_ALGORITHM,
        vesalius.__version__,
        tuple(segments),
    )


def chest_ct_label_maps(run: Any, ct: Volume) -> tuple[LabelMapOutput, ...]:
    """The label maps of a chest CT analysis run (lungs, nodules, calcium when present)."""
    findings = tuple(run.findings)
    found: list[LabelMapOutput] = []
    lungs = getattr(run, "lungs", None)
    if lungs is not None:
        segments = lung_segments(findings)
        found.append(
            LabelMapOutput(lungs.label_map, LUNG_ALGORITHM, vesalius.__version__, segments)
        )
    nodules = getattr(run, "nodules", None)
    if isinstance(nodules, Volume):  # analyze_ct: the label map, the table beside it
        nodules = NoduleLabels(nodules, tuple(getattr(run, "nodule_list", ())))
    if nodules is not None and (out := nodule_label_map(nodules, findings)) is not None:
        found.append(out)
    calcium = getattr(run, "calcium", None)
    if calcium is not None and getattr(calcium, "lesions", None):
        found.append(calcium_label_map(calcium, ct, findings))
    return tuple(m for m in found if np.any(np.asarray(m.volume.array)))


def chest_ct_app(volume: Volume, source: SeriesRef) -> AppResult:
    """Coronary calcium, lungs, emphysema (and nodules): :func:`~vesalius.findings.run.analyze_ct`.

    An analysis that refuses the CT is skipped inside (logged); the others' findings stay.
    The label maps made on the way are returned with the findings.
    """
    from vesalius.findings.run import analyze_ct

    run = analyze_ct(volume, source=source)
    return AppResult(tuple(run.findings), chest_ct_label_maps(run, volume))


def default_apps() -> dict[str, App]:
    """The apps Vesalius ships, by name."""
    return {"chest-ct": chest_ct_app}
