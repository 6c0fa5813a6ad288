"""``vesalius serve`` as a site runs it: DICOM listener and HTTP service in one process.

What a user would see go wrong: a modality's echo or store refused, the web side (health,
QIDO-RS) not answering or not showing what the listener stored, a completed study never
announced, Ctrl-C or SIGTERM leaving the process hanging or exiting with an error, or a
busy port giving a traceback instead of one line.
"""

from __future__ import annotations

import re
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import typer
from pydicom import dcmread
from pydicom.data import get_testdata_file
from pynetdicom import AE
from typer.testing import CliRunner

from tests.integration.serve_process import ServeProcess, start_serve
from vesalius.cli.main import user_errors_exit_2
from vesalius.cli.serve import serve

CT = Path(str(get_testdata_file("CT_small.dcm")))
CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
VERIFICATION = "1.2.840.10008.1.1"
ADMIN_LINE = re.compile(r"^created the administrator account 'admin' with password: (\S+)$")


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "vesalius.toml"
    path.write_text(
        'data_dir = "data"\ndicom_host = "127.0.0.1"\nhttp_host = "127.0.0.1"\n'
        "accept_any_calling_ae = true\nmin_free_bytes = 0\nstudy_quiet_s = 1.0\n"
    )
    return path


@pytest.fixture
def running(tmp_path: Path) -> Iterator[ServeProcess]:
    args = ["--config", str(_config(tmp_path)), "--port", "0", "--http-port", "0"]
    served = start_serve(args, log=tmp_path / "serve.log")
    try:
        yield served
    finally:
        served.kill()


def _echo_and_store(port: int) -> tuple[int, int]:
    ae = AE("MODALITY")
    ae.add_requested_context(VERIFICATION)
    ae.add_requested_context(CT_IMAGE_STORAGE)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 20
    assoc = ae.associate("127.0.0.1", port, ae_title="VESALIUS")
    assert assoc.is_established
    try:
        echo = assoc.send_c_echo()
        stored = assoc.send_c_store(dcmread(CT))
    finally:
        assoc.release()
    return int(echo.Status), int(stored.Status)


def test_serve_stores_over_dicom_shows_it_over_http_and_stops_cleanly_on_sigterm(
    running: ServeProcess,
) -> None:
    """A modality stores a CT; /health is ok, QIDO (as the first admin) lists it, SIGTERM → 0."""
    assert running.http_port is not None
    assert _echo_and_store(running.dicom_port) == (0, 0)
    base = f"http://127.0.0.1:{running.http_port}"
    health = httpx.get(f"{base}/health", timeout=20)
    assert (health.status_code, health.json()["status"]) == (200, "ok")
    assert httpx.get(f"{base}/dicom-web/studies", timeout=20).status_code == 401
    first = running.wait_for(ADMIN_LINE, timeout_s=5)
    studies = httpx.get(f"{base}/dicom-web/studies", auth=("admin", first[1]), timeout=20)
    assert studies.status_code == 200
    uid = dcmread(CT, stop_before_pixels=True).StudyInstanceUID
    assert [s["0020000D"]["Value"][0] for s in studies.json()] == [uid]
    done = running.wait_for(
        re.compile(rf"^study complete: {re.escape(uid)} \(1 instances\)"), timeout_s=30
    )
    assert done is not None
    assert running.stop(signal.SIGTERM) == 0
    assert "stopping" in running.lines  # an analysis still running may print in between
    assert running.lines[-1] == "stopped"


def test_serve_without_http_runs_the_listener_alone_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    """--no-http: no HTTP line, no HTTP socket, DICOM works, Ctrl-C (SIGINT) exits with 0."""
    args = ["--config", str(_config(tmp_path)), "--port", "0", "--no-http"]
    served = start_serve(args, log=tmp_path / "serve.log")
    try:
        assert served.http_port is None
        assert not any(line.startswith("HTTP") for line in served.lines)
        assert _echo_and_store(served.dicom_port) == (0, 0)
        assert served.stop(signal.SIGINT) == 0
    finally:
        served.kill()


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command(name="serve")(user_errors_exit_2(serve))
    app.command(name="unused")(lambda: None)  # two commands: "serve" stays a sub-command
    return app


def test_a_busy_http_port_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """Another program on the HTTP port: one line naming the address, exit 2, no traceback."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        args = ["serve", "--config", str(_config(tmp_path)), "--port", "0"]
        result = CliRunner().invoke(_app(), [*args, "--http-port", str(port)])
    assert result.exit_code == 2, result.output
    assert f"error: cannot listen on 127.0.0.1:{port}" in result.output
    assert "Traceback" not in result.output


def test_an_http_port_out_of_range_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """--http-port 70000 is refused before anything starts."""
    args = ["serve", "--config", str(_config(tmp_path)), "--http-port", "70000"]
    result = CliRunner().invoke(_app(), args)
    assert result.exit_code == 2
    assert "--http-port must be 0..65535" in result.output


def test_a_chest_ct_sent_to_serve_ends_with_findings_in_the_store(tmp_path: Path) -> None:
    """The path a hospital relies on: modality -> listener -> study complete -> analyses."""
    from vesalius.findings.persist import load_findings
    from vesalius.settings import load_settings
    from vesalius.simulate.chest_ct import ChestCTSpec, chest_ct, write_chest_ct
    from vesalius.store import open_store

    written = write_chest_ct(
        chest_ct(ChestCTSpec(shape=(60, 176, 176), noise_hu=0.0), seed=4), tmp_path / "ct"
    )
    config = _config(tmp_path)
    served = start_serve(["--config", str(config), "--port", "0", "--no-http"], log=tmp_path / "s")
    try:
        ae = AE("MODALITY")
        ae.add_requested_context(CT_IMAGE_STORAGE)
        assoc = ae.associate("127.0.0.1", served.dicom_port, ae_title="VESALIUS")
        assert assoc.is_established
        try:
            files = sorted((written.folder / "ct").glob("*.dcm"))
            statuses = {int(assoc.send_c_store(dcmread(f)).Status) for f in files}
        finally:
            assoc.release()
        assert statuses == {0}
        served.wait_for(re.compile(r"^analysed .*: 1 jobs done, 0 failed"), timeout_s=120)
        assert served.stop(signal.SIGTERM) == 0
    finally:
        served.kill()
    store = open_store(load_settings(config).database_url)
    try:
        with store.read_session() as session:
            kinds = [
                f.finding_type.meaning for f in load_findings(session, written.manifest.study_uid)
            ]
    finally:
        store.close()
    assert kinds.count("Lung") == 2
    assert kinds.count("Coronary artery calcification") == 1
