"""Reading series into volumes: order, geometry problems, rescale, enhanced, compressed."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file

from vesalius.errors import DicomReadError, InputError, UnsupportedError
from vesalius.io import headers
from vesalius.io.dicom_read import read_dicom
from vesalius.io.problems import ProblemCode

SeriesWriter = Callable[..., list[Path]]


def _codes(result: object) -> set[ProblemCode]:
    return {p.code for p in result.problems}  # type: ignore[attr-defined]


def _testfile(name: str) -> str:
    path = get_testdata_file(name)
    assert isinstance(path, str)
    return path


def test_slices_are_sorted_by_position_not_file_order(ct_series: SeriesWriter) -> None:
    """Shuffled file lists must give the same volume: slices sorted along the normal."""
    paths = ct_series([4.0, 0.0, 2.0, 6.0])
    ordered = read_dicom(paths).volume
    shuffled = list(paths)
    random.Random(1).shuffle(shuffled)
    again = read_dicom(shuffled).volume
    assert np.array_equal(ordered.array, again.array)
    corner = ordered.array[:, 0, 0].astype(int) + 1024
    assert corner.tolist() == [200, 300, 100, 400]  # written at z = 0, 2, 4, 6
    assert ordered.origin == pytest.approx((-10.0, -20.0, 0.0))
    assert ordered.spacing == pytest.approx((2.0, 0.8, 0.7))
    assert ordered.source is not None
    assert ordered.source.n_instances == 4
    assert ordered.provenance[0].name == "ReadDicomSeries"
    assert ordered.frame_of_reference_uid
    assert ordered.modality == "CT"


def test_affine_maps_voxels_to_dicom_positions(ct_series: SeriesWriter) -> None:
    """Each voxel (k, j, i) must land where the file's IPP + IOP say it is, oblique too."""
    iop = (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)  # sagittal
    paths = ct_series([0.0, 1.5, 3.0], iop=iop, pixel_spacing=(0.5, 0.25))
    volume = read_dicom(paths).volume
    for k, path in enumerate(paths):
        ds = pydicom.dcmread(path)
        ipp = np.array(ds.ImagePositionPatient, float)
        row, col = np.array(iop[:3]), np.array(iop[3:])
        expected = ipp + row * 0.25 * 4 + col * 0.5 * 3  # column i=4, row j=3
        assert volume.index_to_lps([[k, 3, 4]])[0] == pytest.approx(expected)


def test_missing_slice_is_reported_not_hidden(ct_series: SeriesWriter) -> None:
    """A gap twice the spacing must be reported as a missing slice."""
    result = read_dicom(ct_series([0.0, 2.0, 6.0, 8.0]))
    assert ProblemCode.MISSING_SLICES in _codes(result)
    assert result.volume.shape[0] == 4
    assert result.volume.spacing[0] == pytest.approx(2.0)


def test_resample_irregular_fills_the_gap_by_linear_interpolation(ct_series: SeriesWriter) -> None:
    """With resample_irregular=True the missing slice is interpolated onto a regular grid."""
    result = read_dicom(ct_series([0.0, 2.0, 6.0, 8.0]), resample_irregular=True)
    volume = result.volume
    assert volume.shape[0] == 5
    assert ProblemCode.RESAMPLED in _codes(result)
    original = read_dicom(ct_series([0.0, 2.0, 6.0, 8.0], folder="b")).volume.array
    assert np.allclose(volume.array[2], (original[1].astype(float) + original[2]) / 2)
    assert np.allclose(volume.array[3], original[2])


def test_irregular_spacing_is_reported(ct_series: SeriesWriter) -> None:
    """Uneven gaps that are not whole multiples must be reported as irregular spacing."""
    assert ProblemCode.IRREGULAR_SPACING in _codes(read_dicom(ct_series([0.0, 2.0, 4.7, 6.7])))


def test_duplicate_positions_keep_the_first_and_are_reported(
    ct_series: SeriesWriter, tmp_path: Path
) -> None:
    """Two files at the same position must not both become slices."""
    paths = ct_series([0.0, 2.0, 4.0], series_uid="1.2.826.0.1.1")
    paths += ct_series(
        [2.0],
        series_uid="1.2.826.0.1.1",
        folder="dup",
        seed=5,
        study_uid=pydicom.dcmread(paths[0]).StudyInstanceUID,
    )
    result = read_dicom(paths)
    assert ProblemCode.DUPLICATE_POSITION in _codes(result)
    assert result.volume.shape[0] == 3


