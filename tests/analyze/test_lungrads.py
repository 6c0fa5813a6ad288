"""Lung-RADS v2022 categories: every size boundary of the ACR tables, and the study rules.

A user would see a screening exam put in the wrong category, so the wrong follow-up
interval: each boundary is tested on both sides (e.g. solid 5.9 mm is 2, 6.0 mm is 3).
"""

from __future__ import annotations

from typing import Literal

import pytest

from vesalius.analyze.chest_ct.lungrads import (
    LungRadsNodule,
    is_growth,
    lungrads_category,
    nodule_category,
    round_mm,
)
from vesalius.errors import InputError


def _cat(
    nodule: LungRadsNodule, *, baseline: bool = True, by: Literal["diameter", "volume"] = "diameter"
) -> str:
    return lungrads_category([nodule], baseline=baseline, by=by).category


@pytest.mark.parametrize(
    ("mm", "expected"),
    [
        (5.9, "2"),
        (5.94, "2"),
        (5.95, "3"),
        (6.0, "3"),
        (7.9, "3"),
        (8.0, "4A"),
        (14.9, "4A"),
        (15.0, "4B"),
        (40.0, "4B"),
    ],
)
def test_solid_baseline_boundaries(mm: float, expected: str) -> None:
    assert _cat(LungRadsNodule("solid", mm)) == expected


@pytest.mark.parametrize(
    ("mm", "expected"),
    [(3.9, "2"), (4.0, "3"), (5.9, "3"), (6.0, "4A"), (7.9, "4A"), (8.0, "4B")],
)
def test_new_solid_boundaries(mm: float, expected: str) -> None:
    assert _cat(LungRadsNodule("solid", mm, new=True), baseline=False) == expected


@pytest.mark.parametrize(("mm", "expected"), [(3.0, "4A"), (7.9, "4A"), (8.0, "4B")])
def test_growing_solid_boundaries(mm: float, expected: str) -> None:
    assert _cat(LungRadsNodule("solid", mm, growing=True), baseline=False) == expected


@pytest.mark.parametrize(
    ("total", "solid", "expected"),
    [
        (5.9, 5.0, "2"),  # < 6 mm in total: 2 whatever the solid part
        (6.0, 2.0, "3"),
        (12.0, 5.9, "3"),
        (12.0, 6.0, "4A"),
        (12.0, 7.9, "4A"),
        (12.0, 8.0, "4B"),
    ],
)
def test_part_solid_baseline_boundaries(total: float, solid: float, expected: str) -> None:
    assert _cat(LungRadsNodule("part-solid", total, solid_component_mm=solid)) == expected


@pytest.mark.parametrize(
    ("total", "solid", "growing", "expected"),
    [
        (5.9, 3.0, False, "3"),  # new and < 6 mm in total
        (6.0, 3.9, False, "4A"),
        (6.0, 4.0, False, "4B"),
        (9.0, 3.9, True, "4A"),
        (9.0, 4.0, True, "4B"),
    ],
)
def test_part_solid_new_or_growing_boundaries(
    total: float, solid: float, growing: bool, expected: str
) -> None:
    n = LungRadsNodule(
        "part-solid", total, solid_component_mm=solid, new=not growing, growing=growing
    )
    assert _cat(n, baseline=False) == expected


@pytest.mark.parametrize(
    ("mm", "new", "expected"), [(29.9, False, "2"), (30.0, False, "3"), (30.0, True, "3")]
)
def test_ground_glass_boundary_at_30_mm(mm: float, new: bool, expected: str) -> None:
    assert _cat(LungRadsNodule("ground-glass", mm, new=new), baseline=not new) == expected


def test_ground_glass_stable_or_growing_on_follow_up_is_2() -> None:
    for growing in (False, True):
        n = LungRadsNodule("ground-glass", 35.0, growing=growing)
        assert _cat(n, baseline=False) == "2"


