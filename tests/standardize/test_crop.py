"""CropOrPad and RandomCrop: whole-voxel crops and pads that keep positions in the patient."""

from __future__ import annotations

import numpy as np
import pytest

from vesalius.core import Volume
from vesalius.errors import InputError
from vesalius.standardize import CropOrPad, RandomCrop, to_original_grid

from .phantoms import lps_of_every_voxel


def numbered() -> Volume:
    return Volume.from_spacing(
        np.arange(6 * 8 * 10, dtype=np.int16).reshape(6, 8, 10),
        spacing=(2.0, 0.5, 0.75),
        origin=(1.0, 2.0, 3.0),
        modality="CT",
    )


def assert_positions_kept(vol: Volume, out: Volume, pad_value: float) -> None:
    """Each output voxel either shows the input voxel at its LPS position or the pad value."""
    src = np.round(vol.lps_to_index(lps_of_every_voxel(out).reshape(-1, 3))).astype(int)
    inside = np.all((src >= 0) & (src < np.array(vol.shape)), axis=1)
    flat = out.array.ravel()
    k, j, i = src[inside].T
    np.testing.assert_array_equal(flat[inside], vol.array[k, j, i])
    assert np.all(flat[~inside] == pad_value)


def test_centre_crop_and_pad_keep_positions_and_pad_value() -> None:
    """Cropping one axis and padding another must not shift the anatomy."""
    vol = numbered()
    out = CropOrPad((4, 12, 7), pad_value=-1024)(vol)
    assert out.shape == (4, 12, 7)
    assert out.array.dtype == np.int16
    assert_positions_kept(vol, out, -1024)


def test_crop_to_mask_bounding_box_with_margin() -> None:
    """Cropping to a lesion mask must keep the whole lesion plus the margin, nothing more."""
    vol = numbered()
    mask = np.zeros(vol.shape, bool)
    mask[2:4, 3:5, 6:9] = True
    crop = CropOrPad.to_mask(Volume(mask, vol.affine), margin=(1, 2, 2))
    out = crop(vol)
    assert out.shape == (4, 6, 7)  # x: 6..8 plus 2 each side = 4..10, past the edge by one
    assert_positions_kept(vol, out, 0)
    lesion = crop(Volume(mask, vol.affine))
    assert np.count_nonzero(lesion.array) == np.count_nonzero(mask)


def test_crop_to_an_empty_mask_is_a_clear_error() -> None:
    """An empty mask has no bounding box: the user must be told, not get a 0-voxel image."""
    with pytest.raises(InputError, match="empty"):
        CropOrPad.to_mask(np.zeros((3, 3, 3), bool))


def test_fractional_pad_value_on_integers_switches_to_float() -> None:
    """A pad value that int16 cannot hold must not be silently rounded."""
    out = CropOrPad((6, 10, 10), pad_value=0.5)(numbered())
    assert out.array.dtype == np.float32
    assert float(out.array[0, 0, 0]) == 0.5


def test_crop_maps_back_with_fill_outside() -> None:
    """A result on the crop maps back exactly; what was cropped away gets the fill value."""
    vol = numbered()
    out = CropOrPad((4, 4, 4), start=(1, 2, 3))(vol)
    back = to_original_grid(out.array, out, fill=-7)
    expected = np.full(vol.shape, -7, np.int16)
    expected[1:5, 2:6, 3:7] = vol.array[1:5, 2:6, 3:7]
    np.testing.assert_array_equal(back.array, expected)


def test_random_crop_is_recorded_as_its_deterministic_twin() -> None:
    """A random crop must be reproducible from the record and lie inside the image."""
    vol = numbered()
    crop = RandomCrop((3, 4, 5), rng=np.random.default_rng(42))
    outs = [crop(vol) for _ in range(5)]
    for out in outs:
        step = out.provenance[-1]
        assert step.name == "CropOrPad"
        assert isinstance(step.operator, CropOrPad)
        start = step.params["start"]
        assert isinstance(start, tuple)
        assert all(0 <= s <= n - m for s, n, m in zip(start, vol.shape, (3, 4, 5), strict=True))
        np.testing.assert_array_equal(step.operator(vol).array, out.array)
        assert_positions_kept(vol, out, 0)
    assert len({out.provenance[-1].params["start"] for out in outs}) > 1
    with pytest.raises(ValueError, match="larger"):
        RandomCrop((7, 1, 1))(vol)
