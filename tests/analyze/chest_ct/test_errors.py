"""Bad input gets the right Vesalius error, naming the problem."""

from __future__ import annotations

import numpy as np
import pytest

from vesalius.analyze.chest_ct import emphysema_index, segment_lungs
from vesalius.analyze.chest_ct.results import LungSegmentation
from vesalius.core import Volume
from vesalius.errors import GeometryError, InputError, UnsupportedError
from vesalius.simulate.chest_ct import ChestCTSpec, chest_ct


def test_sagittal_ct_is_refused_with_a_hint_to_reorient() -> None:
    """A sagittal stack would be segmented nonsensically; the user must be told to reorient."""
    sagittal = np.eye(3)  # slices step along x (left), rows along y, columns along z
    vol = Volume.from_spacing(np.zeros((8, 8, 8), np.int16), direction=sagittal, modality="CT")
    with pytest.raises(UnsupportedError, match="axial"):
        segment_lungs(vol)


def test_mr_is_refused() -> None:
    """An MR has no HU: segmenting lungs on it would be meaningless."""
    vol = Volume.from_spacing(np.zeros((8, 8, 8), np.int16), modality="MR")
    with pytest.raises(UnsupportedError, match="modality MR"):
        segment_lungs(vol)


def test_ct_without_lung_air_says_so() -> None:
    """A water phantom (no air inside the body) must give a clear error, not empty lungs."""
    hu = np.full((10, 40, 40), -1000, np.int16)
    hu[:, 5:35, 5:35] = 0
    vol = Volume.from_spacing(hu, spacing=(5.0, 5.0, 5.0), modality="CT")
    with pytest.raises(InputError, match="no lung-like air"):
        segment_lungs(vol)


def test_unknown_prefilter_and_foreign_grid_are_refused() -> None:
    """A typo in the prefilter or a segmentation of another CT must not give a number."""
    ct = chest_ct(ChestCTSpec(shape=(20, 48, 48)), seed=0)
    labels = Volume.from_spacing(np.zeros((20, 48, 48), np.uint8), spacing=(9.0, 9.0, 9.0))
    seg = LungSegmentation.from_label_map(labels, trachea_found=False)
    with pytest.raises(InputError, match="prefilter"):
        emphysema_index(ct.volume, seg, prefilter="gauss")
    with pytest.raises(GeometryError, match="grid"):
        emphysema_index(ct.volume, seg)
