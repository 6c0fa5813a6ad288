"""Chest CT phantom: determinism, valid DICOM, geometry, and a self-consistent truth."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pydicom
import SimpleITK as sitk  # noqa: N813
from scipy import ndimage

from vesalius.io.dicom_write import series_affine
from vesalius.simulate.chest_ct import ChestCT, ChestCTSpec, chest_ct, write_chest_ct
from vesalius.simulate.study import WrittenPhantom
from vesalius.simulate.truth import read_label_nifti

SMALL = ChestCTSpec(shape=(24, 48, 48))


def _weight(hu: float) -> int:
    return 0 if hu < 130 else 1 if hu < 200 else 2 if hu < 300 else 3 if hu < 400 else 4


def test_same_seed_gives_identical_voxels_truth_and_uids() -> None:
    """Re-running a phantom must reproduce it exactly, or benchmarks are not comparable."""
    a, b = chest_ct(SMALL, seed=9), chest_ct(SMALL, seed=9)
    assert a.volume.array.tobytes() == b.volume.array.tobytes()
    assert a.truth == b.truth
    assert a.volume.frame_of_reference_uid == b.volume.frame_of_reference_uid
    c = chest_ct(SMALL, seed=10)
    assert c.volume.array.tobytes() != a.volume.array.tobytes()
    assert c.truth.nodules[0].centre_lps_mm != a.truth.nodules[0].centre_lps_mm


def test_written_files_are_byte_identical_for_the_same_seed(tmp_path) -> None:
    """Same seed, same files: UIDs and dates derive from the seed, not the clock."""
    from vesalius.simulate.chest_ct import write_chest_ct

    first = write_chest_ct(chest_ct(SMALL, seed=4), tmp_path / "a")
    second = write_chest_ct(chest_ct(SMALL, seed=4), tmp_path / "b")
    for x, y in zip(first.series[0].files, second.series[0].files, strict=True):
        assert x.read_bytes() == y.read_bytes()
    assert first.truth_path.read_bytes() == second.truth_path.read_bytes()
    assert first.series[0].sop_instance_uids[0].startswith("2.25.")


def test_dicom_reads_back_with_pydicom_and_simpleitk(
    chest: ChestCT, chest_written: WrittenPhantom
) -> None:
    """Both pydicom and ITK's series reader get the same HU and geometry back."""
    files = chest_written.series[0].files
    dss = [pydicom.dcmread(p) for p in files]
    hu = np.stack([d.pixel_array * float(d.RescaleSlope) + float(d.RescaleIntercept) for d in dss])
    np.testing.assert_array_equal(hu, chest.volume.array)
    affine = series_affine(
        [d.ImagePositionPatient for d in dss], dss[0].ImageOrientationPatient, dss[0].PixelSpacing
    )
    np.testing.assert_allclose(affine, chest.volume.affine, atol=1e-4)
    assert [int(d.InstanceNumber) for d in dss] == list(range(1, len(dss) + 1))
    assert {d.SOPClassUID for d in dss} == {"1.2.840.10008.5.1.4.1.1.2"}
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames([str(p) for p in files])
    image = reader.Execute()
    np.testing.assert_array_equal(sitk.GetArrayFromImage(image), chest.volume.array)
    np.testing.assert_allclose(image.GetOrigin(), chest.volume.origin, atol=1e-4)


def test_label_maps_on_disk_match_recorded_volumes(
    chest: ChestCT, chest_written: WrittenPhantom
) -> None:
    """Lung, nodule and emphysema volumes in the JSON are the label voxel counts."""
    truth = json.loads(chest_written.truth_path.read_text())["truth"]
    anatomy, affine = read_label_nifti(chest_written.folder / "labels_anatomy.nii.gz")
    findings, _ = read_label_nifti(chest_written.folder / "labels_findings.nii.gz")
    np.testing.assert_allclose(affine, chest.volume.affine, atol=1e-6)
    ml = float(np.prod(chest.volume.spacing)) / 1000
    for lung in truth["lungs"]:
        lung_mask = anatomy == lung["label_value"]
        assert np.count_nonzero(lung_mask) * ml == lung["volume_ml"] > 500
        emph = np.count_nonzero(lung_mask & (findings == 1)) * ml
        assert emph == lung["emphysema_volume_ml"] > 0
    for nod in truth["nodules"]:
        assert np.count_nonzero(findings == nod["label_value"]) * ml == nod["label_volume_ml"]


def test_nodules_are_where_the_truth_says_with_their_density(chest: ChestCT) -> None:
    """At each recorded centre there is the nodule label and the right kind of tissue."""
    for nod in chest.truth.nodules:
        k, j, i = np.rint(nod.centre_index_kji).astype(int)
        assert chest.findings[k, j, i] == nod.label_value
        assert chest.anatomy[k, j, i] == (1 if nod.lung == "left" else 2)
        assert (nod.lung == "left") == (nod.centre_lps_mm[0] > 0)
        centre_hu = chest.volume.array[k, j, i]
        if nod.kind == "ground-glass":  # partial volume only pulls it towards lung (-850)
            assert -800 < centre_hu < -500, (nod.kind, centre_hu)
        else:
            assert centre_hu > -400, (nod.kind, centre_hu)
        label_ml = nod.label_volume_ml
        assert 0.4 * nod.volume_ml < label_ml < 1.8 * nod.volume_ml
        assert nod.long_axis_mm >= nod.short_axis_mm


