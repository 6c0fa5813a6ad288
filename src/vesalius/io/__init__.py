"""io stage: DICOM series and NIfTI files to and from :class:`~vesalius.core.Volume`.

- :func:`scan_dicom` groups files by study and series from headers only;
- :func:`read_dicom` / :func:`read_series` read one series (classic or enhanced multi-frame,
  any transfer syntax pydicom's plugins decode) into a volume plus typed problems;
- :func:`summarize_dicom` describes a folder without decoding pixels (``vesalius info``);
- :func:`read_nifti` / :func:`write_nifti` convert between NIfTI (RAS) and Volume (LPS).

Submodules are imported on first use, so importing :mod:`vesalius.io` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vesalius.io.dicom_read import DicomRead, read_dicom, read_series
    from vesalius.io.nifti import read_nifti, write_nifti
    from vesalius.io.problems import Problem, ProblemCode
    from vesalius.io.scan import DicomScan, NonImageObject, SeriesFiles, scan_dicom
    from vesalius.io.summary import DicomSummary, summarize_dicom

_WHERE = {
    "DicomRead": "dicom_read",
    "read_dicom": "dicom_read",
    "read_series": "dicom_read",
    "read_nifti": "nifti",
    "write_nifti": "nifti",
    "Problem": "problems",
    "ProblemCode": "problems",
    "DicomScan": "scan",
    "NonImageObject": "scan",
    "SeriesFiles": "scan",
    "scan_dicom": "scan",
    "DicomSummary": "summary",
    "summarize_dicom": "summary",
}

__all__ = [
    "DicomRead",
    "DicomScan",
    "DicomSummary",
    "NonImageObject",
    "Problem",
    "ProblemCode",
    "SeriesFiles",
    "read_dicom",
    "read_nifti",
    "read_series",
    "scan_dicom",
    "summarize_dicom",
    "write_nifti",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'vesalius.io' has no attribute {name!r}")
    return getattr(importlib.import_module(f"vesalius.io.{module}"), name)
