"""The scanned header path files every instance exactly as the pydicom path does."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.data import get_charset_files, get_testdata_file, get_testdata_files

from vesalius.errors import DicomReadError
from vesalius.ingest.durable import read_header
from vesalius.io._fastheader import scan_header_bytes
from vesalius.store.header import InstanceHeader


def _pydicom_header(data: bytes) -> InstanceHeader | None:
    try:
        return InstanceHeader.from_dataset(dcmread(BytesIO(data), stop_before_pixels=True))
    except Exception:
        return None


def _files() -> list[str]:
    files = get_testdata_files("*.dcm") + get_charset_files("*.dcm")
    return [f for f in files if Path(f).stat().st_size < 4_000_000]


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore")
def test_every_test_file_gets_the_same_header_either_way() -> None:
    """Over pydicom's test files (charsets, syntaxes, odd values): equal, or pydicom decides."""
    compared = fast = 0
    for path in _files():
        data = Path(path).read_bytes()
        expected = _pydicom_header(data)
        if expected is None:
            continue
        raw = scan_header_bytes(data)
        got = None if raw is None else InstanceHeader.from_raw(raw, source=path)
        compared += 1
        if got is not None:
            fast += 1
            assert got == expected, path
    assert compared > 50
    assert fast > compared // 2  # the fast path is the common case, not the exception


def test_a_non_latin_character_set_goes_to_pydicom() -> None:
    [path] = get_charset_files("chrH31.dcm")  # ISO 2022 IR 87 (Japanese)
    raw = scan_header_bytes(Path(path).read_bytes())
    assert raw is not None
    assert InstanceHeader.from_raw(raw) is None
    header = read_header(Path(path).read_bytes())
    assert header.patient.name == str(dcmread(path).PatientName)


def test_missing_uids_are_refused_on_the_fast_path_too() -> None:
    ds = dcmread(get_testdata_file("CT_small.dcm"))
    del ds.SeriesInstanceUID
    buffer = BytesIO()
    ds.save_as(buffer)
    with pytest.raises(DicomReadError, match="missing SeriesInstanceUID"):
        read_header(buffer.getvalue())
