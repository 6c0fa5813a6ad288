"""Benchmark: the worklist API under 50 concurrent clients, Vesalius vs Orthanc's /tools/find.

Input: N studies (default 100,000; ``--small``: 10,000), one tiny instance each, 500 patient
names, study dates over ten years, modalities CT/MR/PT/US, order priorities and Lung-RADS
categories drawn with a fixed seed. A reading room's index is mostly history: ``--unread``
(2 %) of the studies wait to be read (arrived in the last 3 days), 5 % as many are being
read (claimed), the rest are reported (arrived in the last 2 years). Our index is filled
with bulk inserts into the tables ``refresh_study`` writes (patients, studies, series,
instances, reports, study_claims, study_triage; the triage computed by
:mod:`vesalius.reporting.triage`), because a per-study refresh would take most of an hour
at this size; then uvicorn serves the application (:func:`vesalius.service.app.create_app`
with its real access control, the worklist router only) in a subprocess. Sign-in is paid
as in a deployment: each client is a radiologist of its own (``--clients`` accounts made
in the index), half of them sending the cookie of a browser session, half an API token;
every request writes its audit event, committed before the answer. uvicorn runs as
``vesalius serve`` runs it: with httptools and uvloop when they are installed.

Clients: ``--clients`` (50) asyncio tasks in this process, each with its own keep-alive
connection (a minimal HTTP/1.1 client on asyncio streams: httpx costs more CPU than the
server's answer and would starve the server on a small machine), each sending the query mix
back to back (closed loop: the server is saturated) for ``--seconds``; then again with each
client pacing itself to one request per ``--pace-ms`` (an open worklist refreshing on its
own), which is how a reading room loads the server. ``--per-query`` also prints the CPU time
the server and the clients spent per request. The mix: the default page (unread, by
priority), page 11, CT only, all studies by waiting time, score >= 60, a patient-name search.

Peer: Orthanc 1.10 ``POST /tools/find`` (level Study, ``Expand``, ``Limit`` 50) with the same
clients on the same studies: no match, CT only, a patient-name search, a date range. Orthanc
has no priority, claims or aging, so this is a listing of one page of studies with patient
data, the part both do. Loading Orthanc goes through its REST API one instance at a time,
too slow for 100,000 studies on this machine, so the peer runs on ``--peer-n`` studies
(default 10,000), with ours on the same studies beside it; ours alone at N gives the figure.
Everything runs in a private network namespace (``unshare -n``; the script re-executes
itself there). The medians of ``--reps`` runs are printed, then last
``RATIO worklist_p95 <orthanc p95 / ours p95>`` (closed loop, peer size).
Run: ``.venv/bin/python bench/worklist.py [--small] [--reps N] [--no-peer]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
sys.path.insert(0, str(ROOT / "bench"))
MODALITIES = ("CT", "MR", "PT", "US")
PRIORITIES = (None, "ROUTINE", "ROUTINE", "ROUTINE", "ASAP", "STAT")
LUNG_RADS = ("1", "2", "2", "3", "4A", "4B", "4X")
OURS_MIX = [
    "/api/worklist",
    "/api/worklist?offset=500",
    "/api/worklist?modality=CT",
    "/api/worklist?status=all&sort=waiting",
    "/api/worklist?min_score=60",
    "/api/worklist?q=NAME042",
]
PEER_MIX: list[dict[str, Any]] = [
    {"Level": "Study", "Query": {}, "Limit": 50, "Expand": True},
    {"Level": "Study", "Query": {"ModalitiesInStudy": "CT"}, "Limit": 50, "Expand": True},
    {"Level": "Study", "Query": {"PatientName": "*NAME042*"}, "Limit": 50, "Expand": True},
    {"Level": "Study", "Query": {"StudyDate": "20200101-20200131"}, "Limit": 50, "Expand": True},
]


def _finding(uid: str, rng: random.Random, modality: str) -> list[Any]:
    from vesalius.core import SeriesRef
    from vesalius.findings.model import Category, CodedConcept, Finding

    if modality != "CT" or rng.random() >= 0.5:
        return []
    category = Category("Lung-RADS", rng.choice(LUNG_RADS))
    ref = SeriesRef(uid, uid + ".1")
    return [Finding(CodedConcept.text("Lung nodule"), "bench", "1", ref, categories=(category,))]


def _state(rng: random.Random, unread: float) -> str:
    draw = rng.random()
    return "unread" if draw < unread else "claimed" if draw < unread * 1.05 else "reported"


def _rows(n: int, seed: int, unread: float) -> dict[str, list[dict[str, Any]]]:
    """Rows of every table for ``n`` studies (names as bench/qido.py gives them).

    A fraction ``unread`` of the studies is waiting (arrived in the last 3 days), 5 % as
    many are being read (claimed), the rest were reported (arrived in the last 2 years).
    """
    from vesalius.reporting.triage import clinical_score, rank_key

    rng = random.Random(seed)
    now = datetime.now(UTC)
    out: dict[str, list[dict[str, Any]]] = {k: [] for k in ("p", "st", "se", "i", "r", "c", "t")}
    for k in range(n):
        uid, modality, pk = f"1.2.826.0.1.3680043.9.7777.{k}", MODALITIES[k % 4], k + 1
        state = _state(rng, unread)
        days = 3 if state != "reported" else 730
        arrived = now - timedelta(minutes=rng.randint(0, 60 * 24 * days))
        order = rng.choice(PRIORITIES)
        score = clinical_score(_finding(uid, rng, modality), order_priority=order)
        name = f"NAME{k % 500:03d}^GIVEN{k}"
        out["p"].append(
            {"id": pk, "patient_id": f"P{k:06d}", "issuer": "", "name": name, "created_at": arrived}
        )
        out["st"].append(
            {
                "id": pk,
                "study_uid": uid,
                "patient_pk": pk,
                "study_date": date(2015, 1, 1) + timedelta(days=k % 3650),
                "accession_number": f"A{k}",
                "description": f"{modality} STUDY",
                "created_at": arrived,
                "updated_at": arrived,
            }
        )
        out["se"].append(
            {
                "id": pk,
                "series_uid": uid + ".1",
                "study_pk": pk,
                "modality": modality,
                "series_number": 1,
                "created_at": arrived,
            }
        )
        out["i"].append(
            {
                "id": pk,
                "sop_instance_uid": uid + ".1.1",
                "sop_class_uid": "1.2.840.10008.5.1.4.1.1.7",
                "series_pk": pk,
                "instance_number": 1,
                "blob_path": "00/00/none.dcm",
                "size_bytes": 1,
                "sha256": "0" * 64,
                "received_at": arrived,
            }
        )
        report_state = "final" if state == "reported" else "draft"
        out["r"].append(
            {
                "id": pk,
                "study_pk": pk,
                "state": report_state,
                "text": "Report.",
                "author": "vesalius",
                "version": 1,
                "created_at": arrived,
                "updated_at": arrived,
            }
        )
        if state == "claimed":
            out["c"].append({"study_pk": pk, "claimed_by": "dr.bench", "claimed_at": now})
        out["t"].append(
            {
                "study_pk": pk,
                "score": score.points,
                "rank": rank_key(score.points, arrived),
                "level": score.level,
                "reasons": list(score.reasons),
                "order_priority": order,
                "patient_class": None,
                "arrived_at": arrived,
                "study_date": date(2015, 1, 1) + timedelta(days=k % 3650),
                "modalities": f"/{modality}/",
                "search": f"{name} P{k:06d} A{k} {modality} STUDY".lower(),
                "findings_count": 0,
                "report_pk": pk,
                "report_state": report_state,
                "reported": state == "reported",
                "updated_at": arrived,
            }
        )
    return out


def fill_ours(folder: Path, n: int, unread: float, seed: int = 7) -> Path:
    """A migrated SQLite index with ``n`` triaged studies (see :func:`_rows`)."""
    from sqlalchemy import insert

    from vesalius.store import open_store, sqlite_url
    from vesalius.store.models import Instance, Patient, Report, Series, Study
    from vesalius.store.worklist import StudyClaim, StudyTriage

    path = folder / "index.sqlite3"
    store = open_store(sqlite_url(path))
    rows = _rows(n, seed, unread)
    tables = (
        ("p", Patient),
        ("st", Study),
        ("se", Series),
        ("i", Instance),
        ("r", Report),
        ("c", StudyClaim),
        ("t", StudyTriage),
    )
    with store.session() as session:
        for key, model in tables:
            for start in range(0, len(rows[key]), 5000):
                session.execute(insert(model), rows[key][start : start + 5000])
    store.close()
    return path


def sign_in(db: Path, clients: int) -> list[str]:
    """One radiologist per client; the header each sends (even: session cookie, odd: token)."""
    from vesalius.store import open_store, sqlite_url
    from vesalius.store.roles import Role
    from vesalius.store.users import add_user, create_session, create_token

    store = open_store(sqlite_url(db))
    headers = []
    with store.session() as session:
        for k in range(clients):
            name = f"dr.bench{k:02d}"
            add_user(session, name, Role.RADIOLOGIST, f"the password of {name}")
            if k % 2 == 0:
                cookie, _ = create_session(session, name, source="127.0.0.1")
                headers.append(f"Cookie: vesalius_session={cookie}")
            else:
                headers.append(f"Authorization: Bearer {create_token(session, name)}")
    store.close()
    return headers


def serve(db: str, port: int) -> None:
    """Serve the application (worklist router) over ``db`` on ``port`` (the server subprocess).

    As ``vesalius serve`` does: :class:`vesalius.service.run.HttpServer`, until SIGTERM.
    With ``VESALIUS_BENCH_PROFILE`` set to a path, uvicorn runs in the main thread under
    cProfile instead and the statistics are written there when it stops.
    """
    import cProfile
    import signal
    import threading

    import uvicorn

    from vesalius.service import worklist_api
    from vesalius.service.app import create_app
    from vesalius.service.run import HttpServer
    from vesalius.store import BlobStore, open_store, sqlite_url

    store = open_store(sqlite_url(db))
    blobs = BlobStore(Path(db).parent / "blobs")
    app = create_app(store, blobs, min_free_bytes=0, routers=(worklist_api.make_router,))
    profile_to = os.environ.get("VESALIUS_BENCH_PROFILE")
    if not profile_to:
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        with HttpServer(app, host="127.0.0.1", port=port):
            stop.wait()
        return
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    config.access_log = False
    server = uvicorn.Server(config)
    profiler = cProfile.Profile()
    signal.signal(signal.SIGTERM, lambda *_: setattr(server, "should_exit", True))
    profiler.enable()
    try:
        server.run()
    finally:
        profiler.disable()
        profiler.dump_stats(profile_to)


def start_ours(db: Path, port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen([sys.executable, __file__, "--serve", str(db), str(port)])
    for _ in range(600):
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("our server did not start")


class _Connection:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams.

    httpx costs several times the CPU of the server's answer; on a small machine the load
    generator would then starve the server it measures. This sends a request and reads
    one answer (Content-Length or chunked), nothing more.
    """

    def __init__(self, base: str, header: str = "") -> None:
        self.host, port = base.removeprefix("http://").rstrip("/").split(":")
        self.port = int(port)
        self.header = header + "\r\n" if header else ""
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def request(self, method: str, path: str, body: Any) -> bytes:
        if self._streams is None:
            self._streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self._streams
        data = b"" if body is None else json.dumps(body).encode()
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n{self.header}"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
        )
        writer.write(head.encode() + data)
        head_bytes = await reader.readuntil(b"\r\n\r\n")
        status = int(head_bytes.split(b" ", 2)[1])
        headers = head_bytes.lower()
        if b"transfer-encoding: chunked" in headers:
            answer = b""
            while size := int((await reader.readline()).strip(), 16):
                answer += await reader.readexactly(size)
                await reader.readline()
            await reader.readline()
        else:
            length = int(headers.split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
            answer = await reader.readexactly(length)
        if status != 200:
            raise RuntimeError(f"{method} {path}: HTTP {status}: {answer[:200]!r}")
        return answer

    def close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()


async def _client(
    base: str,
    calls: list[tuple[str, str, Any]],
    until: float,
    pace_s: float,
    seed: int,
    header: str,
) -> list[tuple[int, float]]:
    rng = random.Random(seed)
    times: list[tuple[int, float]] = []
    connection = _Connection(base, header)
    k = rng.randrange(len(calls))
    if pace_s:
        await asyncio.sleep(rng.uniform(0, pace_s))
    try:
        while time.perf_counter() < until:
            which = k % len(calls)
            method, path, body = calls[which]
            k += 1
            start = time.perf_counter()
            json.loads(await connection.request(method, path, body))
            elapsed = time.perf_counter() - start
            times.append((which, elapsed * 1000))
            if pace_s:
                await asyncio.sleep(max(0.0, pace_s * rng.uniform(0.5, 1.5) - elapsed))
    finally:
        connection.close()
    return times


def load(
    base: str,
    calls: list[tuple[str, str, Any]],
    args: argparse.Namespace,
    pace_s: float,
    headers: list[str] | None = None,
    server_pid: int | None = None,
) -> tuple[float, float, float]:
    """p50, p95 (ms) and requests per second of ``args.clients`` clients.

    Client ``k`` sends ``headers[k]`` (its credentials) with every request. With
    ``--per-query``, also prints p50/p95 of each call of the mix and the CPU time the
    server (``server_pid``) and the clients spent per request.
    """
    sent = headers or [""] * args.clients

    async def everyone() -> list[list[tuple[int, float]]]:
        until = time.perf_counter() + args.seconds
        tasks = [
            _client(base, calls, until, pace_s, seed, sent[seed]) for seed in range(args.clients)
        ]
        return await asyncio.gather(*tasks)

    start, server_cpu, own_cpu = time.perf_counter(), _cpu_s(server_pid), time.process_time()
    timed = [t for one in asyncio.run(everyone()) for t in one]
    wall = time.perf_counter() - start
    times = [ms for _, ms in timed]
    if args.per_query:
        served = (_cpu_s(server_pid) - server_cpu) * 1000 / len(times)
        clients = (time.process_time() - own_cpu) * 1000 / len(times)
        print(f"    CPU per request: server {served:.2f} ms, clients {clients:.2f} ms")
        for which, (_, path, body) in enumerate(calls):
            mine = [ms for k, ms in timed if k == which]
            cut = statistics.quantiles(mine, n=20)[18] if len(mine) > 1 else mine[0]
            what = path if body is None else json.dumps(body["Query"])
            print(
                f"    {what:40s} n {len(mine):5d} p50 {statistics.median(mine):7.1f} p95 {cut:7.1f}"
            )
    cuts = statistics.quantiles(times, n=100)
    return statistics.median(times), cuts[94], len(times) / wall


def _cpu_s(pid: int | None) -> float:
    """CPU seconds process ``pid`` used so far (0 when not known)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ours_calls() -> list[tuple[str, str, Any]]:
    return [("GET", path, None) for path in OURS_MIX]


def peer_calls() -> list[tuple[str, str, Any]]:
    return [("POST", "/tools/find", body) for body in PEER_MIX]


def _median(runs: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    return tuple(statistics.median(r[i] for r in runs) for i in range(3))  # type: ignore[return-value]


def _report(name: str, runs: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    p50, p95, rate = _median(runs)
    print(f"{name:34s} p50 {p50:8.1f} ms   p95 {p95:8.1f} ms   {rate:7.0f} req/s", flush=True)
    return p50, p95, rate


def run(args: argparse.Namespace) -> None:
    from orthanc import free_port

    n = 10_000 if args.small else args.n
    folder = Path(tempfile.mkdtemp(prefix="bench-worklist-"))
    results: dict[str, tuple[float, float, float]] = {}
    try:
        big = folder / "big"
        big.mkdir()
        t0 = time.perf_counter()
        db = fill_ours(big, n, args.unread)
        print(f"filled our index with {n} triaged studies in {time.perf_counter() - t0:.1f} s")
        headers = sign_in(db, args.clients)
        port = free_port()
        ours = start_ours(db, port)
        base = f"http://127.0.0.1:{port}"
        first = httpx.get(base + "/api/worklist", headers=[headers[1].split(": ", 1)]).json()
        print(f"default page: {first['total']} unread, top score {first['items'][0]['priority']}")
        for label, pace in (("closed", 0.0), (f"paced {args.pace_ms} ms", args.pace_ms / 1000)):
            runs = [
                load(base, ours_calls(), args, pace, headers, ours.pid) for _ in range(args.reps)
            ]
            results[f"ours {n} {label}"] = _report(f"ours, {n} studies, {label}", runs)
        ours.terminate()
        ours.wait(timeout=30)
        if not args.no_peer:
            results |= peer(folder, args)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if not args.no_peer:
        ratio = results["orthanc closed"][1] / results["ours peer-size closed"][1]
        print(f"RATIO worklist_p95 {ratio:.2f}")


def peer(folder: Path, args: argparse.Namespace) -> dict[str, tuple[float, float, float]]:
    from orthanc import free_port, start_orthanc

    from qido import fill_orthanc

    m = args.peer_n
    small = folder / "small"
    small.mkdir()
    db = fill_ours(small, m, args.unread)
    headers = sign_in(db, args.clients)
    orthanc = start_orthanc(folder / "orthanc")
    t0 = time.perf_counter()
    fill_orthanc(orthanc.url, m)
    print(f"filled Orthanc with {m} studies in {time.perf_counter() - t0:.1f} s")
    port = free_port()
    ours = start_ours(db, port)
    out = {}
    try:
        found = httpx.post(orthanc.url + "/tools/find", json=PEER_MIX[1]).json()
        print(f"Orthanc CT page: {len(found)} studies")
        servers = {
            "ours peer-size": (f"http://127.0.0.1:{port}", ours_calls(), headers),
            "orthanc": (orthanc.url, peer_calls(), None),
        }
        for name, (base, calls, sent) in servers.items():
            runs = [load(base, calls, args, 0.0, sent) for _ in range(args.reps)]
            out[f"{name} closed"] = _report(f"{name}, {m} studies, closed", runs)
    finally:
        ours.terminate()
        ours.wait(timeout=30)
        orthanc.stop()
    return out


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--small", action="store_true", help="10,000 studies instead of N")
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--peer-n", type=int, default=10_000)
    parser.add_argument("--no-peer", action="store_true", help="ours only")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--pace-ms", type=int, default=2000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--per-query", action="store_true", help="print each query's figures")
    parser.add_argument("--unread", type=float, default=0.02, help="fraction waiting to be read")
    args = parser.parse_args()
    if os.environ.get("VESALIUS_BENCH_NETNS") != "1":
        argv = [sys.executable, *sys.argv]
        command = " ".join(f"'{a}'" for a in argv)
        env = {**os.environ, "VESALIUS_BENCH_NETNS": "1"}
        done = subprocess.run(
            ["unshare", "-n", "sh", "-c", f"ip link set lo up && exec {command}"],
            env=env,
            check=False,
        )
        sys.exit(done.returncode)
    run(args)


if __name__ == "__main__":
    main()
