"""Test helper: match detected nodules to a phantom's truth, and which nodules are visible.

A detection matches a truth nodule when its centre lies within half the nodule's long
axis plus 2 mm of the nodule's centre. A phantom nodule drawn against a vessel at least as
thick as the nodule itself (the vessel's radius reaches the nodule's smallest semi-axis and
the two touch) shows on the image as a bulge of that vessel, not as a nodule: such nodules
are *hidden* and left out of the sensitivity, and the tests bound how many there are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vesalius.analyze.chest_ct import Nodule
from vesalius.simulate import chest_layout
from vesalius.simulate.chest_ct import ChestCT
from vesalius.simulate.chest_truth import NoduleTruth


@dataclass(frozen=True)
class Match:
    """The detections of one phantom: matched pairs, missed truths, false positives."""

    pairs: tuple[tuple[NoduleTruth, Nodule], ...]
    missed: tuple[NoduleTruth, ...]
    hidden: tuple[NoduleTruth, ...]
    false_positives: tuple[Nodule, ...]


def _segment_distance(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    ab = b - a
    t = float(np.clip((p - a) @ ab / max(float(ab @ ab), 1e-12), 0.0, 1.0))
    return float(np.linalg.norm(p - (a + t * ab)))


def hidden(ct: ChestCT, nodule: NoduleTruth) -> bool:
    """Whether the nodule touches a vessel at least as thick as itself."""
    layout = chest_layout.chest_layout(np.random.default_rng(ct.seed))
    centre = np.asarray(nodule.centre_lps_mm)
    smallest, largest = min(nodule.semi_axes_xyz_mm), max(nodule.semi_axes_xyz_mm)
    for seg in layout.vessels:
        if seg.radius < smallest:
            continue
        gap = _segment_distance(centre, np.asarray(seg.start), np.asarray(seg.end))
        if gap < seg.radius + largest:
            return True
    return False


def match(ct: ChestCT, found: tuple[Nodule, ...]) -> Match:
    """Pair each truth nodule with the nearest detection within reach."""
    used: set[int] = set()
    pairs, missed, hid = [], [], []
    for truth in ct.truth.nodules:
        reach = truth.long_axis_mm / 2.0 + 2.0
        centre = np.asarray(truth.centre_lps_mm)
        dists = [float(np.linalg.norm(np.asarray(n.centre_lps_mm) - centre)) for n in found]
        best = int(np.argmin(dists)) if dists else -1
        if best >= 0 and dists[best] <= reach and best not in used:
            used.add(best)
            pairs.append((truth, found[best]))
        elif hidden(ct, truth):
            hid.append(truth)
        else:
            missed.append(truth)
    fps = tuple(n for i, n in enumerate(found) if i not in used)
    return Match(tuple(pairs), tuple(missed), tuple(hid), fps)
