"""Crash test of C-STORE ingest: SIGKILL ``vesalius serve`` while clients send, count the losses.

Usage: ``python crash_scenario.py WORKDIR [SEED]``, inside a private network namespace (see
``orthanc.run_in_netns``); prints what it observed as one JSON line for
``test_crash_ingest.py`` to check (the scenario asserts nothing itself).

What it does: generates ``N_INSTANCES`` small CT instances of one study (unique SOP
Instance UIDs, random pixels), starts ``vesalius serve --no-http`` on a fresh data folder,
and sends them over ``N_SENDERS`` parallel associations (pynetdicom, one thread each, so
that every success status is known per instance). When the number of acknowledged
instances reaches each of ``N_KILLS`` seeded random thresholds (plus a seeded random delay
of up to 50 ms, to land anywhere in a store), it SIGKILLs the server, and while it is dead
checks the index as the crash left it:

- every instance acknowledged so far has its row (queried through ``vesalius.store``),
- every row's blob is there, passes its checksum (``BlobStore.get``) and decodes to the
  Pixel Data that was sent (so no row points to a missing or partial blob),

then restarts the server on the same folder and port. The clients re-associate after each
failure and go on with the instances not yet acknowledged (resending those that were in
flight). After the last restart they finish; the server is stopped with SIGTERM and the
same check runs on the final state, which must hold all ``N_INSTANCES``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import sys
import threading
import time
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np
from pydicom import Dataset, dcmread
from pydicom.dataset import FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid
from pynetdicom import AE
from serve_process import ServeProcess, start_serve

from vesalius.errors import StoreError
from vesalius.store import BlobStore, open_store, sqlite_url
from vesalius.store.index import list_instances

N_INSTANCES = 500
N_SENDERS = 4
N_KILLS = 4
SIZE = 64
DEADLINE_S = 60.0
SCU_AE = "CRASHSCU"


@dataclass(frozen=True)
class Sent:
    """One generated instance: its file, SOP Instance UID and the SHA-256 of its Pixel Data."""

    path: Path
    sop_uid: str
    pixel_sha256: str


def _template(study_uid: str, series_uid: str) -> Dataset:
    ds = Dataset()
    ds.SOPClassUID = CTImageStorage
    ds.PatientID, ds.PatientName = "CRASH-1", "Crash^Test"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study_uid, series_uid
    ds.Modality, ds.StudyDate, ds.SeriesNumber = "CT", "20240101", 1
    ds.FrameOfReferenceUID = generate_uid()
    ds.Rows = ds.Columns = SIZE
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelSpacing, ds.SliceThickness = [0.7, 0.7], 1.0
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
    return ds


def make_instances(folder: Path, rng: np.random.Generator) -> tuple[str, list[Sent]]:
    """Write ``N_INSTANCES`` CT files of one study into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    study_uid, series_uid = generate_uid(), generate_uid()
    sent = []
    for number in range(1, N_INSTANCES + 1):
        ds = _template(study_uid, series_uid)
        ds.SOPInstanceUID, ds.InstanceNumber = generate_uid(), number
        ds.ImagePositionPatient = [0.0, 0.0, float(number)]
        ds.PixelData = rng.integers(0, 4096, (SIZE, SIZE), dtype=np.uint16).tobytes()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        path = folder / f"{number:04d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        sent.append(Sent(path, ds.SOPInstanceUID, hashlib.sha256(ds.PixelData).hexdigest()))
    return study_uid, sent


@dataclass
class Ledger:
    """What the clients saw, per SOP Instance UID: attempts and success statuses."""

    acked: set[str] = field(default_factory=set)
    attempts: Counter[str] = field(default_factory=Counter)
    failure_statuses: Counter[int] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def attempt(self, sop_uid: str) -> None:
        with self.lock:
            self.attempts[sop_uid] += 1

    def ack(self, sop_uid: str) -> None:
        with self.lock:
            self.acked.add(sop_uid)

    def failed(self, status: int) -> None:
        with self.lock:
            self.failure_statuses[status] += 1

    def snapshot(self) -> set[str]:
        with self.lock:
            return set(self.acked)


def _ae() -> AE:
    ae = AE(SCU_AE)
    ae.add_requested_context(CTImageStorage, ExplicitVRLittleEndian)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 10
    return ae


def _send_some(assoc: Any, pending: deque[Sent], ledger: Ledger) -> None:
    """Send from ``pending`` until it is empty or the association fails."""
    while pending:
        item = pending[0]
        ledger.attempt(item.sop_uid)
        status = assoc.send_c_store(item.path)
        code = getattr(status, "Status", None)
        if code == 0:
            ledger.ack(item.sop_uid)
            pending.popleft()
        elif code is not None:
            ledger.failed(int(code))
            return
        else:
            return  # no answer: the server died; resend on the next association


def sender(shard: list[Sent], port: int, ledger: Ledger, deadline: float) -> None:
    """Send ``shard`` until every instance is acknowledged (or the deadline passes)."""
    ae, pending = _ae(), deque(shard)
    while pending and time.monotonic() < deadline:
        assoc = ae.associate("127.0.0.1", port, ae_title="VESALIUS")
        if not assoc.is_established:
            time.sleep(0.05)
            continue
        try:
            _send_some(assoc, pending, ledger)
        finally:
            if assoc.is_established:
                assoc.release()
            else:
                assoc.abort()
        if pending:
            time.sleep(0.05)