def test_inconsistent_orientation_keeps_the_majority(ct_series: SeriesWriter) -> None:
    """A scout with another orientation in the series must be left out and reported."""
    paths = ct_series([0.0, 2.0, 4.0], series_uid="1.2.826.0.1.2")
    study = pydicom.dcmread(paths[0]).StudyInstanceUID
    paths += ct_series(
        [10.0], iop=(1, 0, 0, 0, 0, -1), series_uid="1.2.826.0.1.2", folder="scout", study_uid=study
    )
    result = read_dicom(paths)
    assert ProblemCode.INCONSISTENT_ORIENTATION in _codes(result)
    assert result.volume.shape[0] == 3


def test_gantry_tilt_gives_a_sheared_affine_and_a_problem(ct_series: SeriesWriter) -> None:
    """Tilted slices shift in-plane; the affine must follow the real slice positions."""
    paths = ct_series([0.0, 2.0, 4.0], in_plane_shift=(0.0, 0.5))
    result = read_dicom(paths)
    assert ProblemCode.GANTRY_TILT in _codes(result)
    last = np.array(pydicom.dcmread(paths[2]).ImagePositionPatient, float)
    assert result.volume.index_to_lps([[2, 0, 0]])[0] == pytest.approx(last)


def test_integer_rescale_gives_int16_and_fractional_slope_float32(ct_series: SeriesWriter) -> None:
    """HU with slope 1 stay int16; a slope of 0.5 must give float32 with the right values."""
    paths = ct_series([0.0, 1.0])
    ints = read_dicom(paths).volume
    stored = pydicom.dcmread(paths[1]).pixel_array
    assert ints.array.dtype == np.int16
    assert np.array_equal(ints.array[1], stored.astype(np.int16) - 1024)
    halves = ct_series([0.0, 1.0], slope=0.5, intercept=-10.5, folder="f")
    floats = read_dicom(halves).volume
    stored = pydicom.dcmread(halves[1]).pixel_array
    assert floats.array.dtype == np.float32
    assert np.allclose(floats.array[1], 0.5 * stored - 10.5)


def test_unsigned_values_that_overflow_int16_become_float32(ct_series: SeriesWriter) -> None:
    """uint16 data with values above 32767 + intercept must not wrap around."""
    paths = ct_series([0.0, 1.0], stored=np.uint16, intercept=0.0)
    ds = pydicom.dcmread(paths[1])
    pixels = ds.pixel_array.copy()
    pixels[2, 2] = 60000
    ds.PixelData = pixels.tobytes()
    ds.save_as(paths[1])
    volume = read_dicom(paths).volume
    assert volume.array.dtype == np.float32
    assert volume.array[1, 2, 2] == 60000.0


def test_several_series_need_a_series_uid(ct_series: SeriesWriter, tmp_path: Path) -> None:
    """Reading a folder with two series must ask which one, naming their UIDs."""
    ct_series([0, 1], folder="two/a", series_uid="1.2.826.0.9.1")
    ct_series([0, 1], folder="two/b", series_uid="1.2.826.0.9.2")
    with pytest.raises(InputError, match=r"1\.2\.826\.0\.9\.1"):
        read_dicom(tmp_path / "two")
    assert read_dicom(tmp_path / "two", series_uid="1.2.826.0.9.2").volume.shape[0] == 2


def test_folder_with_one_broken_file_reads_the_rest(
    ct_series: SeriesWriter, tmp_path: Path
) -> None:
    """One corrupt file must not stop the series: it is listed, the others are read."""
    paths = ct_series([0, 1, 2, 3])
    paths[3].write_bytes(b"garbage" * 10)
    result = read_dicom(tmp_path / "ct")
    assert result.volume.shape[0] == 3
    assert any(p.path == str(paths[3]) for p in result.problems)


def test_first_header_is_exposed_without_pixels(ct_series: SeriesWriter) -> None:
    """Later stages (PET SUV) need the header of the first slice; it has no Pixel Data."""
    result = read_dicom(ct_series([4.0, 0.0]))
    assert result.header.PatientName == "Test^Phantom"
    assert "PixelData" not in result.header
    assert result.header.SOPInstanceUID == result.volume.source.sop_instance_uids[0]


def test_enhanced_ct_multiframe_reads_with_per_frame_positions() -> None:
    """Enhanced CT: positions from Per-frame groups, spacing/rescale from Shared groups."""
    path = _testfile("eCT_Supplemental.dcm")
    volume = read_dicom(path).volume
    ds = pydicom.dcmread(path)
    assert volume.shape == (2, 512, 512)
    assert volume.spacing == pytest.approx((10.0, 0.388672, 0.388672))
    # IOP (-1,0,0, 0,1,0): the normal points to -z, so the z=-149 frame comes first
    assert volume.origin == pytest.approx((99.5, -301.5, -149.0))
    assert volume.direction[:, 0] == pytest.approx((0.0, 0.0, -1.0))
    expected = ds.pixel_array[::-1].astype(np.int32) - 1024
    assert np.array_equal(volume.array.astype(np.int32), expected)


