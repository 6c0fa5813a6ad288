"""An acknowledged instance is never lost: kill the server mid-ingest and count what survived.

What a site would see go wrong: after a power cut or an OOM kill, an instance the modality
was told was stored (C-STORE success) is missing from the index, or the index points to a
missing or half-written file, or resending what was not acknowledged does not complete the
study. ``crash_scenario.py`` (run in a private network namespace) SIGKILLs ``vesalius serve``
at seeded random moments while four associations send 500 CT instances, and checks the
index after every kill and at the end.

The unit tests below kill a process at the two moments of one durable store (before the
blob gets its name, and after it but before the index commit) and check what is left on disk.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydicom import dcmread
from pydicom.data import get_testdata_file

from vesalius.ingest.durable import store_instance
from vesalius.store import BlobStore, open_store, sqlite_url
from vesalius.store.blobs import TEMP_PREFIX
from vesalius.store.index import find_instance

from .orthanc import netns_problem, run_in_netns

SCENARIO = Path(__file__).with_name("crash_scenario.py")
SEED = 20240917
N_INSTANCES = 500
CT = Path(str(get_testdata_file("CT_small.dcm")))


@pytest.fixture(scope="module")
def crashed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    reason = netns_problem()
    if reason:
        pytest.skip(reason)
    workdir = tmp_path_factory.mktemp("crash-ingest")
    done = run_in_netns([sys.executable, str(SCENARIO), str(workdir), str(SEED)], timeout_s=88)
    lines = done.stdout.strip().splitlines()
    assert lines, f"the crash scenario printed nothing:\n{done.stderr[-3000:]}"
    found: dict[str, Any] = json.loads(lines[-1])
    log = (workdir / "serve.log").read_text(errors="replace")[-3000:]
    assert "error" not in found, f"{found['error']}\n{done.stderr[-3000:]}\n{log}"
    acked = found["final"]["acknowledged"]
    lost = len(found["final"]["lost"]) + sum(len(k["lost"]) for k in found["kills"])
    print(
        f"CRASH acknowledged={acked} lost={lost} kills={len(found['kills'])} "
        f"resent={found['resent']} indexed={found['final']['indexed']} "
        f"at_kills={[k['acknowledged'] for k in found['kills']]} elapsed_s={found['elapsed_s']}"
    )
    return found


@pytest.mark.integration
@pytest.mark.slow
def test_the_server_was_killed_mid_ingest_at_least_three_times(crashed: dict[str, Any]) -> None:
    """The crash test really crashed the server while instances were still arriving."""
    kills = crashed["kills"]
    assert len(kills) >= 3
    assert all(0 < k["acknowledged"] < N_INSTANCES for k in kills)


@pytest.mark.integration
@pytest.mark.slow
def test_no_acknowledged_instance_is_lost_when_the_server_is_killed(
    crashed: dict[str, Any],
) -> None:
    """Every instance acknowledged before each kill is in the index, its blob intact."""
    for kill in crashed["kills"]:
        assert kill["lost"] == [], kill
        assert kill["indexed"] >= kill["acknowledged"]
    assert crashed["final"]["lost"] == []


@pytest.mark.integration
@pytest.mark.slow
def test_no_index_row_points_to_a_missing_or_partial_blob(crashed: dict[str, Any]) -> None:
    """After each kill, every row's blob exists, passes its checksum and has the sent pixels."""
    for kill in crashed["kills"]:
        assert kill["bad_rows"] == [], kill
    assert crashed["final"]["bad_rows"] == []


@pytest.mark.integration
@pytest.mark.slow
def test_resending_the_unacknowledged_completes_the_study(crashed: dict[str, Any]) -> None:
    """After the last restart the clients resend what was not acknowledged: 500 of 500."""
    final = crashed["final"]
    assert (final["acknowledged"], final["indexed"]) == (N_INSTANCES, N_INSTANCES)
    assert crashed["failure_statuses"] == {}
    assert crashed["final_exit_code"] == 0
    assert crashed["senders_alive"] == 0


# -- one store, killed at the two moments that matter ----------------------------------------

CHILD = """
import os, signal, sys
from pathlib import Path
from sqlalchemy import event
from sqlalchemy.engine import Engine
from vesalius.ingest.durable import store_instance
from vesalius.store import BlobStore, open_store, sqlite_url

moment, root, source = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
store = open_store(sqlite_url(root / "index.sqlite3"))  # schema committed before the hook
blobs = BlobStore(root / "blobs")

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

if moment == "before-naming":  # the blob gets its name by a hard link (or a rename)
    os.link = os.replace = die
else:
    event.listen(Engine, "commit", die)
store_instance(source.read_bytes(), store=store, blobs=blobs)
sys.exit(3)
"""


def _killed_store(moment: str, root: Path) -> int:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, moment, str(root), str(CT)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    return done.returncode


def _visible_blobs(root: Path) -> list[Path]:
    return [
        p for p in (root / "blobs").rglob("*") if p.is_file() and not p.name.startswith(TEMP_PREFIX)
    ]


@pytest.mark.parametrize("moment", ["before-naming", "before-commit"])
def test_a_store_killed_midway_leaves_no_row_and_no_partial_blob(
    moment: str, tmp_path: Path
) -> None:
    """A process killed while storing leaves no index row; sending again stores it fully."""
    _killed_store(moment, tmp_path)
    uid = dcmread(CT, stop_before_pixels=True).SOPInstanceUID
    store, blobs = open_store(sqlite_url(tmp_path / "index.sqlite3")), BlobStore(tmp_path / "blobs")
    try:
        with store.read_session() as session:
            assert find_instance(session, uid) is None
        visible = _visible_blobs(tmp_path)
        if moment == "before-naming":
            assert visible == []  # only the temporary file, which a sweep removes
            assert blobs.sweep_temporaries(older_than_s=0) == 1
        else:
            assert len(visible) == 1  # named, fsynced, not indexed: complete and harmless
            blobs.verify(visible[0].relative_to(blobs.root).as_posix())
        again = store_instance(CT.read_bytes(), store=store, blobs=blobs)
        assert again.new
        with store.read_session() as session:
            row = find_instance(session, uid)
            assert row is not None
            assert blobs.get(row.blob_path) == CT.read_bytes()
    finally:
        store.close()
