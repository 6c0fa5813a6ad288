"""Fixtures for the io tests: small synthetic DICOM series written with pydicom."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

SeriesWriter = Callable[..., list[Path]]


def write_ct_series(
    folder: Path,
    z_positions: Sequence[float],
    *,
    size: tuple[int, int] = (6, 5),
    iop: Sequence[float] = (1, 0, 0, 0, 1, 0),
    slope: float = 1.0,
    intercept: float = -1024.0,
    pixel_spacing: Sequence[float] = (0.8, 0.7),
    series_uid: str | None = None,
    study_uid: str | None = None,
    seed: int = 0,
    stored: npt.DTypeLike = np.int16,
    in_plane_shift: Sequence[float] = (0.0, 0.0),
) -> list[Path]:
    """Write one CT file per position along the slice normal; pixel values encode the slice."""
    folder.mkdir(parents=True, exist_ok=True)
    study = study_uid or generate_uid()
    series = series_uid or generate_uid()
    frame_uid = generate_uid()
    row, col = np.array(iop[:3], float), np.array(iop[3:], float)
    normal = np.cross(row, col)
    rng = np.random.default_rng(seed)
    paths = []
    for k, z in enumerate(z_positions):
        uid = generate_uid()
        ds = Dataset()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
        ds.file_meta.MediaStorageSOPInstanceUID = uid
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, uid
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame_uid
        ds.Modality, ds.PatientName, ds.PatientID = "CT", "Test^Phantom", "T1"
        ds.SeriesDescription = "synthetic"
        ds.InstanceNumber = k + 1
        origin = np.array([-10.0, -20.0, 0.0]) + normal * z
        origin += row * in_plane_shift[0] * k + col * in_plane_shift[1] * k
        ds.ImagePositionPatient = [round(float(v), 6) for v in origin]
        ds.ImageOrientationPatient = [float(v) for v in iop]
        ds.PixelSpacing = [float(v) for v in pixel_spacing]
        ds.SliceThickness = 2.0
        ds.Rows, ds.Columns = size
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        signed = np.dtype(stored).kind == "i"
        ds.BitsAllocated = ds.BitsStored = 16
        ds.HighBit, ds.PixelRepresentation = 15, int(signed)
        ds.RescaleSlope, ds.RescaleIntercept = slope, intercept
        pixels = rng.integers(0, 2000, size=size).astype(stored)
        pixels[0, 0] = 100 * (k + 1)
        ds.PixelData = pixels.tobytes()
        path = folder / f"slice_{k:03d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


@pytest.fixture
def ct_series(tmp_path: Path) -> SeriesWriter:
    """Call with positions (and options of ``write_ct_series``) to write a series."""

    def make(z_positions: Sequence[float], *, folder: str = "ct", **kwargs: object) -> list[Path]:
        return write_ct_series(tmp_path / folder, z_positions, **kwargs)  # type: ignore[arg-type]

    return make
