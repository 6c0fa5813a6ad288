"""NIfTI: orientation conventions, round trips, clear errors for broken files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk  # noqa: N813

from vesalius.core import Volume
from vesalius.errors import NiftiError
from vesalius.io.dicom_read import read_dicom
from vesalius.io.nifti import read_nifti, write_nifti

SeriesWriter = Callable[..., list[Path]]


def _oblique_volume() -> Volume:
    angle = np.radians(20)
    rot = np.array(
        [[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]]
    )
    direction = rot @ np.eye(3)[:, ::-1]
    array = np.arange(4 * 5 * 6, dtype=np.int16).reshape(4, 5, 6)
    return Volume.from_spacing(
        array, spacing=(2.5, 0.9, 0.6), origin=(12.3, -45.6, 78.9), direction=direction
    )


@pytest.mark.parametrize("suffix", [".nii", ".nii.gz"])
def test_round_trip_keeps_voxels_and_affine(tmp_path: Path, suffix: str) -> None:
    """Writing then reading must give the same voxels and the affine within 1e-4 mm."""
    volume = _oblique_volume()
    write_nifti(volume, tmp_path / f"v{suffix}")
    back = read_nifti(tmp_path / f"v{suffix}")
    assert np.array_equal(back.array, volume.array)
    assert back.array.dtype == np.int16
    assert np.allclose(back.affine, volume.affine, atol=1e-4, rtol=0)


def test_nifti_world_positions_agree_with_nibabel_and_simpleitk(tmp_path: Path) -> None:
    """A voxel's RAS position (nibabel) and LPS position (SimpleITK) match the Volume's."""
    volume = _oblique_volume()
    path = tmp_path / "v.nii.gz"
    write_nifti(volume, path)
    k, j, i = 3, 2, 4
    lps = volume.index_to_lps([[k, j, i]])[0]
    image = nib.load(path)
    ras = nib.affines.apply_affine(image.affine, [i, j, k])
    assert ras == pytest.approx([-lps[0], -lps[1], lps[2]], abs=1e-4)
    assert np.asarray(image.dataobj)[i, j, k] == volume.array[k, j, i]
    itk = sitk.ReadImage(str(path))
    assert itk.TransformIndexToPhysicalPoint((i, j, k)) == pytest.approx(tuple(lps), abs=1e-4)
    assert nib.aff2axcodes(image.affine) == nib.aff2axcodes(nib.load(path).header.get_best_affine())


def test_dicom_to_nifti_orientation_codes_match(ct_series: SeriesWriter, tmp_path: Path) -> None:
    """An axial DICOM series (rows to the Left, columns Posterior) is LPS in NIfTI codes."""
    volume = read_dicom(ct_series([0.0, 2.0, 4.0])).volume
    write_nifti(volume, tmp_path / "ct.nii.gz")
    assert nib.aff2axcodes(nib.load(tmp_path / "ct.nii.gz").affine) == ("L", "P", "S")
    back = read_nifti(tmp_path / "ct.nii.gz")
    assert np.array_equal(back.array, volume.array)
    assert np.allclose(back.affine, volume.affine, atol=1e-4)


def test_reading_a_nifti_written_by_nibabel(tmp_path: Path) -> None:
    """A RAS-oriented file from another tool maps to the right LPS positions."""
    data = np.arange(24, dtype=np.float32).reshape(2, 3, 4)  # (i, j, k)
    affine = np.diag([1.5, 2.0, 3.0, 1.0])
    affine[:3, 3] = [10, 20, 30]
    nib.save(nib.Nifti1Image(data, affine), tmp_path / "ras.nii")
    volume = read_nifti(tmp_path / "ras.nii")
    assert volume.shape == (4, 3, 2)
    assert volume.array[3, 2, 1] == data[1, 2, 3]
    assert volume.index_to_lps([[3, 2, 1]])[0] == pytest.approx([-11.5, -24.0, 39.0])


def test_broken_nifti_raises_nifti_error_naming_the_file(tmp_path: Path) -> None:
    """Truncated or bogus files give NiftiError with the file name, not a nibabel trace."""
    write_nifti(_oblique_volume(), tmp_path / "ok.nii.gz")
    (tmp_path / "cut.nii.gz").write_bytes((tmp_path / "ok.nii.gz").read_bytes()[:60])
    (tmp_path / "text.nii").write_text("not an image")
    for name in ("cut.nii.gz", "text.nii", "missing.nii"):
        with pytest.raises(NiftiError, match=name):
            read_nifti(tmp_path / name)


def test_four_d_nifti_is_refused(tmp_path: Path) -> None:
    """A time series cannot become one Volume: say so, with the shape."""
    nib.save(nib.Nifti1Image(np.zeros((2, 2, 2, 3), np.float32), np.eye(4)), tmp_path / "t.nii")
    with pytest.raises(NiftiError, match="3-D"):
        read_nifti(tmp_path / "t.nii")


def test_write_refuses_other_extensions_and_leaves_no_temp_files(tmp_path: Path) -> None:
    """A wrong file name is refused; a failed write leaves nothing half-written behind."""
    with pytest.raises(NiftiError, match=r"\.nii"):
        write_nifti(_oblique_volume(), tmp_path / "v.img")
    with pytest.raises(NiftiError):
        write_nifti(_oblique_volume(), tmp_path / "no_such_dir" / "v.nii")
    assert list(tmp_path.iterdir()) == []
