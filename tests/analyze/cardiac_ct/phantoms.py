"""Seeded chest CT phantoms and their calcium scores, built once per test session.

Phantoms are 256 x 256 in-plane (1.4 mm pixels, enough to resolve 2-3 mm calcifications)
with 75 to 200 slices over 300 mm (4 to 1.5 mm slice spacing) and 0 to 10 HU of noise.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from vesalius.analyze.cardiac_ct import CalciumScore, score_calcium
from vesalius.simulate.chest_ct import ChestCT, ChestCTSpec, chest_ct

SLICES = (75, 100, 120, 150, 200)
NOISE_HU = (0.0, 5.0, 10.0)
CASES = tuple((SLICES[i % 5], NOISE_HU[i % 3], i) for i in range(10))
"""(slices, noise HU, seed) of the accuracy cases: every slice spacing with every noise."""


@dataclass(frozen=True, eq=False)
class Case:
    """A phantom and what :func:`score_calcium` made of it."""

    ct: ChestCT
    score: CalciumScore


@functools.cache
def case(slices: int, noise_hu: float, seed: int) -> Case:
    """The phantom of one case and its score (cached: several tests read each case)."""
    ct = chest_ct(ChestCTSpec(shape=(slices, 256, 256), noise_hu=noise_hu), seed=seed)
    return Case(ct, score_calcium(ct.volume))
