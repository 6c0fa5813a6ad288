"""PET SUVbw from the DICOM radiopharmaceutical module, and the SUVbw transform."""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from vesalius.core import Volume
from vesalius.errors import UnsupportedError
from vesalius.standardize import SUVbw, suv_factor
from vesalius.standardize.suvtimes import GE_PETD, PHILIPS_PET

F18_HALF_LIFE_S = 6586.2  # 109.77 min


def pet_header(**changes: object) -> Dataset:
    """A BQML PET header: 370 MBq F-18 at 09:00, series start 10:00, 70 kg patient."""
    ds = Dataset()
    ds.Modality = "PT"
    ds.SeriesInstanceUID = "1.2.826.0.1.3680043.8.498.1"
    ds.Units = "BQML"
    ds.DecayCorrection = "START"
    ds.CorrectedImage = ["ATTN", "DECY"]
    ds.PatientWeight = "70"
    ds.SeriesDate = "20240301"
    ds.SeriesTime = "100000"
    ds.AcquisitionDate = "20240301"
    ds.AcquisitionTime = "100000"
    item = Dataset()
    item.RadionuclideTotalDose = "370000000"
    item.RadionuclideHalfLife = str(F18_HALF_LIFE_S)
    item.RadiopharmaceuticalStartTime = "090000"
    ds.RadiopharmaceuticalInformationSequence = [item]
    for key, value in changes.items():
        if value is None:
            delattr(ds, key)
        else:
            setattr(ds, key, value)
    return ds


def by_hand(activity: float, weight_kg: float, dose: float, elapsed_s: float) -> float:
    """SUVbw from first principles: activity / (decayed dose / weight)."""
    decayed = dose * 0.5 ** (elapsed_s / F18_HALF_LIFE_S)
    return activity * weight_kg * 1000.0 / decayed


def test_suv_of_a_textbook_case_matches_the_formula() -> None:
    """370 MBq F-18 60 min before the scan, 70 kg, 5000 Bq/ml: SUV computed by hand."""
    suv = suv_factor(pet_header())
    expected = by_hand(5000.0, 70.0, 370e6, 3600.0)
    assert 5000.0 * suv.factor == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(1.3817, abs=1e-4)  # 0.9459 / 0.6846, checked by hand
    assert suv.elapsed_s == 3600.0
    assert suv.decayed_dose_bq == pytest.approx(370e6 * math.exp(-math.log(2) * 3600 / 6586.2))
    assert suv.injection_time == datetime(2024, 3, 1, 9, 0)
    assert suv.reference_time == datetime(2024, 3, 1, 10, 0)
    assert suv.reference_time_source == "SeriesDate + SeriesTime"
    assert suv.activity_scale == 1.0
    assert suv.method == "BQML"


def test_suv_transform_multiplies_the_volume_and_records_the_factor() -> None:
    """The SUV image is float32, equal to Bq/ml times the factor, with the factor recorded."""
    suv = suv_factor(pet_header())
    pet = Volume.from_spacing(np.full((2, 3, 3), 5000, np.int32), modality="PT")
    out = SUVbw(suv)(pet)
    assert out.array.dtype == np.float32
    np.testing.assert_allclose(out.array, by_hand(5000.0, 70.0, 370e6, 3600.0), rtol=1e-6)
    step = out.provenance[-1]
    assert step.name == "SUVbw"
    assert step.params["factor"] == suv.factor
    assert step.params["injection_time"] == "2024-03-01T09:00:00"
    with pytest.raises(UnsupportedError, match="PET"):
        SUVbw(suv)(Volume.from_spacing(np.zeros((1, 1, 1)), modality="CT"))


def test_full_radiopharmaceutical_datetime_is_preferred() -> None:
    """RadiopharmaceuticalStartDateTime (date included) wins over the time-only attribute."""
    ds = pet_header()
    ds.RadiopharmaceuticalInformationSequence[
        0
    ].RadiopharmaceuticalStartDateTime = "20240301083000.000000"
    suv = suv_factor(ds)
    assert suv.elapsed_s == 5400.0
    assert suv.injection_time_source == "RadiopharmaceuticalStartDateTime"


def test_scan_after_midnight_decays_from_the_day_before() -> None:
    """Injected 23:30, series at 00:30 next day: 1 h of decay, not -23 h."""
    ds = pet_header(
        SeriesDate="20240302",
        SeriesTime="003000",
        AcquisitionDate="20240302",
        AcquisitionTime="003000",
    )
    ds.RadiopharmaceuticalInformationSequence[0].RadiopharmaceuticalStartTime = "233000"
    suv = suv_factor(ds)
    assert suv.elapsed_s == 3600.0
    assert suv.injection_time == datetime(2024, 3, 1, 23, 30)
    assert 5000.0 * suv.factor == pytest.approx(by_hand(5000.0, 70.0, 370e6, 3600.0))


def test_admin_decay_correction_uses_the_undecayed_dose() -> None:
    """Images corrected to administration time: the injected dose is used as is."""
    suv = suv_factor(pet_header(DecayCorrection="ADMIN"))
    assert suv.decayed_dose_bq == 370e6
    assert suv.elapsed_s == 0.0
    assert 5000.0 * suv.factor == pytest.approx(5000.0 * 70000.0 / 370e6)


def test_decay_correction_none_is_refused() -> None:
    """Per-frame decay (NONE) is not supported: refuse rather than return a wrong SUV."""
    with pytest.raises(UnsupportedError, match="DecayCorrection 'NONE'"):
        suv_factor(pet_header(DecayCorrection="NONE"))


