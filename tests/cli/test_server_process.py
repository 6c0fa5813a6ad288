"""The demo's handle on a ``vesalius serve`` child process.

What would go wrong: a server that cannot start leaving the demo waiting forever, or the
reason it stopped lost; a server left running after the demo ends.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from vesalius.cli.server_process import ServerError, ServerProcess


def test_a_server_that_cannot_start_is_reported_with_its_own_words(tmp_path: Path) -> None:
    config = tmp_path / "vesalius.toml"
    config.write_text("dicom_port = 70000\n", encoding="utf-8")
    server = ServerProcess(config)
    try:
        with pytest.raises(ServerError, match=r"dicom_port must be 1\.\.65535") as caught:
            server.wait_for(lambda line: line.startswith("ready"), timeout_s=120, what="start")
        assert "stopped before start" in str(caught.value)
    finally:
        assert server.stop() == 2


def test_a_started_server_stops_cleanly_on_request(tmp_path: Path) -> None:
    config = tmp_path / "vesalius.toml"
    config.write_text('data_dir = "data"\ndicom_host = "127.0.0.1"\n', encoding="utf-8")
    server = ServerProcess(config, ["--port", "0", "--http-port", "0"])
    try:
        server.wait_for(lambda line: line.startswith("ready"), timeout_s=120, what="start")
    finally:
        code = server.stop()
    assert code == 0
    assert server.lines[-1] == "stopped"
