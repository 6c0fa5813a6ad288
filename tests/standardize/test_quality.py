"""Input quality checks: obviously bad volumes are flagged with typed issues."""

from __future__ import annotations

import numpy as np

from vesalius.core import Volume
from vesalius.standardize import QualityLimits, check_quality

from .phantoms import sphere_volume


def codes(vol: Volume, **kwargs: object) -> list[str]:
    return [issue.code for issue in check_quality(vol, **kwargs)]  # type: ignore[arg-type]


def test_a_good_ct_has_no_issues() -> None:
    """A plausible CT (air and tissue in HU, enough slices) passes silently."""
    assert codes(sphere_volume()) == []


def test_ct_without_rescale_is_flagged() -> None:
    """Stored values (0..1040) instead of HU: air is not near -1000, so the rescale is missing."""
    good = sphere_volume()
    raw = Volume(good.array + 1000, good.affine, modality="CT")
    issues = check_quality(raw)
    assert [i.code for i in issues] == ["ct-no-air"]
    assert issues[0].severity == "warning"
    assert issues[0].value == 0.0


def test_ct_values_beyond_physical_limits_are_an_error() -> None:
    """Values below -3100 HU cannot be a CT in HU."""
    good = sphere_volume()
    array = good.array.copy()
    array[0, 0, 0] = -32768
    issues = check_quality(Volume(array, good.affine, modality="CT"))
    assert any(i.code == "ct-out-of-range" and i.severity == "error" for i in issues)


def test_nans_are_an_error_and_counted() -> None:
    """NaNs poison every later statistic: flagged with their count."""
    array = np.random.default_rng(0).normal(size=(10, 8, 8)).astype(np.float32)
    array[1, 2, 3] = np.nan
    array[4, 5, 6] = np.inf
    issues = check_quality(Volume.from_spacing(array, modality="MR"))
    assert [(i.code, i.value) for i in issues] == [("non-finite", 2.0)]


def test_constant_image_is_an_error() -> None:
    """A blank series (every voxel equal) is flagged."""
    blank = Volume.from_spacing(np.zeros((10, 4, 4), np.float32), modality="MR")
    assert codes(blank) == ["constant-image"]


def test_few_slices_and_anisotropic_voxels_are_warnings() -> None:
    """Three 6 mm slices of 1 mm pixels: too few slices, and 6:1 voxels."""
    array = np.random.default_rng(0).normal(size=(3, 8, 8))
    vol = Volume.from_spacing(array, spacing=(6.0, 1.0, 1.0), modality="MR")
    assert codes(vol) == ["too-few-slices", "anisotropic-voxels"]
    assert codes(vol, limits=QualityLimits(min_slices=2, max_anisotropy=10.0)) == []
