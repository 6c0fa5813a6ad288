"""``vesalius suv``: prints the factor, or one error line and exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from pydicom.dataset import FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
from typer.testing import CliRunner

from vesalius.cli.main import user_errors_exit_2
from vesalius.cli.suv import suv

from .test_suv import by_hand, pet_header


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    app.command()(user_errors_exit_2(suv))
    return app


def write(tmp_path: Path, **changes: object) -> Path:
    ds = pet_header(**changes)
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.128"
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    path = tmp_path / "pet.dcm"
    ds.save_as(path, enforce_file_format=True)
    return path


def test_suv_command_prints_the_factor_as_json(app: typer.Typer, tmp_path: Path) -> None:
    """The user gets the factor computed from the file's header."""
    result = CliRunner().invoke(app, [str(write(tmp_path)), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert 5000.0 * data["factor"] == pytest.approx(by_hand(5000.0, 70.0, 370e6, 3600.0))
    assert data["injection_time"] == "2024-03-01T09:00:00"


def test_suv_command_prints_a_table(app: typer.Typer, tmp_path: Path) -> None:
    """Without --json the factor is shown in a table."""
    result = CliRunner().invoke(app, [str(write(tmp_path))])
    assert result.exit_code == 0, result.output
    assert "decayed_dose_bq" in result.output


def test_suv_command_missing_weight_exits_2_with_one_line(app: typer.Typer, tmp_path: Path) -> None:
    """A header without the weight: exit code 2 and one line naming file and attribute."""
    path = write(tmp_path, PatientWeight=None)
    result = CliRunner().invoke(app, [str(path)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert str(path) in lines[0]
    assert "PatientWeight" in lines[0]


def test_suv_command_on_a_non_dicom_file_exits_2(app: typer.Typer, tmp_path: Path) -> None:
    """A text file is not DICOM: a one-line error, no traceback."""
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    result = CliRunner().invoke(app, [str(path)])
    assert result.exit_code == 2
    assert "cannot read as DICOM" in result.output
