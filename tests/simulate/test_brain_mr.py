"""Brain MR phantom: T1 contrast, tissue volumes, atrophy, written series."""

from __future__ import annotations

import json

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk  # noqa: N813

from vesalius.errors import InputError
from vesalius.simulate.brain_mr import BrainMR, BrainMRSpec, brain_mr
from vesalius.simulate.study import WrittenPhantom
from vesalius.simulate.truth import read_label_nifti


def test_t1_contrast_orders_wm_gm_csf(brain: BrainMR) -> None:
    """A T1 image where CSF is brighter than WM would mislead every segmenter."""
    arr = brain.volume.array
    med = [float(np.median(arr[brain.labels == v])) for v in (1, 2, 3)]
    assert med[2] > med[1] > med[0]


def test_recorded_volumes_are_label_counts(brain: BrainMR, brain_written: WrittenPhantom) -> None:
    """Tissue volumes in ground_truth.json equal the label map on disk."""
    truth = json.loads(brain_written.truth_path.read_text())["truth"]
    labels, affine = read_label_nifti(brain_written.folder / "labels_tissue.nii.gz")
    np.testing.assert_allclose(affine, brain.volume.affine, atol=1e-6)
    ml = float(np.prod(brain.volume.spacing)) / 1000
    for key, value in (("csf_volume_ml", 1), ("gm_volume_ml", 2), ("wm_volume_ml", 3)):
        assert np.count_nonzero(labels == value) * ml == pytest.approx(truth[key])
        assert truth[key] > 50


def test_atrophy_thins_gm_and_grows_csf() -> None:
    """More atrophy: less grey matter, more CSF and larger ventricles, same WM core."""
    spec = BrainMRSpec(shape=(32, 48, 48), noise=0.0)
    young = brain_mr(spec, seed=0).truth
    old = brain_mr(BrainMRSpec(shape=(32, 48, 48), noise=0.0, atrophy=0.8), seed=0).truth
    assert old.gm_volume_ml < young.gm_volume_ml
    assert old.csf_volume_ml > young.csf_volume_ml
    assert old.ventricle_volume_ml > 1.5 * young.ventricle_volume_ml


def test_written_mr_reads_back_identically(brain: BrainMR, brain_written: WrittenPhantom) -> None:
    """pydicom and SimpleITK read the MR series as the volume that was built."""
    files = brain_written.series[0].files
    arr = np.stack([pydicom.dcmread(p).pixel_array for p in files])
    np.testing.assert_array_equal(arr, brain.volume.array)
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames([str(p) for p in files])
    np.testing.assert_array_equal(sitk.GetArrayFromImage(reader.Execute()), brain.volume.array)


def test_bias_and_noise_are_seeded() -> None:
    """Same seed, same image; another seed, another bias field and noise."""
    spec = BrainMRSpec(shape=(16, 24, 24))
    a, b, c = brain_mr(spec, seed=3), brain_mr(spec, seed=3), brain_mr(spec, seed=4)
    assert a.volume.array.tobytes() == b.volume.array.tobytes()
    assert a.truth.bias != c.truth.bias
    assert a.volume.frame_of_reference_uid == b.volume.frame_of_reference_uid


def test_atrophy_outside_range_is_a_user_error() -> None:
    """Atrophy is a fraction; 2.0 is rejected with a message naming it."""
    with pytest.raises(InputError, match="atrophy"):
        BrainMRSpec(atrophy=2.0)
