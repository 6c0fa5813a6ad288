"""Writing a Volume as a DICOM series: geometry, values, strictness, atomic files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk  # noqa: N813

from vesalius.core import Volume
from vesalius.errors import GeometryError, InputError, UnsupportedError
from vesalius.io.dicom_write import (
    SeriesInfo,
    SeriesMetadata,
    StudyInfo,
    derive_uid,
    quantize,
    series_affine,
    write_series,
)

META = SeriesMetadata(
    study=StudyInfo(study_uid=derive_uid("t", "study")),
    series=SeriesInfo(series_uid=derive_uid("t", "series")),
)


def _oblique_volume(array: np.ndarray, modality: str = "CT") -> Volume:
    angle = np.radians(20.0)
    rot = np.array(
        [[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]]
    )
    direction = rot @ np.array([[0, 0, 1], [0, 1, 0], [-1, 0, 0]], float)  # slices go inferior
    return Volume.from_spacing(
        array,
        spacing=(2.5, 0.7, 0.9),
        origin=(-12.3, 40.1, 77.7),
        direction=direction,
        modality=modality,
        frame_of_reference_uid=derive_uid("t", "for"),
    )


def _read(folder: Path) -> list[pydicom.Dataset]:
    return sorted(
        (pydicom.dcmread(p) for p in folder.glob("*.dcm")), key=lambda d: int(d.InstanceNumber)
    )


def test_written_geometry_gives_back_the_volume_affine(tmp_path: Path) -> None:
    """A viewer rebuilding the affine from IPP/IOP/PixelSpacing must land on the same voxels."""
    vol = _oblique_volume(np.arange(4 * 5 * 6, dtype=np.int16).reshape(4, 5, 6))
    write_series(vol, tmp_path, meta=META)
    dss = _read(tmp_path)
    affine = series_affine(
        [d.ImagePositionPatient for d in dss], dss[0].ImageOrientationPatient, dss[0].PixelSpacing
    )
    np.testing.assert_allclose(affine, vol.affine, atol=1e-4)
    np.testing.assert_array_equal(np.stack([d.pixel_array for d in dss]), vol.array)


def test_simpleitk_reads_the_series_with_same_values_and_geometry(tmp_path: Path) -> None:
    """The written series is usable by ITK-based tools (GDCM), not only by our reader."""
    vol = _oblique_volume(np.arange(4 * 5 * 6, dtype=np.int16).reshape(4, 5, 6) - 50)
    write_series(vol, tmp_path, meta=META)
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(tmp_path)))
    image = reader.Execute()
    arr = sitk.GetArrayFromImage(image)
    ks = np.argsort([-p for p in vol.index_to_lps([[k, 0, 0] for k in range(4)])[:, 2]])
    assert image.GetSize() == (6, 5, 4)
    np.testing.assert_allclose(image.GetSpacing(), (0.9, 0.7, 2.5), atol=1e-4)
    # GDCM sorts slices along the normal: compare as a set of slices in its order
    np.testing.assert_array_equal(
        np.sort(arr.reshape(4, -1), axis=0), np.sort(vol.array[ks].reshape(4, -1), axis=0)
    )


def test_float_volume_is_quantized_within_half_a_slope(tmp_path: Path) -> None:
    """PET-like float voxels survive writing within the documented quantization error."""
    rng = np.random.default_rng(0)
    vol = _oblique_volume(rng.uniform(0, 5000.0, (3, 4, 4)), modality="PT")
    out = write_series(vol, tmp_path, meta=META)
    dss = _read(tmp_path)
    values = np.stack(
        [d.pixel_array * float(d.RescaleSlope) + float(d.RescaleIntercept) for d in dss]
    )
    assert np.max(np.abs(values - vol.array)) <= out.rescale_slope / 2 + 1e-9
    assert dss[0].Units == "BQML"
    assert dss[0].SOPClassUID == "1.2.840.10008.5.1.4.1.1.128"


def test_same_input_writes_byte_identical_files(tmp_path: Path) -> None:
    """Determinism: nothing time- or random-based leaks into the files."""
    vol = _oblique_volume(np.ones((2, 3, 3), np.int16))
    a = write_series(vol, tmp_path / "a", meta=META)
    b = write_series(vol, tmp_path / "b", meta=META)
    assert [p.read_bytes() for p in a.files] == [p.read_bytes() for p in b.files]
    assert [p.name for p in a.files] == ["IMG00001.dcm", "IMG00002.dcm"]
    assert not list((tmp_path / "a").glob(".*tmp"))


def test_mr_uint16_has_no_rescale_and_explicit_vr(tmp_path: Path) -> None:
    """MR Image IOD has no rescale module; the transfer syntax is explicit VR little endian."""
    vol = _oblique_volume(np.full((2, 3, 3), 40000, np.uint16), modality="MR")
    write_series(vol, tmp_path, meta=META)
    ds = _read(tmp_path)[0]
    assert "RescaleSlope" not in ds
    assert ds.PixelRepresentation == 0
    assert ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1"
    assert int(ds.pixel_array.max()) == 40000


def test_unknown_modality_is_refused(tmp_path: Path) -> None:
    """Writing is strict: an ultrasound volume has no writer and says so."""
    vol = _oblique_volume(np.zeros((2, 2, 2), np.int16), modality="US")
    with pytest.raises(UnsupportedError, match="US"):
        write_series(vol, tmp_path, meta=META)


def test_missing_frame_of_reference_is_refused(tmp_path: Path) -> None:
    """A series without a Frame of Reference UID would be invalid DICOM."""
    vol = Volume.from_spacing(np.zeros((2, 2, 2), np.int16), modality="CT")
    with pytest.raises(InputError, match="frame_of_reference_uid"):
        write_series(vol, tmp_path, meta=META)


def test_tilted_slices_are_refused(tmp_path: Path) -> None:
    """Gantry tilt cannot be expressed by a classic axial stack; the writer refuses it."""
    affine = np.eye(4)
    affine[:3, :3] = np.array([[0.0, 0.0, 1.0], [0.5, 1.0, 0.0], [1.0, 0.0, 0.0]])
    vol = Volume(
        np.zeros((2, 2, 2), np.int16), affine, frame_of_reference_uid="1.2.3", modality="CT"
    )
    with pytest.raises(GeometryError, match="tilt"):
        write_series(vol, tmp_path, meta=META)


def test_quantize_keeps_int16_and_refuses_nan() -> None:
    """Integer HU pass through unchanged; NaN voxels are a user error, not garbage pixels."""
    q = quantize(np.array([[[-1000, 3000]]], np.int32))
    assert q.stored.dtype == np.int16
    assert q.slope == 1.0
    with pytest.raises(InputError, match="NaN"):
        quantize(np.array([[[np.nan, 1.0]]]))
