"""Benchmark: C-STORE ingest of CT instances into Vesalius, Orthanc and dcmtk storescp.

Writes ``N`` CT instances (512 x 512 int16, explicit VR little endian) with pydicom, then
sends them with the same sender for every receiver, dcmtk ``storescu`` (one process per
association, the files dealt round-robin), over 1 and over 4 parallel associations, to:

- ``vesalius``: our listener in its own process (storage associations on its lean Upper
  Layer, :mod:`vesalius.ingest.dimse.fast_store`) as configured by default: instances
  that arrive one at a time (one association) are acknowledged once their bytes are
  flushed in the ingest journal and their index rows committed (blob files and index are
  flushed later by checkpoints, :mod:`vesalius.store.journal`); instances that arrive at
  the same time (several associations) once each blob is fsynced and the index rows are
  committed durably together (:mod:`vesalius.ingest.dimse.group_commit`);
- ``ves-fsync``: the same without the journal (``ingest_journal = false``): each blob
  fsynced, then its index row committed (SQLite ``synchronous=FULL``, group commits
  across associations), before its acknowledgement;
- Orthanc 1.10 with ``SyncStorageArea`` true (fsync of each file, SQLite index);
- dcmtk ``storescp --fork`` writing files, no index and no fsync: the ceiling.

Each receiver starts fresh for every repetition (start-up not timed); the time is from the
first storescu start to the last storescu exit (every instance acknowledged). The receivers
take turns within each round, so that the machine's load drifting over the run weighs on all
alike; the ratio is the median of the rounds' ratios. No store is deleted before the end
(the run keeps about 13 GB): where thousands of inodes were freed minutes before, creating a
file is slower (ext4 without a journal, as on the development machine, skips recently freed
inodes one by one: a fifth of our listener's CPU time in a profile), and the receiver that
followed a deletion paid for it. The whole run happens inside ``unshare -n`` (Orthanc binds
every interface): the script re-executes itself there. ``TCP_NODELAY=1`` is set for the
DCMTK-based programs. The first lines give the disk's latency (write + fsync of 512 KB, a
SQLite WAL ``synchronous=FULL`` commit), which bounds one association: every instance waits
for one of each in turn.

Run: ``.venv/bin/python bench/cstore_ingest.py [--small] [--repeats N]``.
The last line is ``RATIO cstore_ingest <ours / orthanc instances per second, 4 associations>``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
ENV = dict(os.environ, TCP_NODELAY="1")


def write_instances(folder: Path, n: int, size: int) -> list[Path]:
    """``n`` CT instances of one series, ``size`` x ``size`` int16."""
    study, series = generate_uid(), generate_uid()
    pixels = np.random.default_rng(0).integers(-1024, 2000, (size, size), dtype=np.int16)
    paths = []
    for k in range(n):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID, meta.TransferSyntaxUID = (
            CTImageStorage,
            ExplicitVRLittleEndian,
        )
        meta.MediaStorageSOPInstanceUID = uid = generate_uid()
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID, ds.SOPInstanceUID, ds.Modality = CTImageStorage, uid, "CT"
        ds.PatientID, ds.PatientName, ds.StudyDate = "BENCH", "Bench^CT", "20240101"
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.InstanceNumber = study, series, k + 1
        ds.Rows = ds.Columns = size
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
        ds.PixelData = np.roll(pixels, k, axis=1).tobytes()
        path = folder / f"ct{k:05d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def dcmtk(name: str) -> str:
    """dcmtk's tool, not the look-alike pynetdicom installs into this environment's bin."""
    env_bin = (Path(sys.prefix) / "bin").resolve()
    folders = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p]
    found = shutil.which(
        name, path=os.pathsep.join(p for p in folders if Path(p).resolve() != env_bin)
    )
    if found is None:
        raise SystemExit(f"dcmtk's {name} is not installed (Debian package dcmtk)")
    return found


def send(paths: list[Path], port: int, ae: str, associations: int) -> float:
    """Seconds for storescu (``associations`` processes) to send every file."""
    chunks = [paths[k::associations] for k in range(associations)]
    start = time.perf_counter()
    procs = [
        subprocess.Popen(
            [dcmtk("storescu"), "-aec", ae, "127.0.0.1", str(port), *map(str, chunk)],
            env=ENV,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for chunk in chunks
    ]
    failures = [p.communicate()[1] for p in procs if p.wait() != 0]
    elapsed = time.perf_counter() - start
    if failures:
        raise RuntimeError(f"storescu failed: {failures[0][-500:]!r}")
    return elapsed


Listening = tuple[int, str, int | None]
"""A started receiver: its port, AE title, and the process whose CPU time it spends (when
one process does all its work)."""


@contextmanager
def ours(folder: Path, *, journal: bool = True) -> Iterator[Listening]:
    port = free_port()
    argv = [sys.executable, __file__, "--serve-ours", str(folder), str(port)]
    proc = subprocess.Popen([*argv, *([] if journal else ["--no-journal"])])
    try:
        wait_port(port)
        yield port, "VESALIUS", proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=60)


@contextmanager
def orthanc(folder: Path) -> Iterator[Listening]:
    from orthanc import start_orthanc

    server = start_orthanc(folder, dicomweb=False, env={"TCP_NODELAY": "1"})
    try:
        yield server.dicom_port, server.ae_title, server.process.pid if server.process else None
    finally:
        server.stop()


@contextmanager
def storescp(folder: Path) -> Iterator[Listening]:
    port = free_port()
    folder.mkdir(parents=True)
    proc = subprocess.Popen(
        [dcmtk("storescp"), "--fork", "-aet", "STORESCP", "-od", str(folder), str(port)],
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(port)
        yield port, "STORESCP", None  # a process per association
    finally:
        proc.kill()
        proc.wait(timeout=60)
        subprocess.run(["pkill", "-KILL", "-P", str(proc.pid)], check=False)


def ours_fsync(folder: Path) -> AbstractContextManager[Listening]:
    """Ours without the ingest journal: each blob fsynced, each index commit flushed."""
    return ours(folder, journal=False)


def serve_ours(folder: Path, port: int, *, journal: bool = True) -> None:
    """Run our listener until SIGTERM (a receiver process of the benchmark)."""
    import signal
    import threading

    from vesalius.ingest.dimse.config import ListenerConfig
    from vesalius.ingest.dimse.scp import DicomListener
    from vesalius.store import BlobStore, open_store, sqlite_url

    store = open_store(sqlite_url(folder / "index.sqlite3"))
    config = ListenerConfig(
        host="127.0.0.1",
        port=port,
        accept_any_calling_ae=True,
        min_free_bytes=0,
        ingest_journal=journal,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with DicomListener(config, store=store, blobs=BlobStore(folder / "blobs")):
        stop.wait()
    store.close()


def disk_latency(folder: Path, n: int = 50) -> tuple[float, float]:
    """Median milliseconds of a 512 KB write + fsync, and of a SQLite WAL FULL commit."""
    import sqlite3

    data, fsyncs, commits = os.urandom(512 * 1024), [], []
    for k in range(n):
        start = time.perf_counter()
        fd = os.open(folder / f"probe{k}", os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, data)
        os.fsync(fd)
        os.close(fd)
        fsyncs.append(time.perf_counter() - start)
    db = sqlite3.connect(folder / "probe.sqlite3", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE t (k INTEGER)")
    for k in range(n):
        start = time.perf_counter()
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO t VALUES (?)", (k,))
        db.execute("COMMIT")
        commits.append(time.perf_counter() - start)
    db.close()
    return statistics.median(fsyncs) * 1e3, statistics.median(commits) * 1e3


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Run:
    """One receiver's run: instances/s, and its CPU milliseconds per instance if known."""

    rate: float
    cpu_ms: float | None


