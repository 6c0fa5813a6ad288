"""Benchmark: lung segmentation on a full-size phantom chest CT, ours against a scipy baseline.

The peer is what a "drawer of scripts" does: threshold below -400 HU, drop the components
that touch the image border (outside air), keep the two largest, fill their holes in 3-D
(``scipy.ndimage.binary_fill_holes``), call the one at +x (LPS) the left lung. lungmask
would be the natural peer but needs downloaded weights, which this setup cannot fetch.

Each side runs in its own subprocess on the same saved input (peak memory is that
process's ``ru_maxrss``); times are medians of ``--reps`` runs. Dice is against the
phantom's truth lung labels. Last line: ``RATIO chest_lungs <baseline s / our s>``.

Run: ``.venv/bin/python bench/chest_lungs.py [--small] [--reps N] [--bay-mm MM]``
(``--bay-mm 0`` turns the pleural-bay step off, to measure what it costs).
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

import numpy as np
from scipy import ndimage

FULL, SMALL = (300, 512, 512), (80, 256, 256)


def _baseline(hu: np.ndarray, affine: np.ndarray) -> dict[str, np.ndarray]:
    labels, n = ndimage.label(hu < -400)
    border = np.unique(
        np.concatenate(
            [
                labels[:, 0].ravel(),
                labels[:, -1].ravel(),
                labels[:, :, 0].ravel(),
                labels[:, :, -1].ravel(),
            ]
        )
    )
    sizes = np.bincount(labels.ravel(), minlength=n + 1)
    sizes[border] = 0
    sizes[0] = 0
    two = np.argsort(sizes)[::-1][:2]
    masks = [ndimage.binary_fill_holes(labels == t) for t in two]
    xs = [float((np.argwhere(m)[:, 2].mean()) * affine[0, 2] + affine[0, 3]) for m in masks]
    left, right = (masks[0], masks[1]) if xs[0] > xs[1] else (masks[1], masks[0])
    return {"left": left, "right": right}


def _ours(
    hu: np.ndarray, affine: np.ndarray, bay_mm: float | None
) -> tuple[dict[str, np.ndarray], list[Any]]:
    from vesalius.analyze.chest_ct import LungOptions, segment_lungs
    from vesalius.core import Volume

    opts = LungOptions() if bay_mm is None else LungOptions(bay_mm=bay_mm)
    seg = segment_lungs(Volume(hu, affine, modality="CT"), options=opts)
    return {s: seg.mask(s) for s in ("left", "right")}, list(seg.stage_seconds)


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    return float(2.0 * np.count_nonzero(a & b) / (np.count_nonzero(a) + np.count_nonzero(b)))


def child(which: str, data: Path, reps: int, bay_mm: float | None = None) -> None:
    """Run one side ``reps`` times on the saved input and print a JSON line."""
    hu = np.load(data / "hu.npy")
    affine = np.load(data / "affine.npy")
    anatomy = np.load(data / "anatomy.npy")
    times, stages = [], []
    for _ in range(reps):
        t0 = time.perf_counter()
        if which == "ours":
            masks, laps = _ours(hu, affine, bay_mm)
            stages.append(laps)
        else:
            masks = _baseline(hu, affine)
        times.append(time.perf_counter() - t0)
    dice = {s: _dice(masks[s], anatomy == v) for s, v in (("left", 1), ("right", 2))}
    stage_median = (
        {
            name: statistics.median(run[i][1] for run in stages)
            for i, (name, _) in enumerate(stages[0])
        }
        if stages
        else {}
    )
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"times": times, "dice": dice, "stages": stage_median, "rss_mb": rss_mb}))


def _run(which: str, data: Path, reps: int, bay_mm: float | None = None) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", which, "--data", str(data), "--reps", str(reps)]
    if bay_mm is not None:
        cmd += ["--bay-mm", str(bay_mm)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help=f"{SMALL} instead of {FULL}")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--child", choices=("ours", "baseline"))
    parser.add_argument("--data", type=Path)
    parser.add_argument(
        "--bay-mm", type=float, help="LungOptions.bay_mm for ours (0: the pleural-bay step off)"
    )
    args = parser.parse_args()
    if args.child:
        child(args.child, args.data, args.reps, args.bay_mm)
        return
    from vesalius.simulate.chest_ct import ChestCTSpec, chest_ct

    shape = SMALL if args.small else FULL
    ct = chest_ct(ChestCTSpec(shape=shape), seed=7)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        np.save(data / "hu.npy", ct.volume.array)
        np.save(data / "affine.npy", ct.volume.affine)
        np.save(data / "anatomy.npy", ct.anatomy)
        ours = _run("ours", data, args.reps, args.bay_mm)
        base = _run("baseline", data, args.reps)
    print(f"chest CT phantom {shape}, spacing {ct.volume.spacing}, {args.reps} repetitions")
    for name, r in (("vesalius", ours), ("scipy baseline", base)):
        print(
            f"{name:15s} median {statistics.median(r['times']):7.2f} s  "
            f"Dice left {r['dice']['left']:.4f} right {r['dice']['right']:.4f}  "
            f"peak RSS {r['rss_mb']:.0f} MB"
        )
    for stage, seconds in ours["stages"].items():
        print(f"  vesalius stage {stage:20s} {seconds:6.2f} s")
    ratio = statistics.median(base["times"]) / statistics.median(ours["times"])
    print(f"RATIO chest_lungs {ratio:.3f}")


if __name__ == "__main__":
    main()
