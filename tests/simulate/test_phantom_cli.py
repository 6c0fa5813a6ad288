"""``vesalius phantom``: writes a study and a summary; bad input exits 2 with one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from vesalius.cli.main import user_errors_exit_2
from vesalius.cli.phantom import phantom


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command()(user_errors_exit_2(phantom))
    return app


@pytest.mark.parametrize(
    ("kind", "folders"), [("chest-ct", ["ct"]), ("brain-mr", ["mr"]), ("pet-ct", ["ct", "pet"])]
)
def test_phantom_command_writes_series_truth_and_labels(
    kind: str, folders: list[str], tmp_path: Path
) -> None:
    """Each kind writes its series folders, label maps and ground_truth.json."""
    out = tmp_path / kind
    result = CliRunner().invoke(_app(), [kind, str(out), "--seed", "3", "--size", "16x32x32"])
    assert result.exit_code == 0, result.output
    assert kind in result.output
    assert "ground_truth.json" in result.output
    manifest = json.loads((out / "ground_truth.json").read_text())
    assert manifest["kind"] == kind
    assert manifest["seed"] == 3
    assert [s["folder"] for s in manifest["series"]] == folders
    for folder in folders:
        assert (out / folder / "IMG00001.dcm").is_file()
    assert list(out.glob("labels_*.nii.gz"))


def test_unknown_kind_exits_2_with_one_line(tmp_path: Path) -> None:
    """A typo in KIND is a user error: exit code 2, a message, no traceback."""
    result = CliRunner().invoke(_app(), ["chest-mr", str(tmp_path)])
    assert result.exit_code == 2
    assert "unknown phantom kind" in result.output
    assert "Traceback" not in result.output


def test_bad_size_exits_2(tmp_path: Path) -> None:
    """--size must be small, full or ZxYxX."""
    result = CliRunner().invoke(_app(), ["chest-ct", str(tmp_path), "--size", "big"])
    assert result.exit_code == 2
    assert "--size" in result.output
