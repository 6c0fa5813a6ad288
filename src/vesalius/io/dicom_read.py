"""Read a DICOM series into a :class:`~vesalius.core.Volume`.

:func:`read_dicom` scans a folder, a file or a list of files and reads one image series;
:func:`read_series` reads a series already found by :func:`~vesalius.io.scan.scan_dicom`.
Both return a :class:`DicomRead`: the volume, the problems found (typed
:class:`~vesalius.io.problems.Problem` records) and the first instance's header (without
pixel data), which later stages need for modules such as the PET radiopharmaceutical
information.

Examples
--------
>>> from pydicom.data import get_testdata_file
>>> result = read_dicom(get_testdata_file("CT_small.dcm"))
>>> result.volume.shape, result.volume.array.dtype.name, result.volume.modality
((1, 128, 128), 'int16', 'CT')
>>> result.header.PatientName
'CompressedSamples^CT1'
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from pydicom.dataset import Dataset

from vesalius.core import ProvenanceStep, SeriesRef, Volume
from vesalius.errors import DicomReadError, InputError
from vesalius.io.geometry import StackFrame, StackPlan, plan_stack, regular_positions
from vesalius.io.headers import InstanceHeader
from vesalius.io.pixels import FrameSlot, check_pixels_usable, read_frames
from vesalius.io.problems import Problem, ProblemCode
from vesalius.io.scan import DicomScan, PathInput, SeriesFiles, scan_dicom

logger = logging.getLogger(__name__)

# File problems that belong to no series: reported with whichever series is read.
_UNATTRIBUTED = (ProblemCode.NOT_DICOM, ProblemCode.UNREADABLE)


@dataclass(frozen=True, eq=False)
class DicomRead:
    """A series read into a volume, with what was odd about it.

    Attributes
    ----------
    volume
        The voxels (rescaled), LPS affine, frame of reference, modality, source UIDs.
    problems
        Problems found in the series' geometry, its files or their decoding.
    header
        Header of the first instance in slice order (pydicom Dataset, no pixel data).
    """

    volume: Volume
    problems: tuple[Problem, ...]
    header: Dataset


def read_dicom(
    source: PathInput | Iterable[PathInput],
    *,
    series_uid: str | None = None,
    resample_irregular: bool = False,
    workers: int | None = None,
) -> DicomRead:
    """Scan ``source`` and read one image series from it.

    Parameters
    ----------
    source
        A folder (searched recursively), a file, or a list of files.
    series_uid
        Which series to read when ``source`` holds several.
    resample_irregular
        Resample irregularly spaced slices onto a regular grid (linear along the normal).
    workers
        Threads reading pixel data (default: up to 8).

    Raises
    ------
    DicomReadError
        If ``source`` holds no readable image series (the message says why).
    InputError
        If it holds several series and ``series_uid`` is not given, or not found.
    """
    scan = scan_dicom(source)
    series = _pick_series(scan, source, series_uid)
    result = read_series(series, resample_irregular=resample_irregular, workers=workers)
    mine = _paths(series)
    file_problems = tuple(p for p in scan.problems if p.path in mine or p.code in _UNATTRIBUTED)
    return DicomRead(result.volume, file_problems + result.problems, result.header)


def _paths(series: SeriesFiles) -> set[str]:
    return {h.path for h in series.instances}


def _pick_series(scan: DicomScan, source: object, series_uid: str | None) -> SeriesFiles:
    if series_uid is not None:
        return scan.get(series_uid)
    if len(scan.series) == 1:
        return scan.series[0]
    where = source if isinstance(source, str) or hasattr(source, "__fspath__") else None
    if not scan.series:
        why = "; ".join(
            p.message if p.path == str(where) else f"{p.path}: {p.message}"
            for p in sorted(scan.problems, key=_warnings_last)[:3]
        )
        if not why and scan.non_images:
            kinds = sorted({o.sop_class_name for o in scan.non_images})
            why = f"only non-image objects ({', '.join(kinds)})"
        raise DicomReadError(where, f"no readable DICOM image series ({why or 'no files'})")
    uids = ", ".join(s.series_uid for s in scan.series)
    raise InputError(
        where, f"holds {len(scan.series)} image series; choose one with series_uid: {uids}"
    )


def _warnings_last(problem: Problem) -> bool:
    return problem.code == ProblemCode.DECODER_WARNING


def read_series(
    series: SeriesFiles, *, resample_irregular: bool = False, workers: int | None = None
) -> DicomRead:
    """Read the pixels of a scanned series into a volume (see :func:`read_dicom`).

    Raises
    ------
    DicomReadError
        If a file's pixel data cannot be decoded or is truncated.
    UnsupportedError
        For colour or palette-colour images.
    """
    for header in series.instances:
        check_pixels_usable(header)
    plan = plan_stack(
        stack_frames(series.instances), slice_spacing_hint=series.instances[0].slice_spacing_hint
    )
    slots = [FrameSlot(k, series.instances[f.source], f.info) for k, f in enumerate(plan.frames)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        array = read_frames(slots, plan.shape, workers=workers)
    problems = list(plan.problems)
    problems += [Problem(ProblemCode.DECODER_WARNING, str(w.message)) for w in caught]
    affine = plan.affine
    if resample_irregular and plan.irregular:
        array, affine, note = _resample(array, plan)
        problems.append(note)
    first = series.instances[plan.frames[0].source]
    volume = _volume(series, plan, array, affine, first, resample_irregular)
    for problem in problems:
        logger.info("%s", problem)
    return DicomRead(volume, tuple(problems), first.dataset)


def stack_frames(instances: tuple[InstanceHeader, ...]) -> list[StackFrame]:
    """Every frame of every instance, keyed by the instance's index in ``instances``."""
    return [
        StackFrame(i, info, h.rows, h.columns, h.instance_number)
        for i, h in enumerate(instances)
        for info in h.frames
    ]


