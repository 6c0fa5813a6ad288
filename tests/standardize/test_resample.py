"""Resample and ResampleToGrid: right spacing, same field of view, values at the right place."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk  # noqa: N813 - the name every SimpleITK user knows

from vesalius.core import Grid, Volume
from vesalius.standardize import Resample, ResampleToGrid, spacing_grid
from vesalius.standardize.gridmap import grid_from_sitk, to_sitk

from .phantoms import lps_of_every_voxel

# Oblique and permuted: columns k, j, i are unit LPS vectors, none along an axis.
_C, _S = np.cos(0.3), np.sin(0.3)
OBLIQUE = np.array([[0.0, _C, -_S], [0.0, _S, _C], [1.0, 0.0, 0.0]])
SLOPE = np.array([0.5, -1.25, 2.0])


def ramp(
    shape: tuple[int, int, int],
    spacing: tuple[float, float, float],
    direction: np.ndarray | None = None,
) -> Volume:
    """A volume whose value is a linear function of the LPS position: exact under linear
    interpolation, so any geometry mistake shows up as a wrong value."""
    vol = Volume.from_spacing(
        np.zeros(shape, np.float32),
        spacing=spacing,
        origin=(3.0, -7.0, 11.0),
        direction=direction,
        modality="MR",
    )
    values = lps_of_every_voxel(vol) @ SLOPE + 100.0
    return Volume(values.astype(np.float32), vol.affine, modality="MR")


def interior(vol: Volume, margin: int = 2) -> tuple[slice, ...]:
    return tuple(slice(margin, n - margin) for n in vol.shape)


@pytest.mark.parametrize("direction", [None, OBLIQUE], ids=["axial", "oblique"])
def test_linear_resample_puts_values_at_the_right_patient_position(direction: object) -> None:
    """If (x, y, z) and (k, j, i) were mixed up with SimpleITK, values would land elsewhere."""
    vol = ramp((10, 16, 12), (3.0, 0.8, 1.1), None if direction is None else np.asarray(direction))
    out = Resample((1.5, 1.0, 0.9))(vol)
    assert out.spacing == pytest.approx((1.5, 1.0, 0.9))
    np.testing.assert_allclose(out.direction, vol.direction, atol=1e-12)
    expected = lps_of_every_voxel(out) @ SLOPE + 100.0
    sl = interior(out)
    np.testing.assert_allclose(out.array[sl], expected[sl], atol=1e-3)


def test_resample_keeps_the_field_of_view() -> None:
    """The resampled image must cover the same patient region, centred the same way."""
    vol = ramp((10, 16, 12), (3.0, 0.8, 1.1))
    out = Resample(1.0)(vol)
    assert out.shape == (30, 13, 13)
    centre = lambda v: v.index_to_lps([[(n - 1) / 2 for n in v.shape]])[0]  # noqa: E731
    np.testing.assert_allclose(centre(out), centre(vol), atol=1e-9)
    extent_in = np.array(vol.shape) * np.array(vol.spacing)
    extent_out = np.array(out.shape) * np.array(out.spacing)
    assert np.all(np.abs(extent_out - extent_in) <= np.array(out.spacing) / 2 + 1e-9)


def test_nearest_resample_keeps_labels_and_dtype() -> None:
    """A label map must stay a label map: no new label values, same integer dtype."""
    labels = np.zeros((8, 20, 20), np.uint8)
    labels[2:6, 5:15, 5:10] = 3
    labels[2:6, 5:15, 10:15] = 7
    vol = Volume.from_spacing(labels, spacing=(2.5, 0.6, 0.6))
    out = Resample(1.0, interpolation="nearest", fill=0)(vol)
    assert out.array.dtype == np.uint8
    assert set(np.unique(out.array)) == {0, 3, 7}
    # Physical volume of each label kept within a few percent.
    for value in (3, 7):
        before = np.count_nonzero(labels == value) * np.prod(vol.spacing)
        after = np.count_nonzero(out.array == value) * np.prod(out.spacing)
        assert after == pytest.approx(before, rel=0.1)


def test_linear_resample_of_integer_ct_gives_float32_and_air_padding(sphere_ct: Volume) -> None:
    """Interpolated CT must not be truncated to int16, and edges must be air, not 0 HU."""
    out = Resample(1.0)(sphere_ct)
    assert out.array.dtype == np.float32
    assert float(out.array.min()) == pytest.approx(-1000.0)
    assert float(out.array.max()) == pytest.approx(40.0, abs=1e-3)
    assert out.modality == "CT"
    assert out.provenance[-1].params["spacing"] == (1.0, 1.0, 1.0)


def test_bspline_resample_is_close_to_linear_on_smooth_data() -> None:
    """B-spline on a ramp must reproduce the ramp (within its boundary effects on a tiny image)."""
    vol = ramp((10, 16, 12), (2.0, 1.0, 1.0))
    out = Resample(1.3, interpolation="bspline")(vol)
    expected = lps_of_every_voxel(out) @ SLOPE + 100.0
    sl = interior(out, 3)
    np.testing.assert_allclose(out.array[sl], expected[sl], atol=0.1)


def test_resample_to_another_volumes_grid() -> None:
    """PET onto the CT grid: the result must have the CT grid and the right values."""
    pet = ramp((8, 10, 10), (4.0, 4.0, 4.0))
    target = Grid(
        (12, 14, 16),
        Volume.from_spacing(
            np.zeros((1, 1, 1)),
            spacing=(2.5, 2.0, 1.5),
            origin=(5.0, -3.0, 14.0),
            direction=OBLIQUE,
        ).affine,
    )
    out = ResampleToGrid(target, fill=-1.0)(pet)
    assert out.grid.same_as(target)
    inside = pet.lps_to_index(lps_of_every_voxel(out).reshape(-1, 3))
    ok = np.all((inside >= 0) & (inside <= np.array(pet.shape) - 1), axis=1).reshape(out.shape)
    expected = lps_of_every_voxel(out) @ SLOPE + 100.0
    np.testing.assert_allclose(out.array[ok], expected[ok], atol=1e-3)
    assert ok.any()
    assert (~ok).any()


def test_simpleitk_image_has_the_same_geometry_as_the_volume() -> None:
    """SimpleITK's index (i, j, k) and our (k, j, i) must reach the same LPS point."""
    vol = ramp((5, 6, 7), (3.0, 0.8, 1.1), OBLIQUE)
    image = to_sitk(vol.array, vol.grid)
    assert image.GetSize() == (7, 6, 5)
    for k, j, i in [(0, 0, 0), (4, 5, 6), (1, 2, 3)]:
        ours = vol.index_to_lps([[k, j, i]])[0]
        theirs = image.TransformIndexToPhysicalPoint((i, j, k))
        np.testing.assert_allclose(ours, theirs, atol=1e-9)
        assert image[i, j, k] == pytest.approx(float(vol.array[k, j, i]))
    assert grid_from_sitk(image).same_as(vol.grid)


def test_spacing_grid_rejects_bad_spacing() -> None:
    """A zero or negative spacing must be refused with a clear message."""
    grid = Grid((2, 2, 2), np.eye(4))
    with pytest.raises(ValueError, match="spacing"):
        spacing_grid(grid, (1.0, 0.0, 1.0))
    with pytest.raises(ValueError, match="interpolation"):
        Resample(1.0, interpolation="cubic")  # type: ignore[arg-type]


def test_sitk_reader_and_our_grid_agree_on_a_written_image(tmp_path: object) -> None:
    """An image written by SimpleITK and read back keeps the geometry we gave it."""
    from pathlib import Path

    vol = ramp((5, 6, 7), (3.0, 0.8, 1.1), OBLIQUE)
    path = Path(str(tmp_path)) / "ramp.nii.gz"
    sitk.WriteImage(to_sitk(vol.array, vol.grid), str(path))
    back = sitk.ReadImage(str(path))
    assert grid_from_sitk(back).same_as(vol.grid, tol_mm=1e-3)
