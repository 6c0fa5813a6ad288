"""Every file of pydicom's (and pydicom-data's) test collection: a volume, a listed non-image
object, or an InputError naming the file. Nothing else may escape to the user."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from pydicom.data import get_testdata_files

from vesalius.core import Volume
from vesalius.errors import InputError
from vesalius.io.dicom_read import read_dicom, read_series
from vesalius.io.scan import scan_dicom

_ROOT = Path(get_testdata_files("CT_small.dcm")[0]).parents[2]
_FILES = sorted(get_testdata_files())


def _id(path: str) -> str:
    return os.path.relpath(path, _ROOT)


@pytest.mark.parametrize("path", _FILES, ids=[_id(p) for p in _FILES])
def test_testdata_file_reads_or_fails_cleanly(path: str) -> None:
    """Any DICOM test file either reads, is listed as non-image, or names itself in an error."""
    if os.path.isdir(path):  # a few entries are folders (DICOMDIR file sets): read each series
        scan = scan_dicom(path)
        for series in scan.series:
            _read_or_clean_error(lambda s=series: read_series(s).volume, path)  # type: ignore[misc]
        return
    scan = scan_dicom(path)
    if scan.non_images:
        assert scan.non_images[0].path == path
        assert not scan.series
        return
    _read_or_clean_error(lambda: read_dicom(path).volume, path)


def _read_or_clean_error(read: Callable[[], Volume], path: str) -> None:
    error: InputError | None = None
    try:
        volume = read()
    except InputError as err:
        error = err
    if error is not None:
        assert error.path is not None
        assert Path(error.path).name in str(error)
        assert error.problem
        return
    assert volume.array.ndim == 3
    assert min(volume.shape) >= 1
