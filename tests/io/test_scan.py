"""Scanning folders: grouping by series, listing non-images, reporting broken files."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from pydicom.data import get_testdata_file

from vesalius.errors import InputError
from vesalius.io.problems import ProblemCode
from vesalius.io.scan import scan_dicom

SeriesWriter = Callable[..., list[Path]]


def test_mixed_folder_is_split_into_its_series(ct_series: SeriesWriter, tmp_path: Path) -> None:
    """A user drops two series in one folder: scan must not merge them into one volume."""
    ct_series([0, 2, 4], folder="mixed/a")
    ct_series([0, 3], folder="mixed/b")
    scan = scan_dicom(tmp_path / "mixed")
    assert sorted(s.n_instances for s in scan.series) == [2, 3]
    assert len({s.series_uid for s in scan.series}) == 2


def test_broken_and_non_dicom_files_are_listed_not_fatal(
    ct_series: SeriesWriter, tmp_path: Path
) -> None:
    """A stray text file and a truncated DICOM must be named as problems; the rest reads."""
    paths = ct_series([0, 1, 2], folder="f")
    (tmp_path / "f" / "notes.txt").write_text("hello")
    data = paths[0].read_bytes()
    (tmp_path / "f" / "cut.dcm").write_bytes(data[:200])
    scan = scan_dicom(tmp_path / "f")
    assert scan.series[0].n_instances == 3
    by_file = {Path(p.path).name: p.code for p in scan.problems if p.path}
    assert by_file["notes.txt"] == ProblemCode.NOT_DICOM
    assert by_file["cut.dcm"] in (ProblemCode.UNREADABLE, ProblemCode.NOT_DICOM)


def test_structured_report_and_segmentation_are_listed_as_non_images(tmp_path: Path) -> None:
    """SR and SEG objects must be listed, not read as image volumes."""
    for name in ("test-SR.dcm", "liver.dcm", "rtplan.dcm"):
        shutil.copy(get_testdata_file(name), tmp_path / name)  # type: ignore[arg-type]
    scan = scan_dicom(tmp_path)
    assert scan.series == ()
    names = sorted(o.sop_class_name for o in scan.non_images)
    assert names == ["Comprehensive SR Storage", "RT Plan Storage", "Segmentation Storage"]


def test_missing_path_is_an_input_error(tmp_path: Path) -> None:
    """A typo in the folder name must say which path does not exist."""
    with pytest.raises(InputError, match="no such file"):
        scan_dicom(tmp_path / "nope")


def test_unknown_series_uid_names_the_known_ones(ct_series: SeriesWriter, tmp_path: Path) -> None:
    """Asking for a series that is not there lists the series that are."""
    ct_series([0, 1], series_uid="1.2.3.4")
    with pytest.raises(InputError, match=r"1\.2\.3\.4"):
        scan_dicom(tmp_path / "ct").get("9.9.9")
