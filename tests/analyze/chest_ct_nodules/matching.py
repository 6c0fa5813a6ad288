"""Test helper: match detected nodules to a phantom's truth.

A detection matches a truth nodule when its centre lies within half the nodule's long
axis plus 2 mm of the nodule's centre. Every nodule of the truth counts, those touching a
vessel included (juxtavascular nodules are common and reported); the phantom itself
leaves out a solid nodule drawn mostly inside a vessel, which no reader could see
(:func:`vesalius.simulate.chest_layout.visible`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vesalius.analyze.chest_ct import Nodule
from vesalius.simulate.chest_ct import ChestCT
from vesalius.simulate.chest_truth import NoduleTruth


@dataclass(frozen=True)
class Match:
    """The detections of one phantom: matched pairs, missed truths, false positives."""

    pairs: tuple[tuple[NoduleTruth, Nodule], ...]
    missed: tuple[NoduleTruth, ...]
    false_positives: tuple[Nodule, ...]


def match(ct: ChestCT, found: tuple[Nodule, ...]) -> Match:
    """Pair each truth nodule with the nearest detection within reach."""
    used: set[int] = set()
    pairs, missed = [], []
    for truth in ct.truth.nodules:
        reach = truth.long_axis_mm / 2.0 + 2.0
        centre = np.asarray(truth.centre_lps_mm)
        dists = [float(np.linalg.norm(np.asarray(n.centre_lps_mm) - centre)) for n in found]
        best = int(np.argmin(dists)) if dists else -1
        if best >= 0 and dists[best] <= reach and best not in used:
            used.add(best)
            pairs.append((truth, found[best]))
        else:
            missed.append(truth)
    fps = tuple(n for i, n in enumerate(found) if i not in used)
    return Match(tuple(pairs), tuple(missed), fps)
