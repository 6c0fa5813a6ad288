"""DICOMweb against a real Orthanc, inside a private network namespace.

What a site connecting Vesalius to its PACS would see go wrong: our client cannot store
into, find in, or get byte-identical pixels back from Orthanc; or Orthanc cannot push to,
query, or retrieve from our DICOMweb routes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from .orthanc import orthanc_available, run_in_netns

pytestmark = pytest.mark.integration
SCENARIO = Path(__file__).with_name("dicomweb_scenario.py")


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    reason = orthanc_available()
    if reason:
        pytest.skip(reason)
    workdir = tmp_path_factory.mktemp("dicomweb-orthanc")
    result = workdir / "result.json"
    done = run_in_netns([sys.executable, str(SCENARIO), str(result), str(workdir)])
    assert result.exists(), f"scenario failed:\n{done.stdout}\n{done.stderr}"
    found: dict[str, Any] = json.loads(result.read_text())
    assert "error" not in found, f"{found['error']}\n{done.stderr[-3000:]}"
    return found


def test_our_client_stores_into_orthanc_and_finds_the_study(observed: dict[str, Any]) -> None:
    client = observed["client"]
    assert (client["stored"], client["failed"]) == (3, 0)
    assert client["studies_by_patient_id"] == [client["expected_ct_study"]]
    assert client["ct_series"] == 1


def test_pixel_data_round_trips_through_orthanc_byte_for_byte(observed: dict[str, Any]) -> None:
    assert observed["client"]["pixel_data_identical"] == [True, True, True]
    assert observed["client"]["ct_frame_identical"]


def test_orthanc_pushes_to_queries_and_retrieves_from_vesalius(observed: dict[str, Any]) -> None:
    orthanc = observed["orthanc"]
    assert orthanc["ours_studies"] == 3
    assert orthanc["ours_instances"] == 3
    assert len(orthanc["qido_through_orthanc"]) == 1
    assert orthanc["retrieved_back_into_orthanc"]
    assert orthanc["retrieved_pixels_identical"]