def _volume(
    series: SeriesFiles,
    plan: StackPlan,
    array: npt.NDArray[Any],
    affine: npt.NDArray[np.float64],
    first: InstanceHeader,
    resampled: bool,
) -> Volume:
    uids = tuple(dict.fromkeys(series.instances[f.source].sop_instance_uid for f in plan.frames))
    ref = SeriesRef(series.study_uid, series.series_uid, uids, first.sop_class_uid)
    step = ProvenanceStep(
        "ReadDicomSeries",
        {
            "series_uid": series.series_uid,
            "n_files": series.n_instances,
            "n_frames": len(plan.frames),
            "resample_irregular": resampled,
            "problems": tuple(p.code.value for p in plan.problems),
        },
    )
    return Volume(
        array,
        affine,
        frame_of_reference_uid=first.frame_of_reference_uid,
        modality=first.modality,
        provenance=(step,),
        source=ref,
    )


def _resample(
    array: npt.NDArray[Any], plan: StackPlan
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float64], Problem]:
    """Linear interpolation along the slice normal onto the plan's regular positions."""
    assert plan.positions is not None  # irregular plans always have positions
    src, dst = plan.positions, regular_positions(plan)
    upper = np.clip(np.searchsorted(src, dst, side="right"), 1, len(src) - 1)
    lower = upper - 1
    weight = ((dst - src[lower]) / (src[upper] - src[lower])).astype(np.float32)
    out = np.empty((len(dst), *array.shape[1:]), dtype=np.float32)
    for m, (lo, hi, w) in enumerate(zip(lower, upper, weight, strict=True)):
        np.multiply(array[lo], 1.0 - w, out=out[m], casting="unsafe")
        out[m] += w * array[hi].astype(np.float32)
    note = Problem(
        ProblemCode.RESAMPLED,
        f"resampled {len(src)} irregular slices onto "
        f"{len(dst)} slices {plan.spacing[0]:.4f} mm apart (linear)",
    )
    return out, np.array(plan.affine), note
