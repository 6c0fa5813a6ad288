"""The real ``vesalius`` entry point: a user's mistake is one line and exit 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydicom.data import get_testdata_files
from typer.testing import CliRunner

from vesalius.cli.main import app

TEST_FILES = sorted(get_testdata_files())


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    # An exception other than SystemExit escaping the command is a traceback for the user.
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"traceback for {args}: {result.exception!r}") from result.exception
    return result.exit_code, result.output


def test_every_command_is_listed_in_help() -> None:
    code, output = _invoke("--help")
    assert code == 0
    for name in ("info", "convert", "suv", "store"):
        assert name in output


@pytest.mark.parametrize("path", TEST_FILES, ids=[Path(p).name for p in TEST_FILES])
def test_converting_any_pydicom_test_file_succeeds_or_names_the_file(
    path: str, tmp_path: Path
) -> None:
    """Each of pydicom's test files converts, or exit 2 with a message naming the file."""
    code, output = _invoke("convert", path, str(tmp_path / "out.nii.gz"))
    assert code in (0, 2), output
    if code == 2:
        assert output.startswith("error: ")
        assert Path(path).name in output
        assert len(output.strip().splitlines()) <= 3, output
    else:
        assert (tmp_path / "out.nii.gz").is_file()


def test_settings_file_errors_exit_2(tmp_path: Path) -> None:
    """A broken settings file is a user error, reported with its path."""
    bad = tmp_path / "vesalius.toml"
    bad.write_text("data_dir = [unclosed\n")
    code, output = _invoke("store", "--config", str(bad))
    assert code == 2
    assert str(bad) in output
