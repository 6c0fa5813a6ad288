"""Benchmark: running chest CT jobs through the pipeline on threads vs on processes.

Runs side by side on the same input, in one process:

- ours: :func:`vesalius.pipeline.jobs.run_jobs` with :class:`LocalExecutor` (a thread pool,
  the default: numpy/scipy kernels release the GIL, nothing is pickled);
- peer: the same jobs through :class:`ProcessExecutor`, a ``ProcessPoolExecutor`` (the other
  standard-library choice: tasks and findings pickled between processes);
- baseline: :class:`InlineExecutor` (one after the other), printed for reference.

Each repetition gets a fresh store with the phantoms imported and their jobs queued (not
timed); only ``run_jobs`` is timed. Prints the median of several repetitions of each and, as
the last line, ``RATIO pipeline_batch <process median / thread median>`` (> 1: threads win).
Usage: ``.venv/bin/python bench/pipeline_batch.py [--small]``.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from vesalius.ingest.folder import import_files, iter_files
from vesalius.io.scan import scan_dicom
from vesalius.pipeline.apps import default_apps
from vesalius.pipeline.executors import (
    Executor,
    InlineExecutor,
    LocalExecutor,
    ProcessExecutor,
)
from vesalius.pipeline.jobs import enqueue_routed, run_jobs
from vesalius.simulate.chest_ct import ChestCTSpec, chest_ct, write_chest_ct
from vesalius.store import BlobStore, open_store, sqlite_url


def _phantoms(root: Path, shape: tuple[int, int, int], count: int) -> Path:
    folder = root / "incoming"
    for seed in range(count):
        write_chest_ct(chest_ct(ChestCTSpec(shape=shape), seed=seed), folder / f"chest{seed}")
    return folder


def _once(folder: Path, root: Path, make: Callable[[], Executor]) -> float:
    data = Path(tempfile.mkdtemp(dir=root))
    store = open_store(sqlite_url(data / "index.sqlite3"))
    blobs = BlobStore(data / "blobs")
    import_files(iter_files(folder), store=store, blobs=blobs)
    enqueue_routed(store, scan_dicom(folder).series)
    executor = make()
    try:
        start = time.perf_counter()
        summary = run_jobs(store, apps=default_apps(), executor=executor, blobs=blobs)
        elapsed = time.perf_counter() - start
    finally:
        executor.close()
        store.close()
    if summary.failed or not summary.done:
        raise SystemExit(f"{summary.done} jobs done, {summary.failed} failed")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="smaller phantoms, fewer runs")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    shape, count, reps = ((60, 128, 128), 2, 3) if args.small else ((100, 256, 256), 4, 3)
    workers = 2
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        folder = _phantoms(root, shape, count)
        makers: dict[str, Callable[[], Executor]] = {
            "threads (ours)": lambda: LocalExecutor(workers=workers),
            "processes (peer)": lambda: ProcessExecutor(workers=workers),
            "inline (baseline)": InlineExecutor,
        }
        medians: dict[str, list[float]] = {}
        for _ in range(reps):
            for name, make in makers.items():
                medians.setdefault(name, []).append(_once(folder, root, make))
    print(f"{count} chest CT jobs of shape {shape}, {workers} workers, {reps} repetitions")
    result = {name: statistics.median(times) for name, times in medians.items()}
    for name, value in result.items():
        print(f"{name:<18} median {value:7.2f} s  ({', '.join(f'{t:.2f}' for t in medians[name])})")
    ratio = result["processes (peer)"] / result["threads (ours)"]
    print(f"RATIO pipeline_batch {ratio:.3f}")


if __name__ == "__main__":
    main()