def run_once(
    receiver: Callable[..., object], paths: list[Path], folder: Path, associations: int
) -> Run:
    """A fresh ``receiver`` in ``folder`` takes ``paths`` over ``associations``."""
    with receiver(folder) as (port, ae, pid):  # type: ignore[attr-defined]
        before = cpu_seconds(pid) if pid else 0.0
        rate = len(paths) / send(paths, port, ae, associations)
        cpu_ms = (cpu_seconds(pid) - before) * 1e3 / len(paths) if pid else None
        return Run(rate, cpu_ms)


def report(name: str, associations: int, runs: list[Run]) -> None:
    rates = [r.rate for r in runs]
    cpu = [r.cpu_ms for r in runs if r.cpu_ms is not None]
    print(
        f"{name:<9} {associations} assoc: {statistics.median(rates):8.1f} instances/s"
        + (f", CPU {statistics.median(cpu):.2f} ms/instance" if cpu else "")
        + "  (runs: "
        + ", ".join(f"{r:.1f}" for r in rates)
        + ")",
        flush=True,
    )


def measure(
    receivers: Mapping[str, Callable[..., object]],
    paths: list[Path],
    work: Path,
    associations: int,
    repeats: int,
) -> dict[str, list[Run]]:
    """Every receiver once per round, ``repeats`` rounds: each one's runs."""
    runs: dict[str, list[Run]] = {name: [] for name in receivers}
    for rep in range(repeats):
        for name, receiver in receivers.items():
            folder = work / f"{name}-{associations}-{rep}"
            runs[name].append(run_once(receiver, paths, folder, associations))
    for name, got in runs.items():
        report(name, associations, got)
    return runs