@pytest.mark.parametrize(
    ("volume", "expected"),
    [(112.9, "2"), (113.0, "3"), (267.9, "3"), (268.0, "4A"), (1766.0, "4A"), (1767.0, "4B")],
)
def test_solid_baseline_by_volume(volume: float, expected: str) -> None:
    # the diameter (20 mm, 4B) is ignored when the category is asked by volume
    n = LungRadsNodule("solid", 20.0, volume_mm3=volume)
    assert _cat(n, by="volume") == expected


def test_by_volume_needs_volumes() -> None:
    with pytest.raises(InputError, match="volume"):
        lungrads_category([LungRadsNodule("solid", 7.0)], by="volume")
    part = LungRadsNodule("part-solid", 9.0, solid_component_mm=4.0, volume_mm3=400.0)
    with pytest.raises(InputError, match="solid component volume"):
        lungrads_category([part], by="volume")


def test_part_solid_by_volume_uses_the_solid_part_volume() -> None:
    n = LungRadsNodule(
        "part-solid", 9.0, solid_component_mm=4.0, volume_mm3=400.0, solid_component_volume_mm3=200
    )
    assert _cat(n, by="volume") == "4A"
    assert _cat(n) == "3"


@pytest.mark.parametrize(
    ("mm", "new", "expected"),
    [(9.9, False, "2"), (10.0, False, "4A"), (9.9, True, "2"), (10.0, True, "4B")],
)
def test_perifissural_solid_nodule_under_10_mm_is_2(mm: float, new: bool, expected: str) -> None:
    n = LungRadsNodule("solid", mm, perifissural=True, new=new)
    assert _cat(n, baseline=not new) == expected


def test_a_growing_perifissural_nodule_gets_the_growing_solid_rule() -> None:
    n = LungRadsNodule("solid", 7.0, perifissural=True, growing=True)
    assert _cat(n, baseline=False) == "4A"


def test_airway_nodules() -> None:
    seg = LungRadsNodule("solid", 5.0, endobronchial="segmental")
    assert _cat(seg) == "4A"
    assert _cat(LungRadsNodule("solid", 5.0, endobronchial="segmental"), baseline=False) == "4B"
    assert _cat(LungRadsNodule("solid", 9.0, endobronchial="subsegmental")) == "2"
    growing = LungRadsNodule("solid", 9.0, endobronchial="subsegmental", growing=True)
    assert _cat(growing, baseline=False) == "4B"  # falls back to growing solid >= 8 mm


def test_stable_nodules_step_down() -> None:
    assert _cat(LungRadsNodule("solid", 7.0, prior_category="3"), baseline=False) == "2"
    assert _cat(LungRadsNodule("solid", 9.0, prior_category="4A"), baseline=False) == "3"
    assert _cat(LungRadsNodule("solid", 9.0), baseline=False) == "2"


def test_prior_size_gives_growth_or_a_crossed_size_threshold() -> None:
    grew = LungRadsNodule("solid", 7.6, prior_mean_diameter_mm=6.0)
    assert grew.growing
    assert _cat(grew, baseline=False) == "4A"  # growing < 8 mm
    crossed = LungRadsNodule("solid", 8.1, prior_mean_diameter_mm=7.0)  # +1.1 mm: not growth
    assert not crossed.growing
    assert _cat(crossed, baseline=False) == "4A"  # reached >= 8 mm: by size
    same = LungRadsNodule("solid", 7.2, prior_mean_diameter_mm=7.0, prior_category="3")
    assert _cat(same, baseline=False) == "2"  # stable in its size category
    with pytest.raises(InputError, match="prior"):
        lungrads_category([same])
    with pytest.raises(InputError, match="new nodule has no prior"):
        LungRadsNodule("solid", 7.2, prior_mean_diameter_mm=7.0, new=True)


def test_slow_growth_over_several_exams_is_4b() -> None:
    n = LungRadsNodule("solid", 5.0, slow_growing=True)
    assert _cat(n, baseline=False) == "4B"
    with pytest.raises(InputError, match="baseline"):
        lungrads_category([n])


