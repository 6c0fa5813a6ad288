"""Test helper: rasterize an RTSTRUCT ROI onto a Volume's grid (even-odd fill per slice).

Each CLOSED_PLANAR contour is mapped from LPS mm to fractional indices of the volume, put
on its nearest slice and filled by the even-odd rule at the voxel centres, so a voxel is in
the ROI when its centre is inside an odd number of that slice's contours (holes work).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pydicom

from vesalius.core import Volume


def _even_odd(shape: tuple[int, int], poly: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    """Voxel centres (row j, column i) inside the polygon ``poly`` of (j, i) vertices."""
    jj, ii = np.mgrid[0 : shape[0], 0 : shape[1]]
    inside = np.zeros(shape, bool)
    j0, i0 = poly[:, 0], poly[:, 1]
    j1, i1 = np.roll(j0, -1), np.roll(i0, -1)
    for a_j, a_i, b_j, b_i in zip(j0, i0, j1, i1, strict=True):
        if a_j == b_j:
            continue
        crosses = (a_j > jj) != (b_j > jj)
        i_at = a_i + (jj - a_j) * (b_i - a_i) / (b_j - a_j)
        inside ^= crosses & (ii < i_at)
    return inside


def rasterize_roi(rtstruct: Path, volume: Volume, roi_name: str) -> npt.NDArray[np.bool_]:
    """Boolean mask on ``volume``'s grid of the ROI called ``roi_name``."""
    ds = pydicom.dcmread(rtstruct)
    number = next(r.ROINumber for r in ds.StructureSetROISequence if r.ROIName == roi_name)
    contours = next(
        rc.ContourSequence for rc in ds.ROIContourSequence if rc.ReferencedROINumber == number
    )
    mask = np.zeros(volume.shape, bool)
    for contour in contours:
        points = np.asarray(contour.ContourData, dtype=np.float64).reshape(-1, 3)
        index = volume.lps_to_index(points)
        k = int(np.rint(index[:, 0].mean()))
        if 0 <= k < volume.shape[0]:
            mask[k] ^= _even_odd(volume.shape[1:], index[:, 1:])
    return mask
