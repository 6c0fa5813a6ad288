"""DIMSE against real peers (dcmtk tools, Orthanc), each scenario in a private network namespace.

What a site connecting Vesalius to its PACS would see go wrong: a modality's echo, store,
query, move or get failing against our listener, a stranger's association accepted, our
client unable to store into, query, move from or get from Orthanc, or pixel data changed on
the way. See ``orthanc.py`` for how the namespace is made and ``dimse_scenario.py`` for the
scenarios.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from .orthanc import netns_problem, orthanc_available, run_in_netns

pytestmark = pytest.mark.integration
SCENARIO = Path(__file__).with_name("dimse_scenario.py")


def _run(name: str, workdir: Path) -> dict[str, Any]:
    done = run_in_netns(
        [sys.executable, str(SCENARIO), name, str(workdir)], timeout_s=300, env={"TCP_NODELAY": "1"}
    )
    lines = done.stdout.strip().splitlines()
    assert lines, f"scenario {name} printed nothing:\n{done.stderr[-3000:]}"
    found: dict[str, Any] = json.loads(lines[-1])
    assert "error" not in found, f"{found['error']}\n{done.stderr[-3000:]}"
    return found


@pytest.fixture(scope="module")
def dcmtk(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    reason = netns_problem()
    if reason:
        pytest.skip(reason)
    return _run("dcmtk", tmp_path_factory.mktemp("dimse-dcmtk"))


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    reason = orthanc_available()
    if reason:
        pytest.skip(reason)
    return _run("orthanc", tmp_path_factory.mktemp("dimse-orthanc"))


def test_dcmtk_echo_store_find_move_get_against_our_listener(dcmtk: dict[str, Any]) -> None:
    codes = (dcmtk["echo"], dcmtk["store"], dcmtk["move"], dcmtk["get"])
    assert codes == (0, 0, 0, 0), dcmtk["tool_errors"]
    assert dcmtk["find_studies"] == 2
    assert (dcmtk["moved_files"], dcmtk["got_files"]) == (1, 1)
    assert dcmtk["got_pixels_identical"]
    assert dcmtk["stored_pixels_identical"] == [True, True, True]


def test_an_unknown_calling_ae_is_rejected_and_the_listener_lives_on(dcmtk: dict[str, Any]) -> None:
    assert dcmtk["echo_unknown_ae"] != 0
    assert dcmtk["echo_after"] == 0


def test_our_client_stores_into_and_queries_orthanc(orthanc: dict[str, Any]) -> None:
    assert (orthanc["sent"], orthanc["send_problems"]) == (3, 0)
    assert set(orthanc["expected_studies"]) <= set(orthanc["found_studies"])
    assert orthanc["found_series"] == [orthanc["ct_series"]]


def test_move_and_get_from_orthanc_bring_byte_identical_pixels(orthanc: dict[str, Any]) -> None:
    assert orthanc["moved"] == [1, 0]
    assert orthanc["got"] == [1, 0]
    assert orthanc["indexed"] == [1, 1]
    assert orthanc["pixels_identical"] == [True, True]
