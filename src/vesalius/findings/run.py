"""Run the CT analyses on one series and collect their findings.

:func:`pick_ct_series` chooses the series to analyse (the CT series with the most slices,
or the one asked for); :func:`analyze_ct` runs the coronary calcium scoring, the lung
and emphysema analysis and the lung nodule detection on it (the nodules' label map is
kept in :attr:`AnalysisRun.nodules` for export). An analysis that refuses the CT (an
:class:`~vesalius.errors.InputError` such as "no lung-like air") is reported as skipped,
with its reason, and the others still run. :func:`write_outputs` writes ``findings.json``,
the lung label map ``lungs.nii.gz`` (on the CT's grid) and ``summary.txt``, each atomically.

Examples
--------
>>> from vesalius.core import SeriesRef
>>> from vesalius.simulate.chest_ct import ChestCTSpec, chest_ct
>>> ct = chest_ct(ChestCTSpec(shape=(48, 176, 176), noise_hu=0.0), seed=1)
>>> result = analyze_ct(ct.volume, source=SeriesRef("1.2.3", "1.2.3.4"))
>>> [f.finding_type.meaning for f in result.findings][:3]
['Coronary artery calcification', 'Calcified atheromatous plaque', 'Calcified atheromatous plaque']
>>> result.skipped
()
>>> result.nodules.array.dtype, int(result.nodules.array.max()) == len(result.nodule_list)
(dtype('uint16'), True)
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from vesalius.analyze.cardiac_ct import score_calcium
from vesalius.analyze.chest_ct import (
    LungSegmentation,
    Nodule,
    detect_nodules,
    emphysema_index,
    segment_lungs,
)
from vesalius.core import SeriesRef, Volume
from vesalius.errors import InputError
from vesalius.findings.from_cardiac import calcium_findings
from vesalius.findings.from_chest import lung_findings
from vesalius.findings.from_nodules import nodule_findings, slice_limitation
from vesalius.findings.model import Finding
from vesalius.io.atomic import write_bytes_atomic
from vesalius.io.scan import DicomScan, SeriesFiles

log = logging.getLogger(__name__)

FINDINGS_JSON, LUNGS_NIFTI, SUMMARY_TXT = "findings.json", "lungs.nii.gz", "summary.txt"


@dataclass(frozen=True)
class Skipped:
    """An analysis that refused the CT, and why."""

    analysis: str
    reason: str


@dataclass(frozen=True, eq=False)
class AnalysisRun:
    """What :func:`analyze_ct` found: findings, skipped analyses and label maps.

    ``nodules`` is the nodules' label map (uint16 on the CT's grid, 0 background, ``n``
    nodule ``n`` of ``nodule_list``), or ``None`` when the nodule step did not run.
    """

    source: SeriesRef
    findings: tuple[Finding, ...]
    skipped: tuple[Skipped, ...]
    lungs: LungSegmentation | None
    nodules: Volume | None = None
    nodule_list: tuple[Nodule, ...] = ()


def _slices(series: SeriesFiles) -> int:
    return sum(header.n_frames for header in series.instances)


def pick_ct_series(scan: DicomScan, *, series_uid: str | None = None, where: Path) -> SeriesFiles:
    """The series ``series_uid``, or else the CT series with the most slices.

    Raises
    ------
    InputError
        No CT series in ``where``, or no series ``series_uid``.
    """
    if series_uid is not None:
        try:
            return scan.get(series_uid)
        except InputError as err:
            raise InputError(where, err.problem) from None
    cts = [s for s in scan.series if s.modality == "CT"]
    if not cts:
        found = ", ".join(sorted({s.modality for s in scan.series})) or "no image series"
        raise InputError(where, f"no CT series to analyse (found: {found})")
    return max(cts, key=_slices)


def _calcium(ct: Volume, source: SeriesRef) -> tuple[Finding, ...]:
    return calcium_findings(score_calcium(ct), source=source)


def _lungs(ct: Volume, source: SeriesRef) -> tuple[tuple[Finding, ...], LungSegmentation]:
    segmentation = segment_lungs(ct)
    return lung_findings(segmentation, emphysema_index(ct, segmentation), source=source), (
        segmentation
    )


def _nodules(
    ct: Volume, lungs: LungSegmentation, source: SeriesRef
) -> tuple[tuple[Finding, ...], Volume, tuple[Nodule, ...]]:
    result = detect_nodules(ct, lungs)
    findings = nodule_findings(result, source=source) + slice_limitation(result, source=source)
    return findings, result.label_map, result.nodules


def analyze_ct(ct: Volume, *, source: SeriesRef) -> AnalysisRun:
    """Run calcium scoring, the lung analysis and nodule detection on ``ct``.

    Refusals become :class:`Skipped`; the nodule step runs only when the lungs were found.
    """
    findings: list[Finding] = []
    skipped: list[Skipped] = []
    lungs = None
    try:
        findings += _calcium(ct, source)
    except InputError as err:
        log.info("calcium scoring skipped: %s", err.problem)
        skipped.append(Skipped("coronary calcium", err.problem))
    try:
        found, lungs = _lungs(ct, source)
        findings += found
    except InputError as err:
        log.info("lung analysis skipped: %s", err.problem)
        skipped.append(Skipped("lungs and emphysema", err.problem))
    nodules: Volume | None = None
    nodule_list: tuple[Nodule, ...] = ()
    if lungs is not None:  # without lungs, the lung analysis' skip says why
        try:
            found, nodules, nodule_list = _nodules(ct, lungs, source)
            findings += found
        except InputError as err:
            log.info("nodule detection skipped: %s", err.problem)
            skipped.append(Skipped("lung nodules", err.problem))
    return AnalysisRun(source, tuple(findings), tuple(skipped), lungs, nodules, nodule_list)


def findings_json(findings: tuple[Finding, ...]) -> str:
    """The findings as a JSON list (the content of ``findings.json``)."""
    return json.dumps([f.to_json() for f in findings], indent=2, allow_nan=False)


def summary(run: AnalysisRun) -> str:
    """A short text summary: one line per finding, then the skipped analyses."""
    lines = [f"Series {run.source.series_uid} of study {run.source.study_uid}"]
    lines.append("AI-generated findings (not reviewed by a radiologist):")
    for f in run.findings:
        lines.append(f"- {f.description} [{f.algorithm_name} {f.algorithm_version}]")
    lines += [f"Skipped {s.analysis}: {s.reason}" for s in run.skipped]
    return "\n".join(lines) + "\n"


def write_outputs(run: AnalysisRun, out: Path) -> tuple[Path, ...]:
    """Write findings.json, lungs.nii.gz (when the lungs were found) and summary.txt.

    Raises
    ------
    InputError
        ``out`` is not a writable folder.
    """
    from vesalius.io.nifti import write_nifti

    if out.exists() and not out.is_dir():
        raise InputError(out, "the output must be a folder, found a file")
    try:
        out.mkdir(parents=True, exist_ok=True)
        written = [write_bytes_atomic(out / FINDINGS_JSON, findings_json(run.findings).encode())]
        if run.lungs is not None:
            write_nifti(run.lungs.label_map, out / LUNGS_NIFTI)
            written.append(out / LUNGS_NIFTI)
        written.append(write_bytes_atomic(out / SUMMARY_TXT, summary(run).encode()))
    except OSError as err:
        raise InputError(out, f"cannot write the results: {err.strerror or err}") from None
    return tuple(written)
