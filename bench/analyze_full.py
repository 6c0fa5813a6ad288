"""Benchmark: every chest and cardiac analysis on a 512x512x300 chest CT, stage by stage.

The issue's budget is absolute: at most 60 s wall and 4 GB peak memory on this 2-core
machine. A seeded full-size chest CT phantom is written as DICOM (not timed); then, each in
a fresh subprocess so that peak memory (``ru_maxrss``) is that run's alone:

- ``stages``: the analyses called one by one on the read volume, timed per stage (DICOM
  read, coronary calcium, lung segmentation, emphysema, nodules, findings and outputs);
- ``cli``: the real command, ``vesalius analyze FOLDER --out DIR``, timed end to end.

There is no peer that runs this whole set of analyses; per-stage peers are in
``bench/read_series.py``, ``bench/calcium.py`` and ``bench/chest_lungs.py``. Prints a table
and, last, ``RATIO analyze_full <60 s budget / cli median s>`` (>= 1: within budget).
Usage: ``.venv/bin/python bench/analyze_full.py [--reps 3] [--small]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BUDGET_S, BUDGET_BYTES = 60.0, 4 << 30
FULL, SMALL = (300, 512, 512), (80, 256, 256)


def _stages(folder: str, out: str) -> dict[str, Any]:
    """Run the analyses stage by stage in this (fresh) process; times in seconds."""
    from vesalius.analyze.cardiac_ct import score_calcium
    from vesalius.analyze.chest_ct import detect_nodules, emphysema_index, segment_lungs
    from vesalius.findings import run as findings_run
    from vesalius.io.dicom_read import read_dicom

    times: dict[str, float] = {}

    def timed(name: str, fn: Any, *args: Any) -> Any:
        start = time.perf_counter()
        value = fn(*args)
        times[name] = time.perf_counter() - start
        return value

    start = time.perf_counter()
    volume = timed("read DICOM series", lambda: read_dicom(Path(folder)).volume)
    timed("coronary calcium", score_calcium, volume)
    lungs = timed("lung segmentation", segment_lungs, volume)
    timed("emphysema", emphysema_index, volume, lungs)
    timed("nodules", detect_nodules, volume, lungs)
    source = volume.source
    run = timed("all analyses (analyze_ct)", lambda: findings_run.analyze_ct(volume, source=source))
    timed("write outputs", findings_run.write_outputs, run, Path(out))
    times["total (stages + analyze_ct)"] = time.perf_counter() - start
    return {"times": times, "max_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss << 10}


def _child(mode: str, folder: Path, out: Path) -> dict[str, Any]:
    if mode == "cli":
        exe = Path(sys.executable).with_name("vesalius")
        start = time.perf_counter()
        subprocess.run(
            [str(exe), "analyze", str(folder), "--out", str(out)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        wall = time.perf_counter() - start
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss << 10
        return {"wall": wall, "max_rss": rss}
    code = (
        "import json, bench.analyze_full as b; "
        f"print(json.dumps(b._stages({str(folder)!r}, {str(out)!r})))"
    )
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _one_cli(folder: Path, out: Path) -> dict[str, Any]:
    code = (
        "import json, sys; from pathlib import Path; import bench.analyze_full as b; "
        f"print(json.dumps(b._child('cli', Path({str(folder)!r}), Path({str(out)!r}))))"
    )
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--small", action="store_true", help=f"a {SMALL} CT instead")
    args = parser.parse_args()
    from vesalius.simulate.chest_ct import ChestCTSpec, chest_ct, write_chest_ct

    shape = SMALL if args.small else FULL
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        written = write_chest_ct(chest_ct(ChestCTSpec(shape=shape), seed=2026), root / "ct")
        stage_runs = [_child("stages", written.folder, root / f"s{i}") for i in range(args.reps)]
        cli_runs = [_one_cli(written.folder, root / f"c{i}") for i in range(args.reps)]
    print(f"chest CT phantom {shape[2]}x{shape[1]}x{shape[0]}, {args.reps} runs, medians")
    print(f"{'stage':<30} {'seconds':>8}")
    for name in stage_runs[0]["times"]:
        value = statistics.median(r["times"][name] for r in stage_runs)
        print(f"{name:<30} {value:8.2f}")
    stage_rss = max(r["max_rss"] for r in stage_runs)
    wall = statistics.median(r["wall"] for r in cli_runs)
    cli_rss = max(r["max_rss"] for r in cli_runs)
    print(f"peak memory, stages process: {stage_rss / 2**30:.2f} GiB")
    print(
        f"vesalius analyze end to end: {wall:.2f} s wall "
        f"({', '.join(format(r['wall'], '.1f') for r in cli_runs)}), "
        f"peak {cli_rss / 2**30:.2f} GiB (budget {BUDGET_S:.0f} s, "
        f"{BUDGET_BYTES / 2**30:.0f} GiB)"
    )
    print(f"RATIO analyze_full {BUDGET_S / wall:.3f}")


if __name__ == "__main__":
    main()