def test_enhanced_mr_without_functional_groups_reads_with_default_geometry() -> None:
    """emri_small has no position data: a volume with a no_geometry problem, not a crash."""
    result = read_dicom(_testfile("emri_small.dcm"))
    assert result.volume.shape == (10, 64, 64)
    assert ProblemCode.NO_GEOMETRY in _codes(result)
    assert result.volume.spacing[0] == pytest.approx(1.2)


@pytest.mark.parametrize(
    "twin",
    [
        "emri_small_RLE.dcm",
        "emri_small_jpeg_2k_lossless.dcm",
        "emri_small_jpeg_ls_lossless.dcm",
        "emri_small_big_endian.dcm",
    ],
)
def test_enhanced_mr_compressed_twins_match_uncompressed(twin: str) -> None:
    """The same enhanced MR in another transfer syntax must give identical voxels."""
    reference = read_dicom(_testfile("emri_small.dcm")).volume.array
    assert np.array_equal(read_dicom(_testfile(twin)).volume.array, reference)


@pytest.mark.parametrize(
    "twin",
    [
        "MR_small_jp2klossless.dcm",
        "MR_small_RLE.dcm",
        "MR_small_jpeg_ls_lossless.dcm",
        "MR_small_implicit.dcm",
        "MR_small_bigendian.dcm",
        "MR_small_expb.dcm",
    ],
)
def test_compressed_mr_matches_uncompressed_twin(twin: str) -> None:
    """Lossless JPEG 2000, RLE, JPEG-LS and other syntaxes give the same pixels and geometry."""
    reference = read_dicom(_testfile("MR_small.dcm")).volume
    other = read_dicom(_testfile(twin)).volume
    assert np.array_equal(other.array, reference.array)
    assert np.allclose(other.affine, reference.affine)


@pytest.mark.parametrize(
    ("compressed", "plain"), [("693_J2KR.dcm", "693_UNCR.dcm"), ("RG1_J2KR.dcm", "RG1_UNCR.dcm")]
)
def test_jpeg2000_lossless_matches_uncompressed(compressed: str, plain: str) -> None:
    """pydicom-data's lossless JPEG 2000 CT / CR equal their uncompressed versions."""
    assert np.array_equal(
        read_dicom(_testfile(compressed)).volume.array, read_dicom(_testfile(plain)).volume.array
    )


def test_rt_dose_uses_grid_frame_offsets_and_dose_scaling() -> None:
    """RT Dose: frames placed by Grid Frame Offset Vector, values scaled to Gy (float32)."""
    path = _testfile("rtdose.dcm")
    ds = pydicom.dcmread(path)
    volume = read_dicom(path).volume
    offsets = [float(v) for v in ds.GridFrameOffsetVector]
    assert volume.shape[0] == len(offsets)
    assert volume.spacing[0] == pytest.approx(offsets[1] - offsets[0])
    expected = ds.pixel_array * float(ds.DoseGridScaling)
    assert np.allclose(volume.array, expected, rtol=1e-6)


def test_colour_image_is_refused_with_the_file_named() -> None:
    """An RGB secondary capture cannot be a grey-level volume: UnsupportedError naming it."""
    path = _testfile("SC_rgb.dcm")
    with pytest.raises(UnsupportedError, match=r"SC_rgb\.dcm: colour image"):
        read_dicom(path)


def test_truncated_pixel_data_is_a_dicom_read_error() -> None:
    """A file cut short in its pixel data gives DicomReadError naming the file."""
    with pytest.raises(DicomReadError, match=r"MR_truncated\.dcm"):
        read_dicom(_testfile("MR_truncated.dcm"))


def test_fast_header_scanner_agrees_with_pydicom(ct_series: SeriesWriter) -> None:
    """The fast header path must give exactly what the pydicom path gives."""
    for path in [
        *ct_series([0.0]),
        _testfile("CT_small.dcm"),
        _testfile("MR_small.dcm"),
        _testfile("rtdose.dcm"),
        _testfile("MR_small_implicit.dcm"),
    ]:
        fast = headers.read_header(path)
        slow = headers._header_from_dataset(str(path), headers._parse(str(path)))
        for name in (
            "study_uid",
            "series_uid",
            "sop_instance_uid",
            "rows",
            "columns",
            "bits_stored",
            "pixel_offset",
            "pixel_length",
            "frames",
            "slice_spacing_hint",
            "transfer_syntax",
            "instance_number",
        ):
            assert getattr(fast, name) == getattr(slow, name), (path, name)
