"""What is in a folder of DICOM files, from headers only (no pixel data is decoded).

Used by ``vesalius info``. :meth:`DicomSummary.to_json` gives::

    {"studies": [{"study_uid", "series": [{"series_uid", "modality", "n_instances",
      "shape": [z, y, x], "spacing": [z, y, x], "problems": [...], "orientation",
      "orientation_iop", "description"}]}],
     "non_image_objects": [...], "unreadable_files": [...]}

``orientation`` is ``axial``, ``coronal`` or ``sagittal`` when the slice normal is within
10 degrees of that axis, ``oblique`` otherwise, and ``unknown`` without geometry.

Examples
--------
>>> from pydicom.data import get_testdata_file
>>> s = summarize_dicom(get_testdata_file("CT_small.dcm"))
>>> series = s.studies[0].series[0]
>>> series.modality, series.shape, series.orientation
('CT', (1, 128, 128), 'axial')
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from vesalius.io.dicom_read import stack_frames
from vesalius.io.geometry import plan_stack
from vesalius.io.problems import Problem
from vesalius.io.scan import NonImageObject, PathInput, SeriesFiles, scan_dicom

_AXIS_COS = math.cos(math.radians(10.0))


@dataclass(frozen=True)
class SeriesSummary:
    """One image series: size, spacing, orientation and problems."""

    series_uid: str
    modality: str
    description: str
    n_instances: int
    shape: tuple[int, int, int]
    spacing: tuple[float, float, float]
    orientation: str
    orientation_iop: tuple[float, ...] | None
    problems: tuple[Problem, ...]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form (see the module docstring)."""
        return {
            "series_uid": self.series_uid,
            "modality": self.modality,
            "description": self.description,
            "n_instances": self.n_instances,
            "shape": list(self.shape),
            "spacing": [round(v, 6) for v in self.spacing],
            "orientation": self.orientation,
            "orientation_iop": None
            if self.orientation_iop is None
            else [round(v, 6) for v in self.orientation_iop],
            "problems": [p.to_json() for p in self.problems],
        }


@dataclass(frozen=True)
class StudySummary:
    """One study and its image series."""

    study_uid: str
    series: tuple[SeriesSummary, ...]


@dataclass(frozen=True)
class DicomSummary:
    """Studies, non-image objects, and files that could not be used."""

    studies: tuple[StudySummary, ...]
    non_images: tuple[NonImageObject, ...]
    file_problems: tuple[Problem, ...]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form (see the module docstring)."""
        return {
            "studies": [
                {"study_uid": st.study_uid, "series": [s.to_json() for s in st.series]}
                for st in self.studies
            ],
            "non_image_objects": [
                {
                    "path": o.path,
                    "study_uid": o.study_uid,
                    "series_uid": o.series_uid,
                    "sop_class": o.sop_class_name,
                    "modality": o.modality,
                    "reason": o.reason,
                }
                for o in self.non_images
            ],
            "unreadable_files": [p.to_json() for p in self.file_problems],
        }


def summarize_dicom(
    source: PathInput | Iterable[PathInput], *, recursive: bool = True
) -> DicomSummary:
    """Scan ``source`` and summarize every image series without decoding pixels."""
    scan = scan_dicom(source, recursive=recursive)
    studies: dict[str, list[SeriesSummary]] = {}
    for series in scan.series:
        studies.setdefault(series.study_uid, []).append(summarize_series(series))
    return DicomSummary(
        tuple(StudySummary(uid, tuple(items)) for uid, items in studies.items()),
        scan.non_images,
        scan.problems,
    )


def summarize_series(series: SeriesFiles) -> SeriesSummary:
    """Shape, spacing, orientation and problems of one scanned series (headers only)."""
    plan = plan_stack(
        stack_frames(series.instances), slice_spacing_hint=series.instances[0].slice_spacing_hint
    )
    iop = plan.orientation
    return SeriesSummary(
        series_uid=series.series_uid,
        modality=series.modality,
        description=series.description,
        n_instances=series.n_instances,
        shape=plan.shape,
        spacing=plan.spacing,
        orientation=orientation_label(iop),
        orientation_iop=iop,
        problems=plan.problems,
    )


def orientation_label(iop: tuple[float, ...] | None) -> str:
    """``axial``/``coronal``/``sagittal`` within 10 degrees, else ``oblique``.

    >>> orientation_label((1, 0, 0, 0, 0, -1)), orientation_label((0, 1, 0, 0, 0, -1))
    ('coronal', 'sagittal')
    >>> orientation_label((1, 0, 0, 0, 0.7071, 0.7071)), orientation_label(None)
    ('oblique', 'unknown')
    """
    if iop is None:
        return "unknown"
    r, c = iop[:3], iop[3:]
    normal = (r[1] * c[2] - r[2] * c[1], r[2] * c[0] - r[0] * c[2], r[0] * c[1] - r[1] * c[0])
    size = math.sqrt(sum(v * v for v in normal)) or 1.0
    for axis, label in ((2, "axial"), (1, "coronal"), (0, "sagittal")):
        if abs(normal[axis]) / size >= _AXIS_COS:
            return label
    return "oblique"
