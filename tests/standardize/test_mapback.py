"""to_original_grid: results on the standardized grid come back onto the scanner grid."""

from __future__ import annotations

import numpy as np
import pytest

from vesalius.core import Volume
from vesalius.standardize import (
    CropOrPad,
    CTToHU,
    Reorient,
    Resample,
    original_grid,
    to_original_grid,
)

from .phantoms import dice, sphere_volume

OBLIQUE = np.array(
    [[0.0, np.cos(0.4), -np.sin(0.4)], [0.0, np.sin(0.4), np.cos(0.4)], [1.0, 0.0, 0.0]]
)


def standardize(vol: Volume) -> Volume:
    return CropOrPad((40, 36, 36), pad_value=-1000)(Resample(1.0)(CTToHU()(Reorient("RAS")(vol))))


@pytest.mark.parametrize("direction", [None, OBLIQUE], ids=["axial", "oblique"])
def test_segmentation_on_standard_grid_maps_back_onto_the_scanner_grid(direction: object) -> None:
    """A model's mask must land on the same voxels the lesion occupies in the original scan."""
    vol = sphere_volume(direction=None if direction is None else np.asarray(direction))
    std = standardize(vol)
    assert std.spacing == pytest.approx((1.0, 1.0, 1.0))
    segmented = (std.array > -480).astype(np.uint8)  # "segment" on the standardized grid
    back = to_original_grid(segmented, std, interpolation="nearest")
    assert back.grid.same_as(vol.grid)
    assert back.array.dtype == np.uint8
    reference = vol.array > -480  # the same segmentation done on the original
    assert dice(back.array.astype(bool), reference) > 0.95


def test_probability_map_maps_back_with_linear_interpolation(sphere_ct: Volume) -> None:
    """A probability map comes back as float values in [0, 1], high inside the sphere."""
    std = standardize(sphere_ct)
    prob = np.clip((std.array + 1000.0) / 1040.0, 0.0, 1.0).astype(np.float32)
    back = to_original_grid(prob, std, interpolation="linear")
    assert back.array.dtype == np.float32
    assert float(back.array.min()) >= 0.0
    assert float(back.array.max()) <= 1.0
    assert dice(back.array > 0.5, sphere_ct.array > -480) > 0.95


def test_mapping_back_records_what_was_undone(sphere_ct: Volume) -> None:
    """The mapped-back result says which steps were undone, so it can be audited."""
    std = standardize(sphere_ct)
    back = to_original_grid(std, std, interpolation="linear")
    step = back.provenance[-1]
    assert step.name == "ToOriginalGrid"
    assert step.params["undone"] == ("CropOrPad", "Resample", "Reorient")
    assert original_grid(std).same_as(sphere_ct.grid)


def test_a_result_of_the_wrong_shape_is_refused(sphere_ct: Volume) -> None:
    """Passing a mask from another image must fail loudly, not be resampled silently."""
    std = standardize(sphere_ct)
    with pytest.raises(ValueError, match="shape"):
        to_original_grid(np.zeros((2, 2, 2)), std)


def test_volume_without_geometric_steps_maps_onto_itself(sphere_ct: Volume) -> None:
    """Intensity-only standardization leaves the grid alone; mapping back is the identity."""
    std = CTToHU()(sphere_ct)
    back = to_original_grid(std.array, std)
    np.testing.assert_array_equal(back.array, std.array)
