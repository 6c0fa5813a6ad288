"""Reorient: axes permuted and flipped exactly, voxels stay where they are in the patient."""

from __future__ import annotations

import numpy as np
import pytest

from vesalius.core import Volume
from vesalius.standardize import Reorient, orientation_code, to_original_grid

from .phantoms import lps_of_every_voxel

# A sagittal acquisition: k runs to Left, j to Inferior... (columns k, j, i in LPS)
SAGITTAL = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])


def numbered(direction: np.ndarray | None = None) -> Volume:
    """Every voxel holds its own flat index, on an anisotropic grid."""
    return Volume.from_spacing(
        np.arange(4 * 5 * 6).reshape(4, 5, 6),
        spacing=(3.0, 0.7, 0.9),
        origin=(10.0, -20.0, 5.0),
        direction=direction,
    )


@pytest.mark.parametrize("code", ["LPS", "RAS", "PIR", "SLA", "ALI"])
@pytest.mark.parametrize("direction", [None, SAGITTAL], ids=["axial", "sagittal"])
def test_reorient_keeps_every_voxel_at_its_patient_position(code: str, direction: object) -> None:
    """A user would see organs move or mirror if reorienting changed any voxel's position."""
    vol = numbered(None if direction is None else np.asarray(direction))
    out = Reorient(code)(vol)
    assert orientation_code(out.grid) == code
    # Each output voxel's LPS position lands on the input voxel with the same value.
    positions = lps_of_every_voxel(out).reshape(-1, 3)
    src = vol.lps_to_index(positions)
    np.testing.assert_allclose(src, np.round(src), atol=1e-9)
    k, j, i = np.round(src).astype(int).T
    np.testing.assert_array_equal(vol.array[k, j, i], out.array.ravel())


def test_reorient_inverse_is_exact_for_a_label_map() -> None:
    """A label map mapped back from RAS must equal the one on the scanner grid, voxel for voxel."""
    vol = numbered(SAGITTAL)
    labels = (vol.array % 3).astype(np.uint8)
    out = Reorient("RAS")(vol)
    labels_ras = Reorient("RAS")(Volume(labels, vol.affine)).array
    back = to_original_grid(labels_ras, out)
    np.testing.assert_array_equal(back.array, labels)
    assert back.array.dtype == np.uint8
    np.testing.assert_array_equal(back.affine, vol.affine)


def test_reorient_records_grid_before_and_code() -> None:
    """The provenance must say what was done, so the step can be undone later."""
    vol = numbered()
    out = Reorient("ras")(vol)
    step = out.provenance[-1]
    assert step.name == "Reorient"
    assert step.params["code"] == "RAS"
    assert step.grid_before is not None
    assert step.grid_before.same_as(vol.grid)
    assert out.array.flags.c_contiguous


def test_reorient_to_the_current_orientation_changes_nothing() -> None:
    """Reorienting an LPS volume to LPS must not flip or move anything."""
    vol = numbered()
    out = Reorient("LPS")(vol)
    np.testing.assert_array_equal(out.array, vol.array)
    np.testing.assert_array_equal(out.affine, vol.affine)


@pytest.mark.parametrize("code", ["LPQ", "LLS", "RA", "RASL"])
def test_bad_orientation_code_is_refused(code: str) -> None:
    """A typo in the orientation code must fail at once, naming the code."""
    with pytest.raises(ValueError, match="orientation"):
        Reorient(code)