def test_agatston_truth_matches_an_independent_reference(chest: ChestCT) -> None:
    """Recompute Agatston from the written noise-free image with a plain reference loop."""
    sz, sy, sx = chest.volume.spacing
    coronary = (chest.findings >= 100) & (chest.findings < 200)
    near = ndimage.binary_dilation(coronary, iterations=2)
    image = np.where(near, chest.volume.array, -1000)
    total = 0.0
    for k in range(image.shape[0]):
        labels, n = ndimage.label(image[k] >= 130, structure=np.ones((3, 3)))
        for lab in range(1, n + 1):
            region = labels == lab
            area = region.sum() * sy * sx
            if area >= chest.truth.agatston_min_area_mm2:
                total += area * _weight(float(image[k][region].max())) * sz / 3.0
    assert total > 0
    assert abs(total - chest.truth.agatston_total_written) < 1e-6
    per_lesion = sum(c.agatston_written.score for c in chest.truth.coronary_calcium)
    assert abs(per_lesion - chest.truth.agatston_total_written) < 1e-9
    assert chest.truth.agatston_total_3mm > 0
    assert all(c.site == "aorta" for c in chest.truth.aortic_calcium)
    assert chest.truth.aortic_calcium_volume_mm3 > 0


def test_laa950_truth_recomputes_from_the_noise_free_image(chest: ChestCT) -> None:
    """%LAA-950 per lung in the truth is what a measurement on the written image gives."""
    for lung in chest.truth.lungs:
        mask = chest.anatomy == lung.label_value
        laa = 100.0 * np.count_nonzero(chest.volume.array[mask] < -950) / mask.sum()
        assert abs(laa - lung.laa950_percent_noise_free) < 1e-9
        assert laa == lung.laa950_percent_noisy  # this fixture has no noise
        assert laa > 0.1


def test_noise_has_the_requested_sigma_and_keeps_laa_close() -> None:
    """Noise is the requested size in flat tissue and barely moves the emphysema index."""
    noisy = chest_ct(ChestCTSpec(shape=(24, 96, 96), noise_hu=15.0), seed=3)
    clean = chest_ct(ChestCTSpec(shape=(24, 96, 96), noise_hu=0.0), seed=3)
    diff = noisy.volume.array.astype(float) - clean.volume.array
    assert 13.0 < diff.std() < 17.0
    for a, b in zip(noisy.truth.lungs, clean.truth.lungs, strict=True):
        assert a.laa950_percent_noise_free == b.laa950_percent_noise_free
        assert abs(a.laa950_percent_noisy - a.laa950_percent_noise_free) < 0.5


def test_slice_thickness_is_written_and_changes_sampling(tmp_path) -> None:
    """A 5 mm thickness is written as such; a coarser grid changes the sampled scores."""
    from vesalius.simulate.chest_ct import write_chest_ct

    spec = ChestCTSpec(shape=(60, 64, 64), slice_thickness_mm=5.0, noise_hu=0.0)
    ct = chest_ct(spec, seed=5)
    written = write_chest_ct(ct, tmp_path)
    ds = pydicom.dcmread(written.series[0].files[0])
    assert float(ds.SliceThickness) == 5.0
    assert float(ds.SpacingBetweenSlices) == 5.0
    assert ct.truth.slice_thickness_mm == 5.0
    fine = chest_ct(ChestCTSpec(shape=(100, 64, 64), noise_hu=0.0), seed=5)
    assert fine.truth.lungs[0].volume_ml != ct.truth.lungs[0].volume_ml
    assert (
        abs(fine.truth.lungs[0].volume_ml - ct.truth.lungs[0].volume_ml)
        < 0.1 * ct.truth.lungs[0].volume_ml
    )


def test_phantoms_of_one_seed_but_two_sizes_never_share_uids(tmp_path: Path) -> None:
    """Two sizes of one seed sharing UIDs: a store keeping the first copy mixes their slices."""
    small = write_chest_ct(chest_ct(ChestCTSpec(shape=(8, 32, 32)), seed=5), tmp_path / "a")
    large = write_chest_ct(chest_ct(ChestCTSpec(shape=(10, 32, 32)), seed=5), tmp_path / "b")
    again = write_chest_ct(chest_ct(ChestCTSpec(shape=(8, 32, 32)), seed=5), tmp_path / "c")
    assert small.manifest.study_uid != large.manifest.study_uid
    assert small.manifest.study_uid == again.manifest.study_uid
    sops = [
        {str(pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID) for f in p.iterdir()}
        for p in (tmp_path / "a" / "ct", tmp_path / "b" / "ct")
    ]
    assert not sops[0] & sops[1]
