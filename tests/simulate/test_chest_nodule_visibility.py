"""Chest CT phantom: a solid nodule drawn inside a vessel is not a nodule of the truth."""

from __future__ import annotations

import numpy as np

from vesalius.simulate import chest_layout as L  # noqa: N812
from vesalius.simulate.chest_ct import ChestCTSpec, chest_ct
from vesalius.simulate.chest_truth import NODULE_BASE


def _placed(seed: int) -> list[L.NoduleSpec]:
    """The nodules a seed places, before the visibility rule (same draws as the layout)."""
    rng = np.random.default_rng(seed)
    return list(L._nodules(rng, L._emphysema(rng)))


def test_a_solid_nodule_engulfed_by_a_vessel_is_left_out() -> None:
    """A user would see a benchmark miss counted for a nodule no reader could see.

    Seed 9 places its 11 mm solid nodule almost entirely inside a 9 mm pulmonary artery of
    the same density: the image shows the vessel, so the layout must not keep it.
    """
    layout = L.chest_layout(np.random.default_rng(9))
    engulfed = [n for n in _placed(9) if L.inside_vessels_fraction(n, layout.vessels) > 0.9]
    assert engulfed
    assert engulfed[0].kind == "solid"
    assert engulfed[0] not in layout.nodules
    assert len(layout.nodules) == len(_placed(9)) - 1
    assert all(L.visible(n, layout.vessels) for n in layout.nodules)


def test_juxtavascular_nodules_stay_in_the_truth() -> None:
    """Nodules touching a vessel from outside are common and reported: they must be kept."""
    layout = L.chest_layout(np.random.default_rng(0))
    touching = [
        n for n in layout.nodules if 0.0 < L.inside_vessels_fraction(n, layout.vessels) < 0.5
    ]
    assert touching, "seed 0 draws a 6 mm nodule against a vessel"
    assert len(layout.nodules) == len(_placed(0))


def test_the_rendered_truth_matches_the_kept_nodules() -> None:
    """The findings label map and the truth list the same nodules, none for the left-out one."""
    ct = chest_ct(ChestCTSpec(shape=(24, 48, 48)), seed=9)
    layout = L.chest_layout(np.random.default_rng(9))
    assert [t.centre_lps_mm for t in ct.truth.nodules] == [n.centre for n in layout.nodules]
    labels = set(np.unique(ct.findings).tolist())
    assert NODULE_BASE + len(layout.nodules) + 1 not in labels


def test_ground_glass_over_a_vessel_is_always_drawn() -> None:
    """Ground glass is far less dense than a vessel: it shows wherever it is drawn."""
    vessel = L.Segment((0.0, 0.0, -50.0), (0.0, 0.0, 50.0), 4.5)
    glass = L.NoduleSpec("ground-glass", "left", (0.0, 0.0, 0.0), (3.0, 3.0, 3.0), 0.0)
    solid = L.NoduleSpec("solid", "left", (0.0, 0.0, 0.0), (3.0, 3.0, 3.0), 6.0)
    assert L.visible(glass, (vessel,))
    assert not L.visible(solid, (vessel,))
