"""The ``vesalius store`` command, through a tiny Typer app as the lead registers it."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from vesalius.cli.main import user_errors_exit_2
from vesalius.cli.store import store_status
from vesalius.store import head_revision, sqlite_url


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command(name="store")(user_errors_exit_2(store_status))
    app.command(name="noop")(lambda: None)  # keeps "store" a named sub-command
    return app


def test_store_command_creates_the_index_and_prints_its_revision(tmp_path: Path) -> None:
    """A user running `vesalius store` on a new folder gets an index at the head revision."""
    url = sqlite_url(tmp_path / "data" / "index.sqlite3")
    result = CliRunner().invoke(_app(), ["store", "--url", url])
    assert result.exit_code == 0, result.output
    assert f"revision  {head_revision()}" in result.output
    assert "instances 0" in result.output
    assert (tmp_path / "data" / "index.sqlite3").is_file()


def test_store_command_reads_the_settings_file(tmp_path: Path) -> None:
    """With --config the index goes where the settings' data_dir says."""
    (tmp_path / "vesalius.toml").write_text('data_dir = "site"\n')
    result = CliRunner().invoke(_app(), ["store", "--config", str(tmp_path / "vesalius.toml")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "site" / "index.sqlite3").is_file()


def test_bad_url_exits_2_with_one_line(tmp_path: Path) -> None:
    """A wrong URL is a one-line error and exit code 2, not a traceback."""
    result = CliRunner().invoke(_app(), ["store", "--url", "mysql://x/y"])
    assert result.exit_code == 2
    assert "only sqlite and postgresql" in result.output
    assert "Traceback" not in result.output


def test_unopenable_index_exits_1_with_one_line(tmp_path: Path) -> None:
    """A file that is not a database gives one error line and exit code 1."""
    (tmp_path / "junk").write_bytes(b"junk" * 1000)
    result = CliRunner().invoke(_app(), ["store", "--url", sqlite_url(tmp_path / "junk")])
    assert result.exit_code == 1
    assert "cannot open the index" in result.output
    assert "Traceback" not in result.output
