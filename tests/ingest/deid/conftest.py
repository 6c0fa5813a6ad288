"""Fixtures for the de-identification tests: the real Annex E table and generated instances."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian

from vesalius.ingest.deid import CompiledProfile, ProfileTable, load_profile_table

TABLE = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "deid" / "annex_e.csv"

MakeCT = Callable[..., Dataset]


@pytest.fixture(scope="session")
def table_path() -> Path:
    """The real PS3.15 Table E.1-1 shipped in ../shared/data/deid."""
    if not TABLE.is_file():
        pytest.skip(f"{TABLE} is missing (the shared data folder is not beside the checkout)")
    return TABLE


@pytest.fixture(scope="session")
def table(table_path: Path) -> ProfileTable:
    """The parsed table."""
    return load_profile_table(table_path)


@pytest.fixture(scope="session")
def basic(table: ProfileTable) -> CompiledProfile:
    """The Basic Profile with no option."""
    return table.compile()


def _ct(
    *,
    patient_id: str = "MRN-0001",
    patient_name: str = "DOE^JANE",
    study_uid: str = "1.2.826.0.1.3680043.2.1125.1.1",
    series_uid: str = "1.2.826.0.1.3680043.2.1125.1.1.2",
    sop_uid: str = "1.2.826.0.1.3680043.2.1125.1.1.2.1",
    study_date: str = "20240315",
    referenced_uid: str = "1.2.826.0.1.3680043.2.1125.1.1.2.0",
    size: int = 8,
) -> Dataset:
    """A small CT instance with PHI in many places, private tags and nested references."""
    ds = Dataset()
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = sop_uid
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.FrameOfReferenceUID = study_uid + ".9"
    ds.Modality = "CT"
    ds.PatientName = patient_name
    ds.PatientID = patient_id
    ds.PatientBirthDate = "19700102"
    ds.PatientSex = "F"
    ds.PatientAge = "054Y"
    ds.PatientWeight = "61.5"
    ds.OtherPatientIDs = "OLD-" + patient_id
    ds.PatientAddress = "1 Main Street, Springfield"
    ds.StudyDate = study_date
    ds.SeriesDate = study_date
    ds.AcquisitionDate = study_date
    ds.ContentDate = study_date
    ds.StudyTime = "101500"
    ds.AcquisitionDateTime = study_date + "101530.250000"
    ds.AccessionNumber = "ACC123"
    ds.StudyID = "S1"
    ds.ReferringPhysicianName = "HOUSE^GREGORY"
    ds.InstitutionName = "Princeton Plainsboro"
    ds.StationName = "CT01-ROOM7"
    ds.DeviceSerialNumber = "SN-998877"
    ds.StudyDescription = "CT CHEST WITH CONTRAST"
    ds.SeriesDescription = "Chest for Dr. Smith"
    ds.ImageComments = "patient Jane Doe, call 555-1234"
    ds.Manufacturer = "ACME"
    ds.BurnedInAnnotation = "NO"
    ref = Dataset()
    ref.ReferencedSOPClassUID = CTImageStorage
    ref.ReferencedSOPInstanceUID = referenced_uid
    ds.ReferencedImageSequence = Sequence([ref])
    source = Dataset()
    source.ReferencedSOPClassUID = CTImageStorage
    source.ReferencedSOPInstanceUID = referenced_uid
    source.add_new(0x00091001, "LO", "private in sequence")
    ds.SourceImageSequence = Sequence([source])
    ds.add_new(0x00090010, "LO", "ACME private")
    ds.add_new(0x00091002, "LO", "secret MRN-0001")
    ds.add_new(0x60003000, "OW", b"\x00\x01" * 4)
    ds.add_new(0x60000010, "US", size)
    ds.Rows = ds.Columns = size
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
    ds.PixelRepresentation, ds.SamplesPerPixel = 0, 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    pixels = (np.arange(size * size, dtype=np.uint16) * 7 % 4096).reshape(size, size)
    ds.PixelData = pixels.tobytes()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.SourceApplicationEntityTitle = "HOSPITAL_PACS"
    ds.file_meta = meta
    return ds


@pytest.fixture
def make_ct() -> MakeCT:
    """Build a generated CT dataset with PHI (keyword arguments override the defaults)."""
    return _ct


def write_ct(folder: Path, name: str, **fields: object) -> Path:
    """Write a generated CT instance to ``folder/name`` and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    _ct(**fields).save_as(path, enforce_file_format=True)
    return path
