"""The fast encoder and the in-memory reader: same bytes as pydicom, pixels never copied."""

from __future__ import annotations

import hashlib
import hmac
import warnings
from io import BytesIO
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.data.data_manager import DATA_ROOT
from pydicom.dataelem import RawDataElement
from pydicom.dataset import FileDataset
from pydicom.errors import InvalidDicomError
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset, write_file_meta_info

from vesalius.ingest.deid import CompiledProfile, DeidKeys, deidentify_dataset
from vesalius.ingest.deid.encode import encode
from vesalius.ingest.deid.read import parse_instance, peek, read_instance, unusable_reason

from .conftest import MakeCT

KEYS = DeidKeys(b"encode secret")
PIXEL_DATA = 0x7FE00010
_FILES = sorted(
    p for folder in ("test_files", "charset_files") for p in Path(DATA_ROOT, folder).glob("*.dcm")
)


def _pydicom_bytes(ds: FileDataset) -> bytes | str:
    """The file as pydicom's own writers encode it (the encoder Vesalius had before)."""
    syntax = ds.file_meta.get("TransferSyntaxUID")
    try:
        if syntax is None or syntax.is_deflated or not syntax.is_transfer_syntax:
            buffer = BytesIO()
            ds.preamble = b"\x00" * 128
            ds.save_as(buffer, enforce_file_format=True)
            return buffer.getvalue()
        out = DicomBytesIO()
        out.write(b"\x00" * 128 + b"DICM")
        write_file_meta_info(out, ds.file_meta, enforce_standard=True)
        out.is_implicit_VR, out.is_little_endian = syntax.is_implicit_VR, syntax.is_little_endian
        write_dataset(out, ds)
        return out.getvalue()
    except Exception as err:  # the comparison is on the outcome, errors included
        return type(err).__name__


def _fast_bytes(ds: FileDataset, source: bytes | None = None) -> bytes | str:
    try:
        return encode(ds, source=source)
    except Exception as err:
        return type(err).__name__


def _read_twice(path: Path) -> tuple[FileDataset, FileDataset, bytes]:
    data = path.read_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # broken test files warn; both sides read alike
        try:
            return parse_instance(data, name=str(path)), parse_instance(data, name=str(path)), data
        except InvalidDicomError:
            pytest.skip("not an instance Vesalius de-identifies (no header and no SOP UIDs)")


@pytest.mark.parametrize("path", _FILES, ids=[p.name for p in _FILES])
@pytest.mark.parametrize("deidentify", [False, True], ids=["as-read", "deidentified"])
def test_fast_encoder_writes_the_bytes_pydicom_writes(
    path: Path, deidentify: bool, basic: CompiledProfile
) -> None:
    """Every pydicom test file (charsets, implicit VR, big endian, compressed, sequences)
    encodes to the bytes pydicom's writers give: a user never gets a different file.
    """
    if path.stat().st_size > 4_000_000:
        pytest.skip("large file: kept out of the quick suite")
    expected_ds, ds, data = _read_twice(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if deidentify:
            for one in (expected_ds, ds):
                try:
                    deidentify_dataset(one, profile=basic, keys=KEYS)
                except Exception:
                    pytest.skip("pydicom cannot parse this file far enough to de-identify it")
        if not hasattr(expected_ds, "file_meta") or not hasattr(ds, "file_meta"):
            pytest.skip("no file meta to encode")
        assert _fast_bytes(ds, data) == _pydicom_bytes(expected_ds)


def test_large_pixel_data_is_written_from_the_file_bytes_not_loaded(
    tmp_path: Path, make_ct: MakeCT, basic: CompiledProfile
) -> None:
    """Pixel Data stays in the file's bytes while de-identifying and encoding; pixels are exact."""
    path = tmp_path / "ct.dcm"
    make_ct(size=128).save_as(path, enforce_file_format=True)
    data = path.read_bytes()
    ds = parse_instance(data, name=str(path))
    pixel = ds.get_item(PIXEL_DATA, keep_deferred=True)
    assert isinstance(pixel, RawDataElement)
    assert pixel.value is None
    deidentify_dataset(ds, profile=basic, keys=KEYS)
    written = encode(ds, source=data)
    still = ds.get_item(PIXEL_DATA, keep_deferred=True)
    assert isinstance(still, RawDataElement)
    assert still.value is None
    assert dcmread(BytesIO(written)).PixelData == dcmread(path).PixelData
    assert written == encode(ds)  # without the source, pydicom loads the value: same bytes


def test_truncated_deferred_pixel_data_is_refused(tmp_path: Path, make_ct: MakeCT) -> None:
    """A file cut inside its (deferred) Pixel Data is reported truncated, with the byte counts."""
    whole = tmp_path / "whole.dcm"
    make_ct(size=128).save_as(whole, enforce_file_format=True)
    data = whole.read_bytes()
    cut = tmp_path / "cut.dcm"
    cut.write_bytes(data[:-1000])
    ds = read_instance(cut)
    length = 128 * 128 * 2
    assert unusable_reason(ds) == (
        f"truncated file: last element holds {length - 1000} of {length} bytes"
    )
    assert unusable_reason(read_instance(whole)) is None


def test_peek_keeps_deferred_values_but_converts_empty_ones(
    tmp_path: Path, make_ct: MakeCT
) -> None:
    """peek leaves Pixel Data unread, and converts an empty element as pydicom's get_item does."""
    ds = make_ct(size=128)
    ds.add_new(0x00180010, "UN", b"")  # Contrast/Bolus Agent, empty, VR unknown in the file
    path = tmp_path / "ct.dcm"
    ds.save_as(path, enforce_file_format=True)
    parsed = parse_instance(path.read_bytes(), name=str(path))
    pixel = peek(parsed, PIXEL_DATA)
    assert isinstance(pixel, RawDataElement)
    assert pixel.value is None
    assert peek(parsed, 0x00180010).VR == parsed.get_item(0x00180010).VR


def test_cached_keyed_uid_is_the_documented_hmac() -> None:
    """The per-process caches give the HMAC-SHA256 the docs promise, per secret, every time."""
    digest = hmac.new(b"encode secret", b"uid\x001.2.3", hashlib.sha256).digest()
    expected = "2.25." + str(int.from_bytes(digest[:16], "big"))
    assert KEYS.uid("1.2.3") == expected
    assert KEYS.uid("1.2.3") == expected
    assert DeidKeys(b"another").uid("1.2.3") != expected


def test_non_ascii_text_in_latin1_is_encoded_by_pydicom_rules(make_ct: MakeCT) -> None:
    """Text outside ASCII (ISO_IR 100) is written exactly as pydicom writes it."""
    ds = make_ct()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.Manufacturer = "Müller Medizintechnik"
    ds.StudyDescription = "Thorax nativ"
    buffer = BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    fresh = dcmread(BytesIO(buffer.getvalue()))
    expected = dcmread(BytesIO(buffer.getvalue()))
    assert isinstance(fresh, FileDataset)
    assert isinstance(expected, FileDataset)
    fresh.Manufacturer = expected.Manufacturer = "Größe Ärzte"
    assert encode(fresh) == _pydicom_bytes(expected)

    assert dcmread(BytesIO(encode(fresh))).Manufacturer == "Größe Ärzte"
