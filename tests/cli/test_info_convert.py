"""``vesalius info`` and ``vesalius convert`` through Typer, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import typer
from pydicom.data import get_testdata_file
from typer.testing import CliRunner

from vesalius.cli.convert import convert
from vesalius.cli.info import info
from vesalius.cli.main import user_errors_exit_2
from vesalius.io.dicom_read import read_dicom
from vesalius.io.nifti import read_nifti


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("info")(user_errors_exit_2(info))
    app.command("convert")(user_errors_exit_2(convert))
    return app


def _mr_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "dicom"
    folder.mkdir()
    for name in ("MR_small.dcm", "CT_small.dcm"):
        source = get_testdata_file(name)
        assert isinstance(source, str)
        (folder / name).write_bytes(Path(source).read_bytes())
    (folder / "README").write_text("not dicom")
    return folder


def test_info_json_lists_series_and_unreadable_files(tmp_path: Path) -> None:
    """``info --json`` prints the summary document; the stray README is listed."""
    result = CliRunner().invoke(_app(), ["info", str(_mr_folder(tmp_path)), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    modalities = sorted(s["modality"] for st in doc["studies"] for s in st["series"])
    assert modalities == ["CT", "MR"]
    assert [Path(p["path"]).name for p in doc["unreadable_files"]] == ["README"]


def test_info_table_mentions_each_series(tmp_path: Path) -> None:
    """Plain ``info`` prints a table with the modalities and shapes."""
    result = CliRunner().invoke(_app(), ["info", str(_mr_folder(tmp_path))])
    assert result.exit_code == 0, result.output
    assert "MR" in result.stdout
    assert "1x64x64" in result.stdout


def test_info_on_missing_path_exits_2_with_one_line(tmp_path: Path) -> None:
    """A wrong path is a user error: exit code 2 and one line, no traceback."""
    result = CliRunner().invoke(_app(), ["info", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "no such file" in result.output
    assert "Traceback" not in result.output


def test_convert_several_series_to_one_file_requires_series(tmp_path: Path) -> None:
    """Two series into one .nii.gz is ambiguous: exit 2 naming the series UIDs."""
    result = CliRunner().invoke(
        _app(), ["convert", str(_mr_folder(tmp_path)), str(tmp_path / "out.nii.gz")]
    )
    assert result.exit_code == 2
    assert "series_uid" in result.output


def test_convert_chosen_series_writes_matching_nifti(tmp_path: Path) -> None:
    """``--series`` picks one series; the NIfTI holds the same voxels and geometry."""
    folder = _mr_folder(tmp_path)
    mr = read_dicom(folder / "MR_small.dcm").volume
    assert mr.source is not None
    out = tmp_path / "mr.nii.gz"
    result = CliRunner().invoke(
        _app(), ["convert", str(folder), str(out), "--series", mr.source.series_uid]
    )
    assert result.exit_code == 0, result.output
    back = read_nifti(out)
    assert np.array_equal(back.array, mr.array)
    assert np.allclose(back.affine, mr.affine, atol=1e-4)


def test_convert_to_folder_writes_one_file_per_series(tmp_path: Path) -> None:
    """OUT without a NIfTI suffix is a folder with series_001.nii.gz, series_002.nii.gz."""
    result = CliRunner().invoke(
        _app(), ["convert", str(_mr_folder(tmp_path)), str(tmp_path / "out")]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "series_001.nii.gz",
        "series_002.nii.gz",
    ]


def test_convert_nifti_to_dicom_is_refused_clearly(tmp_path: Path) -> None:
    """NIfTI -> DICOM is not this command's job: exit 2 with a clear message."""
    source = get_testdata_file("CT_small.dcm")
    assert isinstance(source, str)
    CliRunner().invoke(_app(), ["convert", source, str(tmp_path / "a.nii")])
    result = CliRunner().invoke(
        _app(), ["convert", str(tmp_path / "a.nii"), str(tmp_path / "b.dcm")]
    )
    assert result.exit_code == 2
    assert "NIfTI only" in result.output


@pytest.mark.parametrize("bad", ["README"])
def test_convert_non_dicom_input_exits_2(tmp_path: Path, bad: str) -> None:
    """A file that is not DICOM gives exit 2 with the file named."""
    path = tmp_path / bad
    path.write_text("hello")
    result = CliRunner().invoke(_app(), ["convert", str(path), str(tmp_path / "x.nii")])
    assert result.exit_code == 2
    assert bad in result.output
