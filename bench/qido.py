"""Benchmark: QIDO-RS study search over N studies, Vesalius vs Orthanc's DICOMweb plugin.

Input: N studies (``--small``: 1,000; default 10,000), one tiny instance each (no pixel
data), 500 patient names, study dates over ten years, modalities CT/MR/PT/US. Ours: the
index is filled directly through the store repositories (``add_instance``, one transaction
per 1,000 studies) and served by uvicorn in a subprocess; the peer: Orthanc 1.10 with its
DICOMweb plugin, loaded through its REST API (``POST /instances``). Both run inside a
private network namespace (``unshare -n``; the script re-executes itself there).

A round is the same query mix against each server with one keep-alive httpx client: by
PatientID, PatientName wildcard, a one-month StudyDate range, ModalitiesInStudy with
limit=100, and no filter with limit=100. Ours is queried as a service account with an API
token (``Authorization: Bearer``: one SHA-256 lookup per request; each distinct search is
audited once per user per 5 minutes); Orthanc without authentication. Each repetition runs
``--rounds`` rounds; p50/p95 are per repetition and the medians over repetitions are
printed, then last ``RATIO qido_p95 <orthanc p95 / ours p95>``.
Run: ``.venv/bin/python bench/qido.py [--small] [--reps N]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from io import BytesIO
from pathlib import Path

import httpx
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
MODALITIES = ("CT", "MR", "PT", "US")


def study_dataset(n: int) -> Dataset:
    ds = Dataset()
    ds.PatientID, ds.PatientName = f"P{n:06d}", f"NAME{n % 500:03d}^GIVEN{n}"
    ds.StudyInstanceUID = f"1.2.826.0.1.3680043.9.7777.{n}"
    ds.SeriesInstanceUID, ds.SOPInstanceUID = (
        f"{ds.StudyInstanceUID}.1",
        f"{ds.StudyInstanceUID}.1.1",
    )
    ds.SOPClassUID, ds.Modality = SecondaryCaptureImageStorage, MODALITIES[n % 4]
    ds.StudyDate = (date(2015, 1, 1) + timedelta(days=n % 3650)).strftime("%Y%m%d")
    ds.StudyTime, ds.AccessionNumber, ds.StudyID = "120000", f"A{n}", str(n)
    ds.SeriesNumber, ds.InstanceNumber = 1, 1
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    return ds


def encode(ds: Dataset) -> bytes:
    out = BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def fill_ours(folder: Path, n: int) -> dict[str, str]:
    """Fill our index; the headers of a service account's API token to query it with."""
    from vesalius.store import BlobRef, InstanceHeader, add_instance, open_store, sqlite_url
    from vesalius.store.roles import Role
    from vesalius.store.users import add_user, create_token

    store = open_store(sqlite_url(folder / "index.sqlite3"))
    fake = BlobRef("00/00/" + "0" * 64 + ".dcm", 1, "0" * 64)
    for start in range(0, n, 1000):
        with store.session() as session:
            for i in range(start, min(n, start + 1000)):
                add_instance(session, InstanceHeader.from_dataset(study_dataset(i)), fake)
    with store.session() as session:
        add_user(session, "bench", Role.SERVICE, "bench password, not a secret")
        token = create_token(session, "bench", name="qido bench")
    store.close()
    return {"Authorization": f"Bearer {token}"}


def fill_orthanc(url: str, n: int) -> None:
    def post(i: int) -> None:
        request = urllib.request.Request(
            f"{url}/instances", data=encode(study_dataset(i)), method="POST"
        )
        with urllib.request.urlopen(request, timeout=60) as answer:
            answer.read()

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(post, range(n)))


def queries(n: int) -> list[str]:
    return [
        f"/studies?PatientID=P{n // 3:06d}",
        "/studies?PatientName=NAME042^*",
        "/studies?StudyDate=20200101-20200131",
        "/studies?ModalitiesInStudy=MR&limit=100",
        "/studies?limit=100",
    ]


def measure(base: str, paths: list[str], rounds: int, headers: dict[str, str]) -> list[float]:
    times = []
    with httpx.Client(base_url=base, timeout=60, headers=headers) as client:
        for path in paths:  # warm-up
            client.get(path).raise_for_status()
        for _ in range(rounds):
            for path in paths:
                start = time.perf_counter()
                answer = client.get(path, headers={"Accept": "application/dicom+json"})
                answer.raise_for_status()
                answer.json()
                times.append((time.perf_counter() - start) * 1000)
    return times


def percentiles(times: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(times, n=100)
    return statistics.median(times), cuts[94]


def start_ours(folder: Path, port: int) -> subprocess.Popen[bytes]:
    code = (
        "import sys, uvicorn; from vesalius.service.app import create_app;"
        "from vesalius.store import BlobStore, open_store, sqlite_url;"
        f"s = open_store(sqlite_url({str(folder / 'index.sqlite3')!r}));"
        f"app = create_app(s, BlobStore({str(folder / 'blobs')!r}), min_free_bytes=0);"
        f"uvicorn.run(app, host='127.0.0.1', port={port}, log_level='warning')"
    )
    process = subprocess.Popen([sys.executable, "-c", code])
    for _ in range(300):
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("our server did not start")


def run(args: argparse.Namespace) -> None:
    from orthanc import free_port, start_orthanc

    n = 1000 if args.small else 10_000
    folder = Path(tempfile.mkdtemp(prefix="bench-qido-"))
    try:
        t0 = time.perf_counter()
        our_headers = fill_ours(folder, n)
        print(f"filled our index with {n} studies in {time.perf_counter() - t0:.1f} s")
        orthanc = start_orthanc(folder)
        t0 = time.perf_counter()
        fill_orthanc(orthanc.url, n)
        print(f"filled Orthanc with {n} studies in {time.perf_counter() - t0:.1f} s")
        ours = start_ours(folder, free_port())
        port = ours.args[2].rsplit("port=", 1)[1].split(",")[0]
        servers = {"ours": f"http://127.0.0.1:{port}/dicom-web", "orthanc": orthanc.dicomweb_url}
        headers = {"ours": our_headers, "orthanc": {}}
        results: dict[str, list[tuple[float, float]]] = {"ours": [], "orthanc": []}
        paths = queries(n)
        check = {
            k: len(httpx.get(v + paths[3], headers=headers[k]).json()) for k, v in servers.items()
        }
        print(f"results of {paths[3]}: {check}")
        for _ in range(args.reps):
            for name, base in servers.items():
                times = measure(base, paths, args.rounds, headers[name])
                results[name].append(percentiles(times))
        ours.terminate()
        ours.wait(timeout=20)
        orthanc.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    summary = {}
    for name, runs in results.items():
        p50 = statistics.median(r[0] for r in runs)
        p95 = statistics.median(r[1] for r in runs)
        summary[name] = p95
        runs_text = f"{args.reps} reps x {args.rounds} rounds x {len(paths)} queries"
        print(f"{name:8s} p50 {p50:7.2f} ms   p95 {p95:7.2f} ms   ({runs_text})")
    print(f"RATIO qido_p95 {summary['orthanc'] / summary['ours']:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="1,000 studies instead of 10,000")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=20)
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
