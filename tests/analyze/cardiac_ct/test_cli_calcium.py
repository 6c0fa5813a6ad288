"""The ``calcium`` command, through a small Typer app as the CLI registers it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from vesalius.analyze.cardiac_ct import score_calcium
from vesalius.cli.calcium import calcium
from vesalius.cli.main import user_errors_exit_2
from vesalius.core import Volume
from vesalius.io.dicom_read import read_dicom
from vesalius.io.nifti import write_nifti
from vesalius.simulate.chest_ct import ChestCTSpec, chest_ct, write_chest_ct


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command()(user_errors_exit_2(calcium))
    return app


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("calcium-ct")
    write_chest_ct(chest_ct(ChestCTSpec(shape=(75, 192, 192), noise_hu=8.0), seed=5), out)
    return out / "ct"


def test_command_prints_the_score_of_the_dicom_series(series: Path) -> None:
    """The printed score must be the library's score of the same series read from DICOM."""
    expected = score_calcium(read_dicom(series).volume)
    result = CliRunner().invoke(_app(), [str(series), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["agatston"] == pytest.approx(expected.agatston)
    assert doc["cac_drs"] == expected.cac_drs.label
    assert len(doc["lesions"]) == len(expected.lesions) > 0
    table = CliRunner().invoke(_app(), [str(series)])
    assert table.exit_code == 0, table.output
    assert f"Agatston {expected.agatston:.1f}" in table.output
    assert "CAC-DRS" in table.output


def test_non_chest_nifti_exits_2_naming_the_file(tmp_path: Path) -> None:
    """A head-sized water cylinder gives one error line with the file name, no traceback."""
    arr = np.full((20, 48, 48), -1000, np.int16)
    yy, xx = np.mgrid[:48, :48]
    arr[:, (yy - 24) ** 2 + (xx - 24) ** 2 < 20**2] = 40
    path = tmp_path / "head.nii.gz"
    write_nifti(Volume.from_spacing(arr, spacing=(3.0, 2.0, 2.0)), path)
    result = CliRunner().invoke(_app(), [str(path)])
    assert result.exit_code == 2
    assert "head.nii.gz" in result.output
    assert "no lungs found" in result.output
    assert "Traceback" not in result.output


def test_folder_without_dicom_exits_2(tmp_path: Path) -> None:
    """An empty folder is a user error, reported in one line."""
    result = CliRunner().invoke(_app(), [str(tmp_path)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
