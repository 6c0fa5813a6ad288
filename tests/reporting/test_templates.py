"""Report templates: the sentences a radiologist reads, their links and AI marks."""

from __future__ import annotations

import pytest

from tests.reporting.factory import calcium, lungs, nodule, source
from vesalius.analyze.chest_ct.lungrads import MANAGEMENT
from vesalius.findings import codes
from vesalius.findings.model import Finding
from vesalius.reporting.templates import (
    TEMPLATES,
    SeriesBrief,
    StoredFinding,
    choose_template,
)
from vesalius.reporting.templates.calcium import TREATMENT

UID = "1.2.826.0.1.9.2"
CT = [SeriesBrief(f"{UID}.1", "CT", "Chest 1.0 B35f")]


def stored(findings: list[Finding], first_id: int = 10) -> list[StoredFinding]:
    return [StoredFinding(first_id + i, f) for i, f in enumerate(findings)]


def test_screening_report_states_category_and_management_linked_to_the_nodule() -> None:
    found = stored([nodule(UID, "3", size_mm=7.0), nodule(UID, "4B", size_mm=16.0), *lungs(UID)])
    template = choose_template(found, CT)
    assert template.name == "lung-screening"
    draft = template.render(found)
    impression, recommendation = draft.impression[0], draft.recommendation[0]
    assert impression.text == "Lung-RADS 4B: very suspicious."
    assert recommendation.text == MANAGEMENT["4B"] + "."
    assert impression.finding_id == recommendation.finding_id == 11  # the 4B nodule
    nodules = draft.sections[0].sentences
    assert [s.finding_id for s in nodules] == [11, 10]  # most suspicious first
    assert nodules[0].text.endswith("(Lung-RADS 4B).")
    assert all(s.ai and s.algorithm == "vesalius.chest-ct.nodules 0.3.0" for s in nodules)
    text = draft.text()
    assert "[AI: vesalius.chest-ct.nodules 0.3.0]" in text
    assert text.index("IMPRESSION:") < text.index("RECOMMENDATION:")


def test_a_technique_limitation_is_its_own_last_section_in_every_template() -> None:
    """A thick-slice caveat lost among other findings, or not linked to what stated it."""
    limitation = Finding(
        codes.TECHNIQUE_LIMITATION,
        "vesalius.chest-ct.nodules",
        "0.3.0",
        source(UID),
        description="Slices 5.0 mm apart, thicker than the 2.5 mm Lung-RADS assumes",
    )
    found = stored([nodule(UID, "3"), *lungs(UID), *calcium(UID, 45.0, label="A1/N1"), limitation])
    for name in ("lung-screening", "chest-ct", "calcium-scoring", "general"):
        draft = TEMPLATES[name].render(found)
        last = draft.sections[-1]
        assert last.title == "Limitations", name
        assert [s.finding_id for s in last.sentences] == [found[-1].id]
        assert last.sentences[0].text == limitation.description + "."
        others = [s for section in draft.sections[:-1] for s in section.sentences]
        assert found[-1].id not in [s.finding_id for s in others], name


def test_screening_without_nodules_is_negative() -> None:
    draft = TEMPLATES["lung-screening"].render(stored(lungs(UID)))
    assert draft.impression[0].text.endswith("Lung-RADS 1, negative.")
    assert draft.recommendation[0].text == MANAGEMENT["1"] + "."
    assert not draft.impression[0].ai  # stated by the template, not by a finding


@pytest.mark.parametrize(
    ("agatston", "label", "grade"),
    [(0.0, "A0", 0), (45.0, "A1/N1", 1), (150.0, "A2/N2", 2), (800.0, "A3/N3", 3)],
)
def test_calcium_report_gives_cac_drs_and_the_guideline_statement(
    agatston: float, label: str, grade: int
) -> None:
    found = stored(calcium(UID, agatston, label=label))
    template = choose_template(found, CT)
    assert template.name == "calcium-scoring"
    draft = template.render(found)
    assert draft.impression[0].text.startswith(f"CAC-DRS {label}: Agatston score {agatston:.0f}.")
    assert draft.recommendation[0].text == f"CAC-DRS {label}: {TREATMENT[grade]}"
    assert draft.recommendation[0].finding_id == 10
    lesion = draft.sections[0].sentences[1]
    assert lesion.text == f"LAD territory: calcified plaque, Agatston {agatston:.0f}."
    assert lesion.finding_id == 11


def test_chest_ct_reports_lungs_emphysema_and_incidental_calcium() -> None:
    found = stored([*lungs(UID, laa=9.0), *calcium(UID, 420.0)])
    template = choose_template(found, CT)
    assert template.name == "chest-ct"
    draft = template.render(found)
    assert [s.title for s in draft.sections] == ["Lungs", "Heart and coronary arteries"]
    assert draft.impression[0].text == "Left lung: emphysema (%LAA-950 9.0%)."
    assert draft.impression[-1].text.startswith("CAC-DRS A3/N2")
    assert {s.finding_id for s in draft.sentences()} == {10, 11, 12, 13}


@pytest.mark.parametrize(
    ("modalities", "description", "expected"),
    [
        (("CT",), "LDCT LUNG SCREENING", "lung-screening"),
        (("PT", "CT"), "PET/CT WHOLE BODY", "pet-ct"),
        (("MR",), "MR BRAIN", "brain-mr-volumetry"),
        (("CT",), "CT CARDIAC CALCIUM SCORE", "calcium-scoring"),
        (("CT",), "CT CHEST", "chest-ct"),
        (("US",), "US ABDOMEN", "general"),
    ],
)
def test_template_follows_the_study_type(
    modalities: tuple[str, ...], description: str, expected: str
) -> None:
    series = [SeriesBrief(f"{UID}.{i}", m) for i, m in enumerate(modalities)]
    chosen = choose_template([], series, study_description=description)
    assert chosen.name == expected
    assert chosen.render([]).impression  # an empty study still gets a sensible impression