def ratio(runs: dict[str, list[Run]]) -> float:
    """The median over the rounds of ours / Orthanc."""
    pairs = zip(runs["vesalius"], runs["orthanc"], strict=True)
    return statistics.median(ours.rate / theirs.rate for ours, theirs in pairs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="100 instances, 1 repetition")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--serve-ours", nargs=2, metavar=("DIR", "PORT"), help=argparse.SUPPRESS)
    parser.add_argument("--in-netns", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-journal", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_ours:
        serve_ours(Path(args.serve_ours[0]), int(args.serve_ours[1]), journal=not args.no_journal)
        return
    if not args.in_netns:
        argv = [sys.executable, __file__, "--in-netns", *sys.argv[1:]]
        shell = 'ip link set lo up && exec "$@"'
        sys.exit(subprocess.call(["unshare", "-n", "sh", "-c", shell, "sh", *argv]))
    n, repeats = (100, 1) if args.small else (1000, args.repeats)
    with tempfile.TemporaryDirectory(prefix="cstore-bench-") as tmp:
        work = Path(tmp)
        (work / "src").mkdir()
        paths = write_instances(work / "src", n, 512)
        megabytes = sum(p.stat().st_size for p in paths) / 1e6
        print(
            f"{n} CT instances of 512x512 int16 ({megabytes:.0f} MB),"
            f" sender dcmtk storescu, {repeats} repetitions, medians"
        )
        probe = work / "probe"
        probe.mkdir()
        fsync_ms, commit_ms = disk_latency(probe)
        shutil.rmtree(probe)
        print(
            f"disk: write + fsync of 512 KB {fsync_ms:.2f} ms, SQLite WAL commit {commit_ms:.2f} ms"
        )
        receivers = {
            "vesalius": ours,
            "ves-fsync": ours_fsync,
            "orthanc": orthanc,
            "storescp": storescp,
        }
        ratios = {a: ratio(measure(receivers, paths, work, a, repeats)) for a in (1, 4)}
    print(f"vesalius / orthanc, 1 association: {ratios[1]:.2f} (median of the rounds' ratios)")
    print(f"RATIO cstore_ingest {ratios[4]:.2f}")


if __name__ == "__main__":
    main()
