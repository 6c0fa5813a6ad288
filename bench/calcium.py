"""Benchmark: coronary calcium score of a full-size chest CT phantom (300 x 512 x 512).

Runs side by side on the same input, in one process:

- ours: ``vesalius.analyze.cardiac_ct`` -- find the heart, then score only the calcium on
  it (timed as detection + scoring, and each part);
- peer: a naive Agatston script, what a drawer of scripts would do: threshold the whole
  image at 130 HU, label each slice's 8-connected regions, weight them by their peak HU.
  It is fast, and wrong: it scores the spine, ribs, sternum, table and aortic calcium too.

Prints both scores against the phantom's truth, the median time of several repetitions of
each and each one's peak memory (tracemalloc, in a separate run), and as the last line
``RATIO calcium <naive median time / our median time>`` (> 1: we are faster).
Usage: ``.venv/bin/python bench/calcium.py [--small]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import ndimage

from vesalius.analyze.cardiac_ct import find_heart, score_calcium
from vesalius.core import Volume
from vesalius.simulate.chest_ct import FULL_SHAPE, ChestCTSpec, chest_ct


def naive_agatston(vol: Volume) -> float:
    """Whole-image Agatston: every 8-connected region >= 130 HU of >= 1 mm² on every slice."""
    sz, sy, sx = vol.spacing
    score = 0.0
    for k in range(vol.shape[0]):
        image = vol.array[k]
        regions, n = ndimage.label(image >= 130, structure=np.ones((3, 3), bool))
        if n == 0:
            continue
        index = np.arange(1, n + 1)
        area = np.bincount(regions.ravel(), minlength=n + 1)[1:] * sy * sx
        peak = np.asarray(ndimage.maximum(image, regions, index))
        weight = np.clip(np.floor(peak / 100.0), 1, 4)
        score += float(np.sum(np.where(area >= 1.0, area * weight, 0.0))) * sz / 3.0
    return score


def timed(func: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def peak_mib(func: Callable[[], Any]) -> float:
    tracemalloc.start()
    func()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="a (100, 256, 256) phantom")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    shape = (100, 256, 256) if args.small else FULL_SHAPE
    t0 = time.perf_counter()
    ct = chest_ct(ChestCTSpec(shape=shape), seed=7)
    vol, truth = ct.volume, ct.truth
    print(
        f"phantom {shape}, spacing {tuple(round(s, 3) for s in vol.spacing)} mm, "
        f"noise {truth.noise_hu} HU, built in {time.perf_counter() - t0:.1f} s"
    )

    t_heart, heart = timed(lambda: find_heart(vol), args.repeat)
    t_score, ours = timed(lambda: score_calcium(vol, heart=heart), args.repeat)
    t_ours, _ = timed(lambda: score_calcium(vol), args.repeat)
    t_naive, naive = timed(lambda: naive_agatston(vol), args.repeat)
    mem_ours = peak_mib(lambda: score_calcium(vol))
    mem_naive = peak_mib(lambda: naive_agatston(vol))

    aortic = sum(c.agatston_written.score for c in truth.aortic_calcium)
    print(
        f"truth coronary Agatston      {truth.agatston_total_written:9.1f}  "
        f"(aortic calcium alone would add {aortic:.1f})"
    )
    err = 100.0 * (ours.agatston / truth.agatston_total_written - 1.0)
    print(
        f"ours  Agatston               {ours.agatston:9.1f}  ({err:+.1f} %), "
        f"{len(ours.lesions)} lesions, CAC-DRS {ours.cac_drs.label}"
    )
    print(
        f"naive Agatston (whole image) {naive:9.1f}  "
        f"({naive / truth.agatston_total_written:.0f}x the truth: bone, table, aorta)"
    )
    print(
        f"ours  time  {t_ours:7.3f} s median of {args.repeat} "
        f"(heart {t_heart:.3f} s + scoring {t_score:.3f} s), peak {mem_ours:7.1f} MiB"
    )
    print(f"naive time  {t_naive:7.3f} s median of {args.repeat}, peak {mem_naive:7.1f} MiB")
    print(f"RATIO calcium {t_naive / t_ours:.3f}")


if __name__ == "__main__":
    main()
