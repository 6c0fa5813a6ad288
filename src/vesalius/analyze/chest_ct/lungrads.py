"""Lung-RADS v2022 categories of a lung cancer screening CT from its nodules.

:func:`lungrads_category` is a pure function: it takes the nodules a reader (or the nodule
finder) measured and gives the study's Lung-RADS category, the management the ACR states
for it, the nodule that drives it and the reasons in words. It implements the ACR Lung-RADS
v2022 assessment categories for solid, part-solid and non-solid (ground-glass) nodules,
airway (endobronchial) nodules, juxtapleural/perifissural nodules, benign calcification,
category 0 (incomplete), the 4X upgrade and the S modifier. Lung-RADS is meant for
screening CT reconstructed at :data:`MAX_SLICE_MM` (2.5 mm) or thinner; on thicker slices
small nodules may be missed, which reports say (:func:`thick_slice_caveat`).

Conventions of v2022 kept here:

- Sizes are the *mean diameter* (long axis and its perpendicular, averaged) rounded to one
  decimal place; :class:`LungRadsNodule` rounds on construction (half up), so 5.95 mm counts
  as 6.0 mm. Volumes (mm3) may be used instead (``by="volume"``) with the ACR's volume
  cut-offs.
- The study category is the highest nodule category (1 < 2 < 3 < 4A < 4B < 4X); category 1
  when there are no nodules; category 0 overrides when the exam is incomplete.
- Growth is an increase of more than 1.5 mm in mean diameter (:func:`is_growth`, or given
  as a flag); a nodule on a follow-up exam that is neither new nor growing is stable.
  Stepped management: a stable nodule is category 2, or 3 when it was 4A at the previous
  exam. A solid nodule that reached a higher size category without growing is categorised
  by its size. Slow growth over several exams (solid or part-solid) is 4B.

Rules where v2022 is silent, stated as assumptions: a new part-solid nodule under 6 mm in
total is category 3 whatever its solid component; a growing non-solid nodule of 30 mm or
more is category 2 (v2022: "stable or slowly growing"); a growing subsegmental airway
nodule falls back to the rules of its type and size; among nodules of the same category
the largest drives the study. Atypical pulmonary cysts are not covered.

Examples
--------
>>> r = lungrads_category([LungRadsNodule("solid", 9.24), LungRadsNodule("ground-glass", 12.0)])
>>> r.category, r.driving_nodule, r.management.split(";")[0]
('4A', 0, '3-month LDCT')
>>> r.reasons[0]
'nodule 1: solid nodule 9.2 mm (>= 8 to < 15 mm at baseline): 4A'
>>> lungrads_category([]).category
'1'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from vesalius.errors import InputError

NoduleType = Literal["solid", "part-solid", "ground-glass"]
Category = Literal["0", "1", "2", "3", "4A", "4B", "4X"]
Incomplete = Literal["comparison", "not-evaluable", "infectious"]
Airway = Literal["subsegmental", "segmental"]

ORDER: tuple[Category, ...] = ("1", "2", "3", "4A", "4B", "4X")
"""Categories from least to most suspicious (0 stands apart: the exam is incomplete)."""

GROWTH_MM = 1.5
"""v2022 growth: an increase in mean diameter of more than 1.5 mm (within 12 months)."""

MAX_SLICE_MM = 2.5
"""Thickest reconstruction Lung-RADS is meant for (ACR screening CT technical specifications)."""


def thick_slice_caveat(slice_spacing_mm: float | None) -> str | None:
    """What a report says of nodules searched on slices thicker than :data:`MAX_SLICE_MM`.

    >>> thick_slice_caveat(5.0)
    'Slices 5.0 mm apart, thicker than the 2.5 mm Lung-RADS assumes: small nodules may be missed'
    >>> thick_slice_caveat(1.25) is None, thick_slice_caveat(None) is None
    (True, True)
    """
    if slice_spacing_mm is None or slice_spacing_mm <= MAX_SLICE_MM + 0.01:
        return None
    return (
        f"Slices {slice_spacing_mm:.1f} mm apart, thicker than the {MAX_SLICE_MM:.1f} mm "
        "Lung-RADS assumes: small nodules may be missed"
    )


_PET = "PET/CT may be considered if there is a >= 8 mm (>= 268 mm3)"
MANAGEMENT: dict[str, str] = {
    "0-comparison": "Comparison to prior chest CT images",
    "0-not-evaluable": "Additional lung cancer screening CT imaging needed",
    "0-infectious": "1-3 month LDCT",
    "1": "12-month screening LDCT",
    "2": "12-month screening LDCT",
    "3": "6-month LDCT",
    "4A": f"3-month LDCT; {_PET} solid nodule or solid component",
    "4B": (
        f"Diagnostic chest CT with or without contrast; {_PET} solid component; "
        "tissue sampling; and/or referral for further clinical evaluation"
    ),
}
"""Management as ACR Lung-RADS v2022 states it, by category (4X is managed as 4B)."""
MANAGEMENT["4X"] = MANAGEMENT["4B"]


@dataclass(frozen=True)
class _Band:
    """One row of a size table: sizes below ``below_mm`` (or ``below_mm3``) get ``category``."""

    below_mm: float
    below_mm3: float
    category: Category


_INF = math.inf

# ACR Lung-RADS v2022 assessment categories (American College of Radiology, released
# November 2022): mean-diameter cut-offs in mm with the volumes in mm3 the ACR gives beside
# them. Each table is read top down: the first row whose upper bound the size is below wins.
SOLID_BASELINE = (
    _Band(6.0, 113.0, "2"),
    _Band(8.0, 268.0, "3"),
    _Band(15.0, 1767.0, "4A"),
    _Band(_INF, _INF, "4B"),
)
SOLID_NEW = (
    _Band(4.0, 34.0, "2"),
    _Band(6.0, 113.0, "3"),
    _Band(8.0, 268.0, "4A"),
    _Band(_INF, _INF, "4B"),
)
SOLID_GROWING = (_Band(8.0, 268.0, "4A"), _Band(_INF, _INF, "4B"))
PART_SOLID_TOTAL_BASELINE = _Band(6.0, 113.0, "2")  # smaller in total: 2, else by the solid part
PART_SOLID_TOTAL_NEW = _Band(6.0, 113.0, "3")  # a new one smaller in total: 3
PART_SOLID_COMPONENT_BASELINE = (
    _Band(6.0, 113.0, "3"),
    _Band(8.0, 268.0, "4A"),
    _Band(_INF, _INF, "4B"),
)
PART_SOLID_COMPONENT_NEW_OR_GROWING = (_Band(4.0, 34.0, "4A"), _Band(_INF, _INF, "4B"))
GROUND_GLASS_BASELINE_OR_NEW = (_Band(30.0, 14137.0, "2"), _Band(_INF, _INF, "3"))
GROUND_GLASS_GROWING_OR_STABLE = (_Band(_INF, _INF, "2"),)  # v2022: "stable or slowly growing"
PERIFISSURAL = _Band(10.0, 524.0, "2")  # solid juxtapleural/perifissural, baseline or new


def round_mm(value: float) -> float:
    """Round a size to one decimal place, half up, as v2022 reports mean diameters.

    Examples
    --------
    >>> round_mm(5.95), round_mm(7.849), round_mm(8.05)
    (6.0, 7.8, 8.1)
    """
    return float(Decimal(repr(float(value))).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def is_growth(prior_mm: float, current_mm: float) -> bool:
    """Whether a nodule grew by v2022's definition: mean diameter up by more than 1.5 mm.

    Examples
    --------
    >>> is_growth(6.0, 7.5), is_growth(6.0, 7.6)
    (False, True)
    """
    return round_mm(current_mm) - round_mm(prior_mm) > GROWTH_MM + 1e-9


@dataclass(frozen=True)
class LungRadsNodule:
    """One lung nodule as Lung-RADS v2022 sees it.

    Attributes
    ----------
    type
        ``"solid"``, ``"part-solid"`` or ``"ground-glass"`` (non-solid).
    mean_diameter_mm
        Mean of the long axis and its perpendicular short axis, in mm; rounded to 0.1 mm
        on construction.
    solid_component_mm
        Mean diameter of the solid part of a part-solid nodule (required for those);
        rounded to 0.1 mm.
    volume_mm3
        Volume in mm3, used when the category is asked ``by="volume"``.
    solid_component_volume_mm3
        Volume of the solid part of a part-solid nodule, for ``by="volume"``.
    new, growing
        Follow-up exams only: the nodule was not on the prior exam, or grew by more than
        1.5 mm (:func:`is_growth`). Neither on a follow-up exam means stable.
    perifissural
        A solid nodule against a fissure or the costal pleura with smooth margins and an
        oval, lentiform or triangular shape (v2022 juxtapleural/perifissural nodule).
    endobronchial
        An airway nodule: ``"subsegmental"`` or ``"segmental"`` (segmental or more proximal).
    benign_calcification
        Complete, central, popcorn or concentric-ring calcification, or fat: category 1.
    suspicious_features
        Additional features that raise the suspicion of cancer (spiculation, lymph nodes,
        ...): a category 3 or 4 nodule becomes 4X.
    slow_growing
        Follow-up exams only: a solid or part-solid nodule that grew over several screening
        exams without growing by more than 1.5 mm in any 12 months (v2022: 4B).
    prior_category
        For a stable nodule: its category at the previous exam (v2022 stepped management:
        a 4A nodule stable at its 3-month follow-up becomes 3, a 3 stable becomes 2).
    prior_mean_diameter_mm
        Follow-up exams only: the mean diameter at the previous exam. Growth by more than
        1.5 mm makes the nodule growing; a solid nodule that crossed into a higher size
        category without growing is categorised by its size (v2022 size thresholds).
    """

    type: NoduleType
    mean_diameter_mm: float
    solid_component_mm: float | None = None
    volume_mm3: float | None = None
    solid_component_volume_mm3: float | None = None
    new: bool = False
    growing: bool = False
    perifissural: bool = False
    endobronchial: Airway | None = None
    benign_calcification: bool = False
    suspicious_features: bool = False
    slow_growing: bool = False
    prior_category: Literal["2", "3", "4A"] | None = None
    prior_mean_diameter_mm: float | None = None

    def __post_init__(self) -> None:
        if self.type not in ("solid", "part-solid", "ground-glass"):
            raise InputError(
                None, f"nodule type must be solid, part-solid or ground-glass: {self.type!r}"
            )
        _positive("mean diameter", self.mean_diameter_mm)
        object.__setattr__(self, "mean_diameter_mm", round_mm(self.mean_diameter_mm))
        if self.type == "part-solid":
            if self.solid_component_mm is None:
                raise InputError(
                    None, "a part-solid nodule needs the mean diameter of its solid part"
                )
            _positive("solid component", self.solid_component_mm)
            solid = round_mm(self.solid_component_mm)
            if solid > self.mean_diameter_mm:
                raise InputError(
                    None,
                    f"the solid part ({solid} mm) cannot be larger than the nodule "
                    f"({self.mean_diameter_mm} mm)",
                )
            object.__setattr__(self, "solid_component_mm", solid)
        elif self.solid_component_mm is not None:
            raise InputError(None, f"only part-solid nodules have a solid component ({self.type})")
        if self.new and (self.growing or self.slow_growing):
            raise InputError(None, "a nodule cannot be both new and growing")
        if self.prior_mean_diameter_mm is not None:
            if self.new:
                raise InputError(None, "a new nodule has no prior size")
            _positive("prior mean diameter", self.prior_mean_diameter_mm)
            prior = round_mm(self.prior_mean_diameter_mm)
            object.__setattr__(self, "prior_mean_diameter_mm", prior)
            if is_growth(prior, self.mean_diameter_mm):
                object.__setattr__(self, "growing", True)
        if self.slow_growing and self.type == "ground-glass":
            raise InputError(None, "slow growth (4B) applies to solid and part-solid nodules")

    @property
    def stable(self) -> bool:
        """On a follow-up exam: neither new nor growing."""
        return not (self.new or self.growing or self.slow_growing)


@dataclass(frozen=True)
class LungRadsResult:
    """The Lung-RADS v2022 assessment of one screening exam.

    Attributes
    ----------
    category
        ``"0"``, ``"1"``, ``"2"``, ``"3"``, ``"4A"``, ``"4B"`` or ``"4X"``.
    management
        The recommendation as v2022 states it for that category.
    driving_nodule
        Index (in the input) of the nodule that sets the category; ``None`` when none does.
    reasons
        One line per nodule (and per exam-level finding), in words.
    s_modifier
        Whether clinically significant findings other than lung cancer were reported.
    nodule_categories
        The category of each nodule, in input order.
    """

    category: Category
    management: str
    driving_nodule: int | None
    reasons: tuple[str, ...]
    s_modifier: bool = False
    nodule_categories: tuple[Category, ...] = ()

    @property
    def label(self) -> str:
        """The category as reported, with the S modifier (e.g. ``"4AS"``)."""
        return self.category + ("S" if self.s_modifier else "")


def _positive(what: str, value: float | None) -> None:
    if value is None or not math.isfinite(value) or value <= 0:
        raise InputError(None, f"the {what} must be a positive number of mm, found {value}")


def _band(table: Sequence[_Band], size: float, *, volume: bool) -> tuple[Category, str]:
    """The category of the first row the size is below, and the row in words."""
    unit = "mm3" if volume else "mm"
    lower = 0.0
    for row in table:
        upper = row.below_mm3 if volume else row.below_mm
        if size < upper:
            lo = "" if lower == 0 else f">= {lower:g} "
            hi = "" if math.isinf(upper) else f"< {upper:g} {unit}"
            text = f"{lo}to {hi}" if lo and hi else (lo + unit if lo else hi)
            return row.category, text
        lower = upper
    raise AssertionError("size tables end with an infinite row")  # pragma: no cover


def _size(n: LungRadsNodule, *, volume: bool, solid_part: bool = False) -> float:
    if not volume:
        value = n.solid_component_mm if solid_part else n.mean_diameter_mm
        assert value is not None
        return value
    v = n.solid_component_volume_mm3 if solid_part else n.volume_mm3
    what = "solid component volume" if solid_part else "volume"
    if v is None or not math.isfinite(v) or v <= 0:
        raise InputError(None, f"by='volume' needs the nodule's {what} in mm3, found {v}")
    return v


def _fmt(size: float, volume: bool) -> str:
    return f"{size:g} mm3" if volume else f"{size:.1f} mm"


def _when(n: LungRadsNodule, baseline: bool) -> str:
    if baseline:
        return "at baseline"
    return "new" if n.new else "growing" if n.growing else "stable"


def _solid(n: LungRadsNodule, baseline: bool, volume: bool) -> tuple[Category, str]:
    size = _size(n, volume=volume)
    when = _when(n, baseline)
    if n.perifissural and (baseline or n.new) and size < _limit(PERIFISSURAL, volume):
        return "2", f"perifissural/juxtapleural solid nodule {_fmt(size, volume)} {when}"
    table = SOLID_BASELINE if baseline else SOLID_NEW if n.new else SOLID_GROWING
    cat, band = _band(table, size, volume=volume)
    return cat, f"solid nodule {_fmt(size, volume)} ({band} {when})"


def _limit(row: _Band, volume: bool) -> float:
    return row.below_mm3 if volume else row.below_mm


def _part_solid(n: LungRadsNodule, baseline: bool, volume: bool) -> tuple[Category, str]:
    total = _size(n, volume=volume)
    when = _when(n, baseline)
    head = f"part-solid nodule {_fmt(total, volume)}"
    small = PART_SOLID_TOTAL_BASELINE if baseline else PART_SOLID_TOTAL_NEW
    if (baseline or n.new) and total < _limit(small, volume):
        return small.category, f"{head} (total < {_limit(small, volume):g} {_unit(volume)} {when})"
    solid = _size(n, volume=volume, solid_part=True)
    table = PART_SOLID_COMPONENT_BASELINE if baseline else PART_SOLID_COMPONENT_NEW_OR_GROWING
    cat, band = _band(table, solid, volume=volume)
    return cat, f"{head} with solid component {_fmt(solid, volume)} ({band} {when})"


def _unit(volume: bool) -> str:
    return "mm3" if volume else "mm"


def _ground_glass(n: LungRadsNodule, baseline: bool, volume: bool) -> tuple[Category, str]:
    size = _size(n, volume=volume)
    when = _when(n, baseline)
    table = GROUND_GLASS_BASELINE_OR_NEW if baseline or n.new else GROUND_GLASS_GROWING_OR_STABLE
    cat, band = _band(table, size, volume=volume)
    band = band or "any size, stable or slowly growing"
    return cat, f"ground-glass nodule {_fmt(size, volume)} ({band} {when})"


def _airway(n: LungRadsNodule, baseline: bool) -> tuple[Category, str] | None:
    when = _when(n, baseline)
    if n.endobronchial == "subsegmental" and (baseline or not n.growing):
        return "2", f"subsegmental airway nodule {when}"
    if n.endobronchial == "segmental":
        cat: Category = "4A" if baseline or n.new else "4B"
        return cat, f"segmental or more proximal airway nodule {when}"
    return None


def _stable(n: LungRadsNodule) -> tuple[Category, str]:
    if n.prior_category == "4A":
        return "3", f"{n.type} nodule {n.mean_diameter_mm:.1f} mm, 4A before and stable now"
    was = f", {n.prior_category} before" if n.prior_category else ""
    return "2", f"{n.type} nodule {n.mean_diameter_mm:.1f} mm{was}, stable"


def _crossed(n: LungRadsNodule) -> tuple[Category, str] | None:
    """A solid nodule that reached a higher size category without growing: by its size."""
    if n.type != "solid" or n.prior_mean_diameter_mm is None:
        return None
    now, band = _band(SOLID_BASELINE, n.mean_diameter_mm, volume=False)
    before, _ = _band(SOLID_BASELINE, n.prior_mean_diameter_mm, volume=False)
    if ORDER.index(now) <= ORDER.index(before):
        return None
    return now, (
        f"solid nodule {n.mean_diameter_mm:.1f} mm ({band}), up from "
        f"{n.prior_mean_diameter_mm:.1f} mm without growth: categorised by its size"
    )


def nodule_category(
    nodule: LungRadsNodule, *, baseline: bool = True, by: Literal["diameter", "volume"] = "diameter"
) -> tuple[Category, str]:
    """The v2022 category of one nodule and the reason in words.

    Examples
    --------
    >>> nodule_category(LungRadsNodule("solid", 5.9))
    ('2', 'solid nodule 5.9 mm (< 6 mm at baseline)')
    >>> nodule_category(LungRadsNodule("solid", 6.5, new=True), baseline=False)[0]
    '4A'
    """
    if by not in ("diameter", "volume"):
        raise InputError(None, f"by must be 'diameter' or 'volume', found {by!r}")
    if baseline and not nodule.stable:
        raise InputError(None, "a baseline exam has no new or growing nodules (baseline=False?)")
    if baseline and (nodule.prior_category, nodule.prior_mean_diameter_mm) != (None, None):
        raise InputError(None, "a baseline exam has no prior exam (baseline=False?)")
    if nodule.benign_calcification:
        return "1", f"{nodule.type} nodule with a benign calcification pattern or fat"
    airway = _airway(nodule, baseline) if nodule.endobronchial else None
    if airway is not None:
        cat, why = airway
    elif nodule.slow_growing:
        cat, why = "4B", f"{nodule.type} nodule growing slowly over several screening exams"
    elif not baseline and nodule.stable and nodule.type != "ground-glass":
        cat, why = _crossed(nodule) or _stable(nodule)
    else:
        rule = {"solid": _solid, "part-solid": _part_solid, "ground-glass": _ground_glass}
        cat, why = rule[nodule.type](nodule, baseline, by == "volume")
    if nodule.suspicious_features and cat in ("3", "4A", "4B"):
        return "4X", f"{why}: {cat} with additional suspicious features"
    return cat, why


def lungrads_category(
    nodules: Sequence[LungRadsNodule],
    *,
    baseline: bool = True,
    other_findings: Sequence[str] = (),
    incomplete: Incomplete | None = None,
    by: Literal["diameter", "volume"] = "diameter",
) -> LungRadsResult:
    """The Lung-RADS v2022 category of a screening exam: the highest nodule category.

    Parameters
    ----------
    nodules
        The exam's nodules (empty: category 1).
    baseline
        Whether this is the first screening exam; on a follow-up exam each nodule is new,
        growing or (neither) stable.
    other_findings
        Clinically significant or potentially significant findings other than lung cancer
        (e.g. "coronary artery calcification, severe"): they add the S modifier.
    incomplete
        Category 0: ``"comparison"`` (prior CT being located), ``"not-evaluable"`` (part or
        all of the lungs cannot be evaluated) or ``"infectious"`` (findings suggesting an
        inflammatory or infectious process).
    by
        ``"diameter"`` (mean diameter, the default) or ``"volume"`` (the ACR's volume
        cut-offs; needs ``volume_mm3`` on every nodule).

    Examples
    --------
    >>> r = lungrads_category(
    ...     [LungRadsNodule("part-solid", 10.0, solid_component_mm=6.0)],
    ...     other_findings=["emphysema, severe"],
    ... )
    >>> r.label
    '4AS'
    >>> print(r.reasons[0])
    nodule 1: part-solid nodule 10.0 mm with solid component 6.0 mm (>= 6 to < 8 mm at baseline): 4A
    """
    graded = [nodule_category(n, baseline=baseline, by=by) for n in nodules]
    reasons = [f"nodule {i + 1}: {why}: {cat}" for i, (cat, why) in enumerate(graded)]
    reasons += [f"significant finding: {f}" for f in other_findings]
    cats = tuple(cat for cat, _ in graded)
    s_mod = len(other_findings) > 0
    if incomplete is not None:
        key = f"0-{incomplete}"
        if key not in MANAGEMENT:
            raise InputError(
                None, f"incomplete must be comparison, not-evaluable or infectious: {incomplete!r}"
            )
        reasons.insert(0, f"incomplete exam ({incomplete}): 0")
        return LungRadsResult("0", MANAGEMENT[key], None, tuple(reasons), s_mod, cats)
    if not graded:
        return LungRadsResult("1", MANAGEMENT["1"], None, ("no lung nodules: 1", *reasons), s_mod)
    rank = [ORDER.index(c) for c in cats]
    top = max(range(len(cats)), key=lambda i: (rank[i], nodules[i].mean_diameter_mm, -i))
    return LungRadsResult(cats[top], MANAGEMENT[cats[top]], top, tuple(reasons), s_mod, cats)
