"""``vesalius send``, ``query`` and ``retrieve`` as a user would run them against a listener."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import typer
from pydicom import dcmread
from pydicom.data import get_testdata_file
from typer.testing import CliRunner

from tests.ingest.dimse.conftest import Served, serve
from vesalius.cli.main import user_errors_exit_2
from vesalius.cli.query import query
from vesalius.cli.retrieve import retrieve
from vesalius.cli.send import send

CT = Path(str(get_testdata_file("CT_small.dcm")))


def _app() -> typer.Typer:
    app = typer.Typer()
    for name, func in (("send", send), ("query", query), ("retrieve", retrieve)):
        app.command(name=name)(user_errors_exit_2(func))
    return app


def _settings(tmp_path: Path, served: Served, name: str) -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(
        f'data_dir = "{name}-data"\nae_title = "TESTSCU"\n'
        f'[[peers]]\nname = "pacs"\nae_title = "VESALIUS"\nhost = "127.0.0.1"\n'
        f"port = {served.listener.port}\n"
    )
    return path


def test_send_then_query_then_retrieve_a_study(tmp_path: Path) -> None:
    for served in serve(tmp_path / "pacs"):
        config = _settings(tmp_path, served, "me")
        folder = tmp_path / "in"
        folder.mkdir()
        shutil.copy(CT, folder / "ct.dcm")
        (folder / "notes.txt").write_text("not DICOM")
        runner = CliRunner()
        sent = runner.invoke(_app(), ["send", str(folder), "--to", "pacs", "--config", str(config)])
        assert sent.exit_code == 1, sent.output  # the text file is listed as not sent
        assert "sent 1 of 2 files" in sent.output
        found = runner.invoke(_app(), ["query", "pacs", "--json", "--config", str(config)])
        assert found.exit_code == 0, found.output
        uid = dcmread(CT, stop_before_pixels=True).StudyInstanceUID
        assert [m["study_uid"] for m in json.loads(found.output)] == [uid]
        got = runner.invoke(_app(), ["retrieve", "pacs", uid, "--config", str(config)])
        assert got.exit_code == 0, got.output
        assert "retrieved 1 instances" in got.output
        assert any((tmp_path / "me-data" / "blobs").rglob("*.dcm"))


def test_an_unknown_peer_is_one_line_and_exit_2(tmp_path: Path) -> None:
    for served in serve(tmp_path / "pacs"):
        config = _settings(tmp_path, served, "me")
        result = CliRunner().invoke(_app(), ["query", "nowhere", "--config", str(config)])
        assert result.exit_code == 2
        assert "unknown DICOM peer 'nowhere'; known peers: pacs" in result.output