@dataclass(frozen=True)
class Check:
    """The index as found at one moment: rows, acknowledged instances missing, bad rows."""

    acknowledged: int
    indexed: int
    lost: list[str]
    bad_rows: list[str]


def _row_problem(blobs: BlobStore, row: Any, expected: dict[str, str]) -> str | None:
    try:
        data = blobs.get(row.blob_path)
    except StoreError as err:
        return f"{row.sop_instance_uid}: {err}"
    if len(data) != row.size_bytes or hashlib.sha256(data).hexdigest() != row.sha256:
        return f"{row.sop_instance_uid}: size or checksum differs from its row"
    ds = dcmread(BytesIO(data))
    if ds.SOPInstanceUID != row.sop_instance_uid:
        return f"{row.sop_instance_uid}: blob holds {ds.SOPInstanceUID}"
    if hashlib.sha256(ds.PixelData).hexdigest() != expected.get(row.sop_instance_uid):
        return f"{row.sop_instance_uid}: Pixel Data differs from what was sent"
    return None


def check_index(data_dir: Path, study_uid: str, acked: set[str], sent: list[Sent]) -> Check:
    """Check the index in ``data_dir`` (no server running) against what was acknowledged."""
    expected = {s.sop_uid: s.pixel_sha256 for s in sent}
    store = open_store(sqlite_url(data_dir / "index.sqlite3"))
    blobs = BlobStore(data_dir / "blobs")
    try:
        with store.read_session() as session:
            rows = list_instances(session, study_uid)
            problems = [_row_problem(blobs, row, expected) for row in rows]
            indexed = {row.sop_instance_uid for row in rows}
    finally:
        store.close()
    bad = [p for p in problems if p is not None]
    bad_uids = {p.split(":", 1)[0] for p in bad}
    lost = sorted((acked - indexed) | (acked & bad_uids))
    return Check(len(acked), len(indexed), lost, bad)


def _config(workdir: Path) -> Path:
    path = workdir / "vesalius.toml"
    path.write_text(
        'data_dir = "data"\ndicom_host = "127.0.0.1"\naccept_any_calling_ae = true\n'
        "min_free_bytes = 0\nstudy_quiet_s = 600.0\n"
    )
    return path


def _start(workdir: Path, port: int) -> ServeProcess:
    args = ["--config", str(_config(workdir)), "--port", str(port), "--no-http"]
    return start_serve(args, log=workdir / "serve.log", timeout_s=30)


def kill_thresholds(rng: random.Random) -> list[int]:
    """One acknowledged count per kill, drawn in each of ``N_KILLS`` equal slices of the run."""
    first, last = 40, N_INSTANCES - 60
    step = (last - first) // N_KILLS
    return [rng.randrange(first + k * step, first + (k + 1) * step) for k in range(N_KILLS)]


def _wait_acked(ledger: Ledger, target: int, deadline: float) -> None:
    while len(ledger.snapshot()) < target and time.monotonic() < deadline:
        time.sleep(0.002)


def _kill_and_check(
    server: ServeProcess, ledger: Ledger, study_uid: str, sent: list[Sent], workdir: Path
) -> dict[str, Any]:
    server.kill()
    acked = ledger.snapshot()
    with ledger.lock:
        in_flight = sum(1 for uid, n in ledger.attempts.items() if uid not in ledger.acked)
    found = check_index(workdir / "data", study_uid, acked, sent)
    return {**asdict(found), "unacknowledged_attempted": in_flight}


def crash(workdir: Path, seed: int) -> dict[str, Any]:
    """Run the scenario; return what was observed."""
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("pynetdicom").setLevel(logging.CRITICAL)  # refused connections expected
    started = time.monotonic()
    deadline = started + DEADLINE_S
    rng = random.Random(seed)
    study_uid, sent = make_instances(workdir / "in", np.random.default_rng(seed))
    thresholds = kill_thresholds(rng)
    server = _start(workdir, 0)
    port, ledger, kills = server.dicom_port, Ledger(), []
    shards = [sent[i::N_SENDERS] for i in range(N_SENDERS)]
    threads = [
        threading.Thread(target=sender, args=(shard, port, ledger, deadline), daemon=True)
        for shard in shards
    ]
    try:
        for thread in threads:
            thread.start()
        for threshold in thresholds:
            _wait_acked(ledger, threshold, deadline)
            time.sleep(rng.uniform(0.0, 0.05))
            kills.append(_kill_and_check(server, ledger, study_uid, sent, workdir))
            time.sleep(rng.uniform(0.05, 0.3))
            server = _start(workdir, port)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        exit_code = server.stop(timeout_s=10)
    finally:
        server.kill()
    final = check_index(workdir / "data", study_uid, ledger.snapshot(), sent)
    resent = sum(1 for n in ledger.attempts.values() if n > 1)
    return {
        "seed": seed,
        "instances": N_INSTANCES,
        "senders": N_SENDERS,
        "kill_thresholds": thresholds,
        "kills": kills,
        "final": asdict(final),
        "resent": resent,
        "failure_statuses": {hex(k): v for k, v in ledger.failure_statuses.items()},
        "final_exit_code": exit_code,
        "senders_alive": sum(t.is_alive() for t in threads),
        "elapsed_s": round(time.monotonic() - started, 1),
    }


def main() -> None:
    workdir = Path(sys.argv[1])
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 20240917
    try:
        observed = crash(workdir, seed)
    except Exception as err:
        observed = {"error": f"{type(err).__name__}: {err}"}
    print(json.dumps(observed))


if __name__ == "__main__":
    main()
