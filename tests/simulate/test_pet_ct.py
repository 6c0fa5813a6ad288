"""PET/CT phantom: SUV from the DICOM headers, MTV, misregistration and determinism."""

from __future__ import annotations

import json
from datetime import datetime

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk  # noqa: N813
from scipy import ndimage

from vesalius.errors import InputError
from vesalius.simulate.pet_ct import PetCT, PetCTSpec, pet_ct
from vesalius.simulate.study import WrittenPhantom
from vesalius.simulate.truth import read_label_nifti


def _suv_factor_from_header(ds: pydicom.Dataset) -> float:
    """The SUVbw factor as any reader would compute it from the PET headers alone."""
    info = ds.RadiopharmaceuticalInformationSequence[0]
    start = datetime.strptime(info.RadiopharmaceuticalStartDateTime, "%Y%m%d%H%M%S")
    series = datetime.strptime(ds.SeriesDate + ds.SeriesTime, "%Y%m%d%H%M%S")
    elapsed = (series - start).total_seconds()
    dose = float(info.RadionuclideTotalDose) * 2 ** (-elapsed / float(info.RadionuclideHalfLife))
    return float(ds.PatientWeight) * 1000.0 / dose


def _read_pet(written: WrittenPhantom) -> tuple[np.ndarray, list[pydicom.Dataset]]:
    files = next(s for s in written.series if s.folder.name == "pet").files
    dss = [pydicom.dcmread(p) for p in files]
    bq = np.stack([d.pixel_array * float(d.RescaleSlope) + float(d.RescaleIntercept) for d in dss])
    return bq, dss


def test_pet_headers_carry_what_suv_needs(petct_written: WrittenPhantom) -> None:
    """Units, decay correction and the isotope sequence a SUV reader relies on are present."""
    _, dss = _read_pet(petct_written)
    ds = dss[0]
    assert ds.Units == "BQML"
    assert ds.DecayCorrection == "START"
    assert {"DECY", "ATTN"} <= set(ds.CorrectedImage)
    info = ds.RadiopharmaceuticalInformationSequence[0]
    assert float(info.RadionuclideHalfLife) == 6586.2
    assert ds.AcquisitionDate
    assert ds.AcquisitionTime
    assert ds.SeriesTime == "093000"
    ct = pydicom.dcmread(petct_written.series[0].files[0])
    assert ct.StudyInstanceUID == ds.StudyInstanceUID
    assert ct.SeriesInstanceUID != ds.SeriesInstanceUID
    assert ct.FrameOfReferenceUID == ds.FrameOfReferenceUID


def test_suvmax_in_the_written_pet_equals_the_truth(
    petct: PetCT, petct_written: WrittenPhantom
) -> None:
    """SUVmax measured from the DICOM files equals the truth and hits the target."""
    bq, dss = _read_pet(petct_written)
    factor = _suv_factor_from_header(dss[0])
    assert factor == pytest.approx(petct.truth.suv.suv_per_bqml, rel=1e-9)
    for les in petct.truth.lesions:
        centre = petct.pet.lps_to_index([les.centre_pet_lps_mm])[0]
        kk, jj, ii = np.indices(bq.shape)
        dist = np.sqrt(
            sum(
                ((g - c) * s) ** 2
                for g, c, s in zip((kk, jj, ii), centre, petct.pet.spacing, strict=True)
            )
        )
        suvmax = float(bq[dist <= les.voi_radius_mm].max()) * factor
        assert suvmax == pytest.approx(les.suvmax, rel=1e-6)
        assert les.suvmax == pytest.approx(les.suvmax_target, rel=2e-3)


def test_mtv_recomputes_from_the_written_pet(petct: PetCT, petct_written: WrittenPhantom) -> None:
    """The 40 %-of-SUVmax volume in the truth and in the label map match a recomputation."""
    bq, dss = _read_pet(petct_written)
    factor = _suv_factor_from_header(dss[0])
    labels, _ = read_label_nifti(petct_written.folder / "labels_pet_lesions.nii.gz")
    ml = float(np.prod(petct.pet.spacing)) / 1000.0
    for les in petct.truth.lesions:
        hot = bq * factor >= 0.4 * les.suvmax
        comp, _ = ndimage.label(hot, structure=np.ones((3, 3, 3)))
        mine = comp == comp[les.max_index_kji]
        assert mine.sum() * ml == pytest.approx(les.mtv_ml)
        assert np.array_equal(mine, labels == les.label_value)
        assert les.mtv_ml > 0


def test_pet_is_misregistered_by_the_recorded_motion(petct: PetCT) -> None:
    """Lesion peaks sit at the PET centre (moved), CT lesion labels at the CT centre."""
    matrix = np.asarray(petct.truth.misregistration.pet_to_ct)
    assert np.linalg.norm(matrix[:3, 3]) > 0.5
    for les in petct.truth.lesions:
        moved = matrix[:3, :3] @ np.asarray(les.centre_pet_lps_mm) + matrix[:3, 3]
        np.testing.assert_allclose(moved, les.centre_ct_lps_mm, atol=1e-9)
        peak = petct.pet.index_to_lps([les.max_index_kji])[0]
        assert np.linalg.norm(peak - les.centre_pet_lps_mm) < 1.5 * max(petct.pet.spacing)
        ct_mask = petct.ct_labels == 10 + les.id
        if ct_mask.any():
            centroid = petct.ct.index_to_lps([np.argwhere(ct_mask).mean(axis=0)])[0]
            assert np.linalg.norm(centroid - les.centre_ct_lps_mm) < max(petct.ct.spacing)


def test_physiological_uptake_in_brain_heart_bladder(petct: PetCT) -> None:
    """Brain, myocardium and bladder are hot; lungs are cold."""
    truth = json.loads(json.dumps(petct.truth.tissue_suv))
    assert truth["bladder"] > truth["brain"] > truth["myocardium"] > truth["lung"]
    suv = petct.pet.array * petct.truth.suv.suv_per_bqml
    assert suv.max() > 15  # the bladder


def test_same_seed_same_pet_and_simpleitk_reads_it(
    petct: PetCT, petct_written: WrittenPhantom
) -> None:
    """Deterministic phantom; ITK reads the PET series with the rescale applied."""
    again = pet_ct(PetCTSpec(ct_shape=(40, 64, 64), pet_shape=(50, 64, 64)), seed=2)
    assert again.pet.array.tobytes() == petct.pet.array.tobytes()
    assert again.truth == petct.truth
    reader = sitk.ImageSeriesReader()
    files = next(s for s in petct_written.series if s.folder.name == "pet").files
    reader.SetFileNames([str(p) for p in files])
    arr = sitk.GetArrayFromImage(reader.Execute())
    np.testing.assert_allclose(arr, petct.pet.array, rtol=1e-5, atol=1e-3)


def test_bad_spec_is_a_user_error() -> None:
    """Nonsense sizes give a clear InputError, not a numpy traceback."""
    with pytest.raises(InputError, match="shape"):
        PetCTSpec(ct_shape=(0, 4, 4))
