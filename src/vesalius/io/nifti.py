"""NIfTI-1 reading and writing with nibabel, with the axis and sign conventions converted.

NIfTI indexes its data ``(i, j, k)`` = ``(x, y, z)`` and its affine maps to **RAS** mm;
a :class:`~vesalius.core.Volume` indexes ``[k, j, i]`` and maps to **LPS** mm. So the data
are transposed ``(2, 1, 0)``, the affine's columns are reversed, and its first two rows
negated. Writing stores the affine as sform (code 1, scanner) and, when it has no shear, as
qform too; reading uses nibabel's choice (sform when set, else qform).

Examples
--------
>>> import numpy as np, tempfile, pathlib
>>> vol = Volume.from_spacing(np.arange(24, dtype=np.int16).reshape(2, 3, 4),
...                           spacing=(3.0, 0.5, 0.7), origin=(10.0, -20.0, 5.0))
>>> path = pathlib.Path(tempfile.mkdtemp()) / "v.nii.gz"
>>> write_nifti(vol, path)
>>> back = read_nifti(path)
>>> np.array_equal(back.array, vol.array), np.allclose(back.affine, vol.affine, atol=1e-4)
(True, True)
"""

from __future__ import annotations

import logging
from os import PathLike
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import numpy.typing as npt

from vesalius.core import ProvenanceStep, Volume
from vesalius.errors import NiftiError
from vesalius.io.atomic import write_atomically

logger = logging.getLogger(__name__)

_SWAP = np.array([[0, 0, 1, 0], [0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]], dtype=np.float64)
_LPS_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])
NIFTI_SUFFIXES = (".nii", ".nii.gz")


def is_nifti_path(path: str | PathLike[str]) -> bool:
    """Whether the file name ends in ``.nii`` or ``.nii.gz``.

    >>> is_nifti_path("a/b.nii.gz"), is_nifti_path("a/b.dcm")
    (True, False)
    """
    return str(path).lower().endswith(NIFTI_SUFFIXES)


def lps_to_nifti_affine(affine: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Volume affine (``(k, j, i)`` -> LPS) to NIfTI affine (``(i, j, k)`` -> RAS).

    An axial volume with spacing ``(z, y, x) = (3, 2, 1)`` has voxel sizes ``(1, 2, 3)``
    along NIfTI's ``(i, j, k)``, with i pointing Left (so -R) and j Posterior (so -A):

    >>> axial = Volume.from_spacing(np.zeros((1, 1, 1)), spacing=(3.0, 2.0, 1.0)).affine
    >>> lps_to_nifti_affine(axial).diagonal().tolist()
    [-1.0, -2.0, 3.0, 1.0]
    """
    return np.asarray(_LPS_RAS @ np.asarray(affine, dtype=np.float64) @ _SWAP, dtype=np.float64)


def nifti_to_lps_affine(affine: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """NIfTI affine (``(i, j, k)`` -> RAS) to Volume affine (``(k, j, i)`` -> LPS)."""
    return np.asarray(_LPS_RAS @ np.asarray(affine, dtype=np.float64) @ _SWAP, dtype=np.float64)


def read_nifti(path: str | PathLike[str], *, modality: str = "OT") -> Volume:
    """Read a 3-D NIfTI file (a 4-D file with one volume is accepted) into a Volume.

    Raises
    ------
    NiftiError
        If the file is missing, not NIfTI, truncated, or not 3-D.
    """
    name = str(path)
    if not Path(name).is_file():
        raise NiftiError(name, "no such file")
    try:
        image: Any = nib.load(name)
        data = np.asanyarray(image.dataobj)
        nifti_affine = np.asarray(image.affine, dtype=np.float64)
    except Exception as err:  # nibabel raises many types on broken files
        raise NiftiError(name, f"not a readable NIfTI file: {type(err).__name__}: {err}") from None
    if data.ndim == 4 and data.shape[3] == 1:
        data = data[..., 0]
    if data.ndim != 3:
        raise NiftiError(name, f"expected a 3-D image, found shape {data.shape}")
    array = np.ascontiguousarray(data.transpose(2, 1, 0))
    try:
        affine = nifti_to_lps_affine(nifti_affine)
        step = ProvenanceStep("ReadNifti", {"path": name})
        return Volume(array, affine, modality=modality, provenance=(step,))
    except ValueError as err:
        raise NiftiError(name, f"unusable image: {err}") from None


def write_nifti(volume: Volume, path: str | PathLike[str]) -> None:
    """Write ``volume`` to ``path`` (``.nii`` or ``.nii.gz``), atomically.

    Raises
    ------
    NiftiError
        If the name does not end in ``.nii``/``.nii.gz`` or the folder is not writable.
    """
    name = str(path)
    if not is_nifti_path(name):
        raise NiftiError(name, "a NIfTI file name must end in .nii or .nii.gz")
    affine = lps_to_nifti_affine(volume.affine)
    make: Any = nib.Nifti1Image
    image: Any = make(np.asarray(volume.array).transpose(2, 1, 0), affine)
    image.set_sform(affine, code=1)
    image.set_qform(affine, code=1 if _orthogonal(affine) else 0)
    image.header.set_xyzt_units("mm", "sec")
    try:
        write_atomically(name, lambda temp: nib.save(image, temp))
    except OSError as err:
        raise NiftiError(name, f"cannot write: {err}") from None
    logger.debug("wrote %s %s", name, volume.shape)


def _orthogonal(affine: npt.NDArray[np.float64]) -> bool:
    axes = affine[:3, :3] / np.linalg.norm(affine[:3, :3], axis=0)
    return bool(np.allclose(axes.T @ axes, np.eye(3), atol=1e-6))
