"""Ground-truth plumbing shared by all phantoms: label tables, JSON and NIfTI writing.

Truth objects are frozen dataclasses; :func:`truth_to_json` turns any of them into plain
JSON (tuples become lists, numpy scalars become numbers). Label maps are written as
gzipped NIfTI-1 with nibabel, in NIfTI's own convention: the array is transposed to
``(i, j, k)`` and the affine converted from LPS to RAS, so any NIfTI viewer overlays them
on the DICOM series.

Examples
--------
>>> import numpy as np
>>> table = label_table(np.array([[[0, 1, 1, 2]]], np.uint8), {1: "a", 2: "b"}, voxel_ml=0.5)
>>> [(e.name, e.voxels, e.volume_ml) for e in table]
[('a', 2, 1.0), ('b', 1, 0.5)]
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from vesalius.errors import InputError, NiftiError
from vesalius.io.atomic import write_bytes_atomic

LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


@dataclasses.dataclass(frozen=True)
class LabelEntry:
    """One value of a label map: its name, voxel count and volume in mL."""

    value: int
    name: str
    voxels: int
    volume_ml: float


def label_table(
    labels: npt.NDArray[np.integer[Any]], names: Mapping[int, str], *, voxel_ml: float
) -> tuple[LabelEntry, ...]:
    """Count each named label value of ``labels``."""
    counts = np.bincount(labels.ravel(), minlength=max(names, default=0) + 1)
    return tuple(
        LabelEntry(int(v), name, int(counts[v]), float(counts[v]) * voxel_ml)
        for v, name in sorted(names.items())
    )


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def truth_to_json(truth: object) -> dict[str, Any]:
    """A JSON-ready dict of a truth dataclass.

    Examples
    --------
    >>> truth_to_json(LabelEntry(1, "lung", 10, 0.01))
    {'value': 1, 'name': 'lung', 'voxels': 10, 'volume_ml': 0.01}
    """
    out = _plain(truth)
    if not isinstance(out, dict):
        raise TypeError(f"expected a dataclass, found {type(truth).__name__}")
    return out


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a fsynced temporary file in the same folder."""
    try:
        write_bytes_atomic(path, data)
    except OSError as err:
        raise InputError(path, f"cannot write: {err.strerror or err}") from err


def write_truth_json(truth: object, path: Path) -> None:
    """Write ``truth`` as indented JSON to ``path`` (atomically)."""
    text = json.dumps(truth_to_json(truth), indent=2, sort_keys=False, allow_nan=False)
    atomic_write_bytes(path, (text + "\n").encode("utf-8"))


def nifti_affine(affine_kji_lps: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """NIfTI affine ((i, j, k) -> RAS) of a Vesalius ((k, j, i) -> LPS) affine.

    Examples
    --------
    >>> axial = np.array([[0, 0, 1.0, 0], [0, 2.0, 0, 0], [3.0, 0, 0, 0], [0, 0, 0, 1]])
    >>> nifti_affine(axial).diagonal().tolist()  # k (z, 3 mm) is NIfTI's third axis
    [-1.0, -2.0, 3.0, 1.0]
    """
    out = LPS_TO_RAS @ affine_kji_lps
    return np.asarray(out[:, [2, 1, 0, 3]], np.float64)


def write_label_nifti(
    labels: npt.NDArray[np.uint8], affine_kji_lps: npt.NDArray[np.float64], path: Path
) -> None:
    """Write a ``(z, y, x)`` label map as a gzipped NIfTI-1 file (atomically)."""
    import nibabel as nib

    data = np.ascontiguousarray(np.transpose(labels, (2, 1, 0)))
    affine = nifti_affine(affine_kji_lps)
    image: Any = nib.Nifti1Image(data, affine)  # type: ignore[no-untyped-call]
    image.header.set_xyzt_units("mm")
    image.set_qform(affine, code=1)
    image.set_sform(affine, code=1)
    try:
        payload = image.to_bytes()
    except Exception as err:  # nibabel raises several types for unwritable images
        raise NiftiError(path, f"cannot encode label map: {err}") from err
    import gzip

    atomic_write_bytes(path, gzip.compress(payload, compresslevel=1, mtime=0))


def read_label_nifti(path: Path) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.float64]]:
    """Read a label map written by :func:`write_label_nifti`: ``(z, y, x)`` array, LPS affine."""
    import nibabel as nib

    try:
        image: Any = nib.load(str(path))
    except Exception as err:  # nibabel raises several types for unreadable files
        raise NiftiError(path, f"cannot read label map: {err}") from err
    data = np.asarray(image.dataobj, dtype=np.uint8).transpose(2, 1, 0)
    affine = LPS_TO_RAS @ np.asarray(image.affine, np.float64)[:, [2, 1, 0, 3]]
    return data, affine
