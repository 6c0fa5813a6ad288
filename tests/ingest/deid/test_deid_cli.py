"""``vesalius deid``: exit codes, one-line errors, the secret file."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from vesalius.cli.deid import deid, resolve_profile_table
from vesalius.cli.main import user_errors_exit_2
from vesalius.errors import InputError

from .conftest import write_ct


@pytest.fixture
def app() -> typer.Typer:
    """A tiny app holding only the deid command, wrapped as the real CLI wraps it."""
    application = typer.Typer()
    application.command(name="deid")(user_errors_exit_2(deid))

    @application.command()
    def noop() -> None:
        """Second command so that typer keeps the ``deid`` sub-command name."""

    return application


def test_clean_run_exits_0_and_saves_a_private_secret(
    app: typer.Typer, tmp_path: Path, table_path: Path
) -> None:
    """A good folder exits 0, writes clean/ and the report, and saves the new secret 0600."""
    write_ct(tmp_path / "in", "a.dcm")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["deid", str(tmp_path / "in"), str(out), "--profile-table", str(table_path)]
    )
    assert result.exit_code == 0, result.output
    assert "written 1, quarantined 0, errors 0" in result.output
    assert (out / "deid-report.json").is_file()
    key = out / "deid-secret.key"
    assert key.stat().st_mode & 0o777 == 0o600
    again = CliRunner().invoke(
        app, ["deid", str(tmp_path / "in"), str(out), "--profile-table", str(table_path)]
    )
    assert "reused" in again.output


def test_broken_file_exits_2_after_writing_the_rest(
    app: typer.Typer, tmp_path: Path, table_path: Path
) -> None:
    """One non-DICOM file: the good one is written, the bad one named, exit code 2."""
    write_ct(tmp_path / "in", "a.dcm")
    (tmp_path / "in" / "b.txt").write_text("hello")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        [
            "deid",
            str(tmp_path / "in"),
            str(out),
            "--profile-table",
            str(table_path),
            "--secret",
            "s3cret",
            "--retain-modified-dates",
            "--workers",
            "1",
        ],
    )
    assert result.exit_code == 2
    assert "error b.txt: not a DICOM file" in result.output
    assert "Traceback" not in result.output
    assert len(list((out / "clean").rglob("*.dcm"))) == 1
    assert not (out / "deid-secret.key").exists()


def test_missing_input_is_one_line_exit_2(app: typer.Typer, tmp_path: Path) -> None:
    """A missing input path gives exit 2 and one error line, no traceback."""
    result = CliRunner().invoke(app, ["deid", str(tmp_path / "nope"), str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "nope: no such file or folder" in result.output
    assert "Traceback" not in result.output


def test_missing_profile_table_says_to_pass_it(
    app: typer.Typer, tmp_path: Path, table_path: Path
) -> None:
    """A --profile-table that does not exist is named in a one-line error, exit 2."""
    write_ct(tmp_path / "in", "a.dcm")
    result = CliRunner().invoke(
        app,
        [
            "deid",
            str(tmp_path / "in"),
            str(tmp_path / "out"),
            "--profile-table",
            str(tmp_path / "t.csv"),
        ],
    )
    assert result.exit_code == 2
    assert "t.csv: cannot read profile table" in result.output


def test_no_default_table_anywhere_tells_to_pass_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """With no annex_e.csv next to the checkout, the error tells the user --profile-table."""
    monkeypatch.setattr("vesalius.cli.deid.default_profile_tables", lambda: ())
    with pytest.raises(InputError, match="pass --profile-table PATH"):
        resolve_profile_table(None)


def test_secret_and_secret_file_together_are_refused(
    app: typer.Typer, tmp_path: Path, table_path: Path
) -> None:
    """Two secrets at once are ambiguous: exit 2 with a one-line message."""
    write_ct(tmp_path / "in", "a.dcm")
    key = tmp_path / "k"
    key.write_text("abc\n")
    result = CliRunner().invoke(
        app,
        [
            "deid",
            str(tmp_path / "in"),
            str(tmp_path / "out"),
            "--profile-table",
            str(table_path),
            "--secret",
            "x",
            "--secret-file",
            str(key),
        ],
    )
    assert result.exit_code == 2
    assert "not both" in result.output