def test_benign_calcification_is_1_and_suspicious_features_give_4x() -> None:
    assert _cat(LungRadsNodule("solid", 12.0, benign_calcification=True)) == "1"
    r = lungrads_category([LungRadsNodule("solid", 7.0, suspicious_features=True)])
    assert r.category == "4X"
    assert r.management.startswith("Diagnostic chest CT with or without contrast")
    # a category 2 nodule is not made 4X by a flag: v2022 upgrades categories 3 and 4 only
    assert _cat(LungRadsNodule("solid", 4.0, suspicious_features=True)) == "2"


def test_study_category_is_the_highest_and_names_the_driving_nodule() -> None:
    nodules = [
        LungRadsNodule("solid", 4.0),
        LungRadsNodule("part-solid", 10.0, solid_component_mm=7.0),
        LungRadsNodule("ground-glass", 31.0),
        LungRadsNodule("solid", 9.2),
    ]
    r = lungrads_category(nodules)
    assert r.category == "4A"
    assert r.driving_nodule == 1  # 4A ties: the larger nodule drives
    assert r.nodule_categories == ("2", "4A", "3", "4A")
    assert "nodule 4: solid nodule 9.2 mm (>= 8 to < 15 mm at baseline): 4A" in r.reasons
    assert r.management == (
        "3-month LDCT; PET/CT may be considered if there is a >= 8 mm (>= 268 mm3) "
        "solid nodule or solid component"
    )


def test_no_nodules_is_1_with_annual_screening() -> None:
    r = lungrads_category([])
    assert (r.category, r.management, r.driving_nodule) == ("1", "12-month screening LDCT", None)


@pytest.mark.parametrize(
    ("category", "management"),
    [("2", "12-month screening LDCT"), ("3", "6-month LDCT")],
)
def test_management_of_2_and_3(category: str, management: str) -> None:
    mm = 5.0 if category == "2" else 7.0
    r = lungrads_category([LungRadsNodule("solid", mm)])
    assert (r.category, r.management) == (category, management)


def test_incomplete_exam_is_0_and_other_findings_add_s() -> None:
    r = lungrads_category([LungRadsNodule("solid", 20.0)], incomplete="infectious")
    assert (r.category, r.management) == ("0", "1-3 month LDCT")
    r = lungrads_category([], incomplete="comparison")
    assert r.management == "Comparison to prior chest CT images"
    r = lungrads_category([LungRadsNodule("solid", 7.0)], other_findings=["aortic aneurysm 5 cm"])
    assert (r.label, r.s_modifier) == ("3S", True)
    assert "significant finding: aortic aneurysm 5 cm" in r.reasons


def test_sizes_are_rounded_to_a_tenth_half_up() -> None:
    assert LungRadsNodule("solid", 7.96).mean_diameter_mm == 8.0
    assert round_mm(2.25) == 2.3
    assert is_growth(6.0, 7.6)
    assert not is_growth(6.0, 7.5)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"type": "solid", "mean_diameter_mm": 0.0}, "positive"),
        ({"type": "solid", "mean_diameter_mm": float("nan")}, "positive"),
        ({"type": "cavitary", "mean_diameter_mm": 5.0}, "type"),
        ({"type": "part-solid", "mean_diameter_mm": 8.0}, "solid part"),
        ({"type": "part-solid", "mean_diameter_mm": 8.0, "solid_component_mm": 9.0}, "larger"),
        ({"type": "solid", "mean_diameter_mm": 8.0, "solid_component_mm": 3.0}, "only part"),
        ({"type": "solid", "mean_diameter_mm": 8.0, "new": True, "growing": True}, "both"),
        ({"type": "ground-glass", "mean_diameter_mm": 8.0, "slow_growing": True}, "slow"),
    ],
)
def test_bad_nodules_are_refused_in_words(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(InputError, match=match):
        LungRadsNodule(**kwargs)  # type: ignore[arg-type]


def test_new_or_growing_nodules_need_a_follow_up_exam() -> None:
    with pytest.raises(InputError, match="baseline"):
        nodule_category(LungRadsNodule("solid", 5.0, new=True))
    with pytest.raises(InputError, match="baseline"):
        nodule_category(LungRadsNodule("solid", 5.0, prior_category="3"))
