"""Intensity steps: CT clamping, MR z-score and percentile scaling, Otsu foreground."""

from __future__ import annotations

import numpy as np
import pytest

from vesalius.core import SeriesRef, Volume
from vesalius.errors import InputError, UnsupportedError
from vesalius.standardize import (
    CTToHU,
    PercentileScale,
    ZScoreNormalize,
    foreground_mask,
    otsu_threshold,
)


def two_tissue_mr(seed: int = 0) -> Volume:
    """Background ~ 10, a head of two tissues ~ 300 and ~ 600, with noise."""
    rng = np.random.default_rng(seed)
    array = rng.normal(10.0, 3.0, (12, 32, 32))
    array[2:10, 6:26, 6:16] = rng.normal(300.0, 20.0, (8, 20, 10))
    array[2:10, 6:26, 16:26] = rng.normal(600.0, 30.0, (8, 20, 10))
    return Volume.from_spacing(
        array.astype(np.float32), modality="MR", source=SeriesRef("1.2", "1.2.3")
    )


def test_ct_clamped_to_hu_window_keeps_int16() -> None:
    """Padding at -3024 and metal at 8000 HU are clamped; no needless float conversion."""
    ct = Volume.from_spacing(np.array([[[-3024, -1024, 0, 3071, 8000]]], np.int16), modality="CT")
    out = CTToHU()(ct)
    assert out.array.dtype == np.int16
    assert out.array.ravel().tolist() == [-1024, -1024, 0, 3071, 3071]
    step = out.provenance[-1]
    assert step.name == "CTToHU"
    assert step.grid_before is None
    assert step.params == {"low": -1024.0, "high": 3071.0}


def test_ct_clamp_refuses_mr_naming_the_series() -> None:
    """Clamping an MR to HU is a mistake the user must hear about, with the series named."""
    with pytest.raises(UnsupportedError, match=r"series 1\.2\.3: CTToHU needs a CT"):
        CTToHU()(two_tissue_mr())


def test_ct_clamp_on_uint8_switches_to_float() -> None:
    """A window that does not fit the dtype must not wrap around."""
    ct = Volume.from_spacing(np.array([[[0, 200]]], np.uint8), modality="CT")
    out = CTToHU()(ct)
    assert out.array.dtype == np.float32
    assert out.array.ravel().tolist() == [0.0, 200.0]


def test_zscore_with_otsu_foreground_has_zero_mean_unit_std_in_the_head() -> None:
    """After z-scoring, the head (not the air around it) has mean 0 and std 1."""
    mr = two_tissue_mr()
    mask = foreground_mask(mr)
    head = np.zeros(mr.shape, bool)
    head[2:10, 6:26, 6:26] = True
    assert not np.any(mask & ~head)  # no background in the mask
    assert np.count_nonzero(mask & head) >= 0.99 * np.count_nonzero(head)
    out = ZScoreNormalize()(mr)
    assert out.array.dtype == np.float32
    assert float(out.array[mask].mean()) == pytest.approx(0.0, abs=1e-4)
    assert float(out.array[mask].std()) == pytest.approx(1.0, abs=1e-4)
    assert out.provenance[-1].params["mask"] is None


def test_zscore_with_a_given_mask_uses_only_that_mask() -> None:
    """A user-given mask (e.g. brain) is what the statistics come from."""
    mr = two_tissue_mr()
    mask = np.zeros(mr.shape, bool)
    mask[2:10, 6:26, 16:26] = True
    out = ZScoreNormalize(mask=mask)(mr)
    assert float(out.array[mask].mean()) == pytest.approx(0.0, abs=1e-4)
    assert out.provenance[-1].params["mask"] == {"array_shape": [12, 32, 32], "nonzero": 1600}
    with pytest.raises(InputError, match="mask has shape"):
        ZScoreNormalize(mask=np.ones((2, 2, 2), bool))(mr)


def test_zscore_of_a_constant_image_is_refused() -> None:
    """A blank series cannot be normalized: clear error instead of NaNs everywhere."""
    blank = Volume.from_spacing(np.full((2, 3, 3), 7.0), modality="MR")
    with pytest.raises(UnsupportedError, match="constant"):
        ZScoreNormalize()(blank)
    with pytest.raises(UnsupportedError, match="constant"):
        ZScoreNormalize(mask=np.ones((2, 3, 3), bool))(blank)


def test_percentile_scaling_maps_to_0_1() -> None:
    """0.5/99.5 percentiles go to 0/1, order of values is kept, outliers are clipped."""
    mr = two_tissue_mr()
    out = PercentileScale()(mr)
    lo, hi = np.percentile(mr.array, [0.5, 99.5])
    assert float(out.array.min()) == 0.0
    assert float(out.array.max()) == 1.0
    mid = (mr.array > lo) & (mr.array < hi)
    np.testing.assert_allclose(out.array[mid], (mr.array[mid] - lo) / (hi - lo), atol=1e-6)
    with pytest.raises(ValueError, match="percentiles"):
        PercentileScale(low=90.0, high=10.0)


def test_otsu_separates_two_classes() -> None:
    """Otsu's cut lies between two well separated intensity classes."""
    rng = np.random.default_rng(1)
    values = np.concatenate([rng.normal(0, 1, 1000), rng.normal(20, 1, 300)])
    assert 8.0 < otsu_threshold(values) < 12.0  # the middle of the gap between the classes
    with pytest.raises(ValueError, match="distinct"):
        otsu_threshold(np.ones(5))