def test_series_time_after_acquisition_start_uses_the_earliest_acquisition() -> None:
    """Re-processed series (SeriesTime reset to 11:00) must still decay to the scan start."""
    ds = pet_header(SeriesTime="110000")
    times = [datetime(2024, 3, 1, 10, 5), datetime(2024, 3, 1, 10, 0), datetime(2024, 3, 1, 10, 9)]
    suv = suv_factor(ds, acquisition_times=times)
    assert suv.reference_time == datetime(2024, 3, 1, 10, 0)
    assert suv.reference_time_source == "earliest AcquisitionDateTime"
    assert suv.elapsed_s == 3600.0


def test_ge_private_scan_datetime_is_used_when_series_time_is_late() -> None:
    """On GE, the private Scan DateTime (0009,xx0D) holds the true scan start."""
    ds = pet_header(SeriesTime="110000", AcquisitionTime="103000")
    ds.private_block(0x0009, GE_PETD, create=True).add_new(0x0D, "DT", "20240301100000")
    suv = suv_factor(ds)
    assert suv.reference_time == datetime(2024, 3, 1, 10, 0)
    assert "GE private Scan DateTime" in suv.reference_time_source


def test_ge_private_administration_datetime_when_standard_times_are_missing() -> None:
    """GE keeps the injection time in (0009,xx3B) when the standard ones are empty."""
    ds = pet_header()
    del ds.RadiopharmaceuticalInformationSequence[0].RadiopharmaceuticalStartTime
    ds.private_block(0x0009, GE_PETD, create=True).add_new(0x3B, "DT", "20240301091500")
    suv = suv_factor(ds)
    assert suv.elapsed_s == 2700.0
    assert "GE private Administered DateTime" in suv.injection_time_source


def test_philips_counts_with_activity_concentration_scale_factor() -> None:
    """Philips CNTS: counts x (7053,1009) = Bq/ml, then the usual SUV formula."""
    ds = pet_header(Units="CNTS")
    block = ds.private_block(0x7053, PHILIPS_PET, create=True)
    block.add_new(0x09, "DS", "2.5")
    suv = suv_factor(ds)
    counts = 2000.0
    assert counts * suv.factor == pytest.approx(by_hand(counts * 2.5, 70.0, 370e6, 3600.0))
    assert suv.activity_scale == 2.5
    assert "Activity Concentration" in suv.method


def test_philips_counts_with_only_the_suv_scale_factor() -> None:
    """Philips CNTS with only (7053,1000): that factor is the SUVbw factor itself."""
    ds = pet_header(Units="CNTS")
    ds.private_block(0x7053, PHILIPS_PET, create=True).add_new(0x00, "DS", "0.000691")
    suv = suv_factor(ds)
    assert suv.factor == 0.000691
    assert suv.activity_scale * 70000.0 / suv.decayed_dose_bq == pytest.approx(0.000691)


def test_counts_without_philips_factors_are_refused_naming_the_tags() -> None:
    """Counts cannot become Bq/ml without a scale factor: the error says which are missing."""
    with pytest.raises(UnsupportedError, match=r"series 1\.2\.826.*7053,1009.*7053,1000"):
        suv_factor(pet_header(Units="CNTS"))


def test_unknown_units_are_refused() -> None:
    """Units such as PROPCNTS are refused, naming the unit."""
    with pytest.raises(UnsupportedError, match="PROPCNTS"):
        suv_factor(pet_header(Units="PROPCNTS"))


def test_missing_weight_dose_and_half_life_are_all_named() -> None:
    """One error lists everything the header lacks, so the user can fix it in one go."""
    ds = pet_header(PatientWeight=None)
    item = ds.RadiopharmaceuticalInformationSequence[0]
    del item.RadionuclideTotalDose
    item.RadionuclideHalfLife = ""
    with pytest.raises(UnsupportedError) as err:
        suv_factor(ds)
    message = str(err.value)
    for name in ("PatientWeight", "RadionuclideTotalDose", "RadionuclideHalfLife"):
        assert name in message


def test_missing_injection_time_and_series_time_are_named() -> None:
    """Without any time the decay cannot be computed: say which times are missing."""
    ds = pet_header(SeriesTime=None, AcquisitionTime=None)
    del ds.RadiopharmaceuticalInformationSequence[0].RadiopharmaceuticalStartTime
    with pytest.raises(UnsupportedError, match=r"RadiopharmaceuticalStartTime.*SeriesTime"):
        suv_factor(ds)


def test_image_not_decay_corrected_is_refused() -> None:
    """CorrectedImage without DECY contradicts DecayCorrection START: refuse."""
    with pytest.raises(UnsupportedError, match="DECY"):
        suv_factor(pet_header(CorrectedImage=["ATTN"]))


def test_injection_after_the_scan_is_refused() -> None:
    """An injection time after the series start is a data error, not a negative decay."""
    ds = pet_header()
    ds.RadiopharmaceuticalInformationSequence[0].RadiopharmaceuticalStartDateTime = "20240301120000"
    with pytest.raises(UnsupportedError, match="after the decay-correction time"):
        suv_factor(ds)


def test_header_read_from_a_file_and_errors_name_the_file(tmp_path: Path) -> None:
    """Read back from disk (no pixels), the factor is the same; errors name the file."""
    ds = pet_header()
    ds.private_block(0x7053, PHILIPS_PET, create=True).add_new(0x09, "DS", "1.0")
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.128"
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    path = tmp_path / "pet.dcm"
    ds.save_as(path, enforce_file_format=True)
    header = dcmread(path, stop_before_pixels=True)
    assert suv_factor(header).factor == suv_factor(pet_header()).factor
    header.PatientWeight = ""
    with pytest.raises(UnsupportedError) as err:
        suv_factor(header)
    assert str(path) in str(err.value)
    assert "PatientWeight" in str(err.value)
