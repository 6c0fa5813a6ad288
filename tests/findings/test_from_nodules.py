"""Nodule detection results to findings: codes, measurements, Lung-RADS, JSON round trip."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from vesalius.analyze.chest_ct import Nodule, NoduleResult, detect_nodules, segment_lungs
from vesalius.analyze.chest_ct.lungrads import LungRadsNodule, lungrads_category
from vesalius.analyze.chest_ct.nodule_measure import Axes
from vesalius.core import SeriesRef, Volume
from vesalius.findings import codes
from vesalius.findings.from_nodules import (
    TYPE_SYSTEM,
    lungrads_nodule,
    nodule_findings,
    slice_limitation,
)
from vesalius.findings.model import Finding
from vesalius.simulate.chest_ct import ChestCT, ChestCTSpec, chest_ct

SOURCE = SeriesRef("1.2.3", "1.2.3.4", ("1.2.3.4.1",))


@pytest.fixture(scope="module")
def case() -> tuple[ChestCT, NoduleResult]:
    ct = chest_ct(ChestCTSpec(shape=(100, 192, 192), noise_hu=12.0), seed=10)
    return ct, detect_nodules(ct.volume, segment_lungs(ct.volume))


def _truth_category(ct: ChestCT) -> str:
    nodules = [
        LungRadsNodule(
            t.kind,  # type: ignore[arg-type]
            t.diameter_mm,
            solid_component_mm=t.solid_core_diameter_mm if t.kind == "part-solid" else None,
        )
        for t in ct.truth.nodules
    ]
    return lungrads_category(nodules).category


def test_study_finding_carries_the_lung_rads_category_of_the_truth(
    case: tuple[ChestCT, NoduleResult],
) -> None:
    """A user would see a Lung-RADS category other than the phantom's nodules call for."""
    ct, result = case
    study, *nodules = nodule_findings(result, source=SOURCE)
    category = study.category("Lung-RADS")
    assert category is not None
    assert category.value == _truth_category(ct)
    assert study.finding_type == codes.NODULE
    assert len(nodules) == len(result.nodules)


def test_each_nodule_finding_has_its_measurements_type_and_place(
    case: tuple[ChestCT, NoduleResult],
) -> None:
    """A user would see a nodule's size, type or lung differ from the detector's result."""
    _, result = case
    _, *findings = nodule_findings(result, source=SOURCE)
    for finding, nodule in zip(findings, result.nodules, strict=True):
        assert finding.finding_type == codes.NODULE
        assert finding.measurement(codes.LONG_AXIS).value == nodule.long_axis_mm
        assert finding.measurement(codes.SHORT_AXIS).value == nodule.short_axis_mm
        assert finding.measurement(codes.DIAMETER).value == nodule.mean_diameter_mm
        assert finding.measurement(codes.VOLUME).unit == "mm3"
        assert finding.measurement(codes.MEAN_ATTENUATION).unit == "[hnsf'U]"
        assert finding.category(TYPE_SYSTEM).value == nodule.kind  # type: ignore[union-attr]
        assert finding.location is not None
        assert finding.location.laterality == nodule.side
        assert finding.location.point_lps_mm == pytest.approx(nodule.centre_lps_mm)
        assert finding.confidence == pytest.approx(nodule.probability)
        assert nodule.zone in finding.description
        assert Finding.from_json(finding.to_json()) == finding


def _mass() -> Nodule:
    return Nodule(
        id=1,
        kind="solid",
        long_axis_mm=42.0,
        short_axis_mm=35.0,
        mean_diameter_mm=38.5,
        solid_component_long_axis_mm=42.0,
        solid_component_mean_diameter_mm=38.5,
        volume_mm3=27000.0,
        mean_hu=35.0,
        centre_kji=(1.0, 2.0, 3.0),
        centre_lps_mm=(-60.0, 10.0, 5.0),
        side="right",
        zone="middle",
        is_mass=True,
        probability=1.0,
        method="outline",
    )


def test_a_mass_is_reported_as_a_mass_and_graded_4b() -> None:
    """A tumour over 30 mm must not be filed as a nodule, and it is Lung-RADS 4B."""
    labels = Volume.from_spacing(np.zeros((2, 4, 4), np.uint16))
    result = NoduleResult((_mass(),), labels, candidates=1, seconds=0.0)
    study, mass = nodule_findings(result, source=SOURCE)
    assert mass.finding_type == codes.MASS
    assert study.category("Lung-RADS").value == "4B"  # type: ignore[union-attr]
    assert "1 mass" in study.description


def test_no_nodules_is_lung_rads_1() -> None:
    """A clean scan gets category 1 and no nodule findings."""
    labels = Volume.from_spacing(np.zeros((2, 4, 4), np.uint16))
    (study,) = nodule_findings(NoduleResult((), labels, 0, 0.0), source=SOURCE)
    assert study.category("Lung-RADS").value == "1"  # type: ignore[union-attr]


def test_part_solid_nodule_gives_lung_rads_its_solid_part() -> None:
    """Lung-RADS grades a part-solid nodule by its solid component's mean diameter."""
    nodule = Nodule(
        **{
            **_mass().__dict__,
            "kind": "part-solid",
            "long_axis_mm": 14.0,
            "short_axis_mm": 12.0,
            "mean_diameter_mm": 13.0,
            "solid_component_long_axis_mm": 7.0,
            "solid_component_mean_diameter_mm": 6.5,
            "is_mass": False,
        }
    )
    graded = lungrads_nodule(nodule)
    assert graded.type == "part-solid"
    assert graded.solid_component_mm == 6.5
    assert lungrads_category([graded]).category == "4A"


def test_axes_name_the_lungrads_plane_they_were_measured_on() -> None:
    """A reader must see that a tall mass was measured on a coronal reformat, not axially."""
    ends = ((-60.0, 10.0, -16.0), (-60.0, 10.0, 26.0))
    across = ((-77.5, 10.0, 5.0), (-42.5, 10.0, 5.0))
    mass = replace(_mass(), axes=Axes("coronal", 42.0, 35.0, ends, across))
    labels = Volume.from_spacing(np.zeros((2, 4, 4), np.uint16))
    _, finding = nodule_findings(NoduleResult((mass,), labels, 1, 0.0), source=SOURCE)
    assert "(coronal)" in finding.description
    assert finding.measurement(codes.LONG_AXIS).method.endswith("coronal plane")  # type: ignore[union-attr]
    assert finding.measurement(codes.DIAMETER).value == 38.5  # type: ignore[union-attr]


def test_thick_slices_are_stated_as_a_limitation(case: tuple[ChestCT, NoduleResult]) -> None:
    """A screening report on slices thicker than Lung-RADS assumes (2.5 mm) that does not say
    small nodules may be missed (on the test phantoms every nodule of 6 mm or more is found
    on 3 mm slices but about 92 % on 5 and 6.25 mm slices), or one on thin slices that does."""
    _, result = case
    assert result.slice_spacing_mm == pytest.approx(3.0)  # the phantom's slice spacing
    (limitation,) = slice_limitation(result, source=SOURCE)
    assert limitation.finding_type == codes.TECHNIQUE_LIMITATION
    assert limitation.description.startswith("Slices 3.0 mm apart")
    assert "small nodules may be missed" in limitation.description
    for thin_mm in (2.5, 1.25, 0.625):
        thin = replace(result, slice_spacing_mm=thin_mm)
        assert slice_limitation(thin, source=SOURCE) == (), thin_mm
