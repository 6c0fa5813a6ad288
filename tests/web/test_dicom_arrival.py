"""From the modality to the radiologist's screen: studies sent over DICOM rank themselves live.

A real ``vesalius serve`` (child process: DICOM listener, study completion, analyses, web UI)
receives two studies from dcmtk's ``storescu`` while a reader's worklist is open in Chromium:
a brain MR phantom (routine) and then a chest CT phantom with nodules. What would go wrong
for the reader: a study that arrived over DICOM never showing up, showing up only after a
reload, or sitting below the routine study without the reasons that put it on top.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.integration.dcmtk import dcmtk_tool
from tests.web.browser import CHROMIUM, needed, sign_in
from vesalius.cli.phantom import write_phantom
from vesalius.cli.server_process import ServerProcess, parse_http, parse_listening
from vesalius.io.scan import scan_dicom

pytestmark = [pytest.mark.slow, pytest.mark.integration]

CALLING_AE = "MODALITY1"
PASSWORD = re.compile(r"created the administrator account 'admin' with password: (\S+)$")
ANALYSIS_S = 600.0


@dataclass(frozen=True)
class Server:
    """The running server: its web address, DICOM port and the first admin's password."""

    url: str
    dicom_port: int
    password: str


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """``vesalius serve`` on loopback with its own settings, an empty store and a short quiet."""
    needed(CHROMIUM.exists(), f"no Chromium at {CHROMIUM}")
    config = tmp_path / "vesalius.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "store"}"\n'
        'dicom_host = "127.0.0.1"\nhttp_host = "127.0.0.1"\n'
        f'study_quiet_s = 2.0\nallowed_calling_aes = ["{CALLING_AE}"]\n'
    )
    process = ServerProcess(config, ["--port", "0", "--http-port", "0"])
    try:
        process.wait_for(lambda x: x.startswith("ready"), timeout_s=120, what="start")
        lines = process.lines
        url = next(u for u in map(parse_http, lines) if u)
        listening = next(p for p in map(parse_listening, lines) if p)
        password = next(m[1] for m in map(PASSWORD.search, lines) if m)
        yield Server(url, listening[2], password)
    finally:
        process.stop()


def storescu(port: int, folder: Path) -> str:
    """Send every DICOM file under ``folder`` as a modality would; the study's UID."""
    files = sorted(str(p) for p in folder.rglob("*.dcm"))
    command = [dcmtk_tool("storescu"), "-aet", CALLING_AE, "-aec", "VESALIUS"]
    subprocess.run([*command, "127.0.0.1", str(port), *files], check=True, capture_output=True)
    [study_uid] = {s.study_uid for s in scan_dicom(folder).series}
    return study_uid


def test_studies_sent_over_dicom_appear_ranked_with_reasons_without_a_reload(
    server: Server, page: Page, tmp_path: Path
) -> None:
    write_phantom("brain-mr", tmp_path / "mr", seed=0)
    write_phantom("chest-ct", tmp_path / "ct", seed=4, size="60x176x176")
    page.set_default_timeout(ANALYSIS_S * 1000)
    sign_in(page, server.url, ("admin", server.password))
    page.locator("#worklist").wait_for()
    page.evaluate("() => { window.sameDocument = true; }")  # gone if the page reloads

    routine = storescu(server.dicom_port, tmp_path / "mr")
    page.locator(f'#worklist tbody tr[data-uid="{routine}"]').wait_for()
    chest = storescu(server.dicom_port, tmp_path / "ct")
    page.wait_for_function(
        "uid => document.querySelector('#worklist tbody tr')?.dataset.uid === uid", arg=chest
    )
    assert page.evaluate("() => window.sameDocument === true"), "the worklist page reloaded"

    rows = page.locator("#worklist tbody tr")
    assert [rows.nth(i).get_attribute("data-uid") for i in range(2)] == [chest, routine]
    items = page.request.get(f"{server.url}/api/worklist").json()["items"]
    top = rows.first
    assert items[0]["study_uid"] == chest
    assert items[0]["priority"]["score"] > items[1]["priority"]["score"]
    reasons = top.locator(".reasons li").all_inner_texts()
    assert reasons == items[0]["priority"]["reasons"]
    assert any("Lung-RADS" in r or "nodule" in r.lower() for r in reasons), reasons
    assert top.locator(".badge").inner_text().lower().startswith(items[0]["priority"]["level"])

    page.keyboard.press("Enter")  # the top study's draft report is waiting
    page.wait_for_url(f"{server.url}/studies/{chest}")
    page.locator("article.finding").first.wait_for()
    assert page.locator("#report-state").inner_text().startswith("draft")
