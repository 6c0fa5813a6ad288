"""Benchmark: a cohort of 20 small chest CT studies on Dask, two workers against one.

The same jobs run through :class:`vesalius.pipeline.dask_executor.DaskExecutor` on a
``distributed.LocalCluster`` of single-threaded worker processes: first with one worker,
then with two, alternating, each repetition on a fresh store with the phantoms imported and
their jobs queued (not timed; only ``run_jobs`` is timed, cluster start-up excluded). The
threads executor (:class:`LocalExecutor`, the default) with two threads runs beside them for
reference. Two workers can be at most 2x one on this 2-core machine; the issue asks >= 1.7x.

Prints the medians and, as the last line, ``RATIO dask_batch <1-worker s / 2-worker s>``.
Usage: ``.venv/bin/python bench/dask_batch.py [--studies 20] [--reps 3]``.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import distributed

from vesalius.ingest.folder import import_files, iter_files
from vesalius.io.scan import scan_dicom
from vesalius.pipeline.apps import default_apps
from vesalius.pipeline.dask_executor import DaskExecutor
from vesalius.pipeline.executors import Executor, LocalExecutor
from vesalius.pipeline.jobs import enqueue_routed, run_jobs
from vesalius.simulate.chest_ct import ChestCTSpec, chest_ct, write_chest_ct
from vesalius.store import BlobStore, open_store, sqlite_url

SHAPE = (60, 176, 176)


def _phantoms(root: Path, count: int) -> Path:
    folder = root / "incoming"
    for seed in range(count):
        write_chest_ct(chest_ct(ChestCTSpec(shape=SHAPE), seed=100 + seed), folder / f"s{seed}")
    return folder


def _once(folder: Path, root: Path, executor: Executor) -> float:
    data = Path(tempfile.mkdtemp(dir=root))
    store = open_store(sqlite_url(data / "index.sqlite3"))
    blobs = BlobStore(data / "blobs")
    try:
        import_files(iter_files(folder), store=store, blobs=blobs)
        enqueue_routed(store, scan_dicom(folder).series)
        start = time.perf_counter()
        summary = run_jobs(store, apps=default_apps(), executor=executor, blobs=blobs)
        elapsed = time.perf_counter() - start
    finally:
        store.close()
    if summary.failed or not summary.done:
        raise SystemExit(f"{summary.done} jobs done, {summary.failed} failed")
    return elapsed


@contextmanager
def _dask(workers: int) -> Iterator[Executor]:
    cluster = distributed.LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
    )
    with cluster, distributed.Client(cluster) as client:  # type: ignore[no-untyped-call]
        client.run(lambda: __import__("vesalius.findings.run"))  # warm the imports
        yield DaskExecutor(client)


@contextmanager
def _threads(workers: int) -> Iterator[Executor]:
    with LocalExecutor(workers=workers) as pool:
        yield pool


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=20)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    sides: dict[str, Callable[[], AbstractContextManager[Executor]]] = {
        "dask 1 worker": lambda: _dask(1),
        "dask 2 workers": lambda: _dask(2),
        "threads 2 (reference)": lambda: _threads(2),
    }
    times: dict[str, list[float]] = {name: [] for name in sides}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        folder = _phantoms(root, args.studies)
        for _ in range(args.reps):
            for name, make in sides.items():
                with make() as executor:
                    times[name].append(_once(folder, root, executor))
    print(f"{args.studies} chest CT studies of shape {SHAPE}, {args.reps} repetitions")
    medians = {name: statistics.median(t) for name, t in times.items()}
    for name, value in medians.items():
        runs = ", ".join(f"{t:.2f}" for t in times[name])
        print(f"{name:<22} median {value:7.2f} s  ({runs})")
    print(f"RATIO dask_batch {medians['dask 1 worker'] / medians['dask 2 workers']:.3f}")


if __name__ == "__main__":
    main()
