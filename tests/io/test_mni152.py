"""The MNI152 T1 template and grey-matter map (shipped by nilearn) read with correct geometry.

A brain template read with a flipped axis would put every left-right finding on the wrong
side; these tests compare our reading with SimpleITK's and nibabel's on real files.
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk  # noqa: N813

from vesalius.io.nifti import read_nifti, write_nifti

datasets = pytest.importorskip("nilearn.datasets")


@pytest.fixture(scope="module")
def mni_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("mni152")
    files = {}
    for name, loader in (
        ("t1", datasets.load_mni152_template),
        ("gm", datasets.load_mni152_gm_template),
    ):
        path = folder / f"{name}.nii.gz"
        nib.save(loader(), path)
        files[name] = path
    return files


@pytest.mark.parametrize("name", ["t1", "gm"])
def test_mni152_geometry_agrees_with_simpleitk(mni_files: dict[str, Path], name: str) -> None:
    """Origin, spacing and direction (LPS) and every voxel equal SimpleITK's reading."""
    vol = read_nifti(mni_files[name])
    image = sitk.ReadImage(str(mni_files[name]))
    assert vol.shape == tuple(reversed(image.GetSize()))
    np.testing.assert_allclose(vol.origin, image.GetOrigin(), atol=1e-4)
    np.testing.assert_allclose(vol.spacing, tuple(reversed(image.GetSpacing())), atol=1e-6)
    sitk_dirs = np.array(image.GetDirection()).reshape(3, 3)  # columns: x, y, z index axes
    np.testing.assert_allclose(vol.direction, sitk_dirs[:, ::-1], atol=1e-6)
    # Both apply the scaling slope; they differ only by float32 rounding.
    np.testing.assert_allclose(vol.array, sitk.GetArrayFromImage(image), rtol=1e-6, atol=1e-6)


def test_mni152_left_hemisphere_is_at_patient_left(mni_files: dict[str, Path]) -> None:
    """MNI x < 0 is the subject's right; in LPS that is x > 0 (Left positive)."""
    vol = read_nifti(mni_files["t1"])
    img = nib.load(mni_files["t1"])
    ras_point = np.array([-40.0, -20.0, 10.0])  # right hemisphere in RAS
    ijk = np.linalg.solve(img.affine[:3, :3], ras_point - img.affine[:3, 3])
    kji = ijk[::-1]
    lps = vol.index_to_lps([kji])[0]
    np.testing.assert_allclose(lps, [40.0, 20.0, 10.0], atol=1e-6)


def test_mni152_round_trip_keeps_geometry_and_voxels(
    mni_files: dict[str, Path], tmp_path: Path
) -> None:
    vol = read_nifti(mni_files["t1"])
    write_nifti(vol, tmp_path / "again.nii.gz")
    back = read_nifti(tmp_path / "again.nii.gz")
    np.testing.assert_allclose(back.affine, vol.affine, atol=1e-4)
    np.testing.assert_array_equal(back.array, vol.array)
