"""Triage scores: what a radiologist would see wrong if the worklist order were wrong."""

from __future__ import annotations

import random
from datetime import timedelta

from pydicom.dataset import Dataset

from tests.reporting.factory import T0, calcium, lungs, nodule
from vesalius.findings.model import CodedConcept, Finding, Measurement
from vesalius.reporting.triage import (
    clinical_score,
    rank_key,
    read_order_priority,
    read_patient_class,
    score_at,
    triage,
)

UID = "1.2.826.0.1.9.1"


def test_lung_rads_4b_outranks_a_routine_normal_study() -> None:
    """A very suspicious nodule comes first, and the reason says why."""
    suspicious = triage([nodule(UID, "4B")], arrived_at=T0, now=T0)
    normal = triage(lungs(UID), arrived_at=T0, now=T0)
    assert suspicious.score > normal.score
    assert (suspicious.level, normal.level) == ("critical", "routine")
    assert suspicious.reasons == ("Lung-RADS 4B nodule (very suspicious)",)
    assert normal.reasons == ("no finding raises priority",)  # analysed, not overlooked


def test_a_study_not_analysed_yet_is_not_called_unremarkable() -> None:
    """Without findings nothing was looked at: no reason may suggest otherwise."""
    assert triage([], arrived_at=T0, now=T0).reasons == ()
    stat = triage(lungs(UID), order_priority="STAT", arrived_at=T0, now=T0)
    assert stat.reasons == ("order priority STAT", "no finding raises priority")


def test_stat_order_outranks_routine_order() -> None:
    stat = triage([], order_priority="STAT", arrived_at=T0, now=T0)
    routine = triage([], order_priority="ROUTINE", arrived_at=T0, now=T0)
    assert stat.score > routine.score
    assert "order priority STAT" in stat.reasons
    assert routine.reasons == ()


def test_waiting_lifts_an_old_routine_study_above_a_newer_urgent_one() -> None:
    """Aging: the routine study overtakes an ASAP order once it waited more than 30 hours."""
    now = T0 + timedelta(hours=48)
    old = triage([], arrived_at=now - timedelta(hours=31), now=now)
    asap = triage([], order_priority="ASAP", arrived_at=now, now=now)
    assert old.score > asap.score
    assert old.level == "routine"  # the level stays clinical; only the order changes
    assert old.reasons == ("waiting 31 h",)
    younger = triage([], arrived_at=now - timedelta(hours=29), now=now)
    assert younger.score < asap.score


def test_same_kind_counts_once_different_kinds_add_up() -> None:
    two_nodules = clinical_score([nodule(UID, "4A"), nodule(UID, "4B")])
    one_nodule = clinical_score([nodule(UID, "4B")])
    assert two_nodules.points == one_nodule.points
    with_calcium = clinical_score([nodule(UID, "4B"), *calcium(UID, 1500.0)])
    assert with_calcium.points > one_nodule.points
    assert "very high coronary calcium (Agatston 1500)" in with_calcium.reasons


def test_mass_over_30_mm_is_critical() -> None:
    mass = clinical_score([nodule(UID, "2", size_mm=42.0)])
    assert mass.level == "critical"
    assert "mass of 42 mm (over 30 mm)" in mass.reasons


def test_large_pet_burden_is_urgent() -> None:
    mtv = Measurement(CodedConcept.text("Metabolic tumor volume"), 240.0, "mL")
    pet = Finding(
        CodedConcept.text("FDG-avid disease"),
        "pet",
        "1",
        nodule(UID, "1").source,
        measurements=(mtv,),
    )
    score = clinical_score([pet])
    assert score.level == "urgent"
    assert score.reasons == ("large PET tumour burden (MTV 240 mL)",)


def test_stored_rank_orders_like_the_score_at_any_time() -> None:
    """The worklist sorts on the stored rank: it must give the order the scores give."""
    rng = random.Random(5)
    studies = [
        (rng.choice([0.0, 20.0, 60.0, 80.0, 140.0]), T0 + timedelta(minutes=rng.randint(0, 6000)))
        for _ in range(200)
    ]
    now = T0 + timedelta(days=5)
    by_rank = sorted(range(200), key=lambda i: rank_key(*studies[i]))
    scores = [score_at(rank_key(*studies[i]), now) for i in by_rank]
    expected = [
        triage([], arrived_at=studies[i][1], now=now).score + studies[i][0] for i in by_rank
    ]
    assert scores == sorted(scores)
    assert [round(s, 1) for s in scores] == [round(e, 1) for e in expected]


def test_order_priority_from_the_request_attributes() -> None:
    top = Dataset()
    top.RequestedProcedurePriority = "stat"
    item = Dataset()
    item.RequestedProcedurePriority = "HIGH"
    nested = Dataset()
    nested.RequestAttributesSequence = [item]
    retired = Dataset()
    retired.StudyPriorityID = "LOW"
    unknown = Dataset()
    unknown.RequestedProcedurePriority = "WHENEVER"
    assert read_order_priority(top) == "STAT"
    assert read_order_priority(nested) == "ASAP"
    assert read_order_priority(retired) == "ROUTINE"
    assert read_order_priority(unknown) is None


def test_patient_class_from_the_visit_attributes() -> None:
    def visit(location: str | None = None, status: str | None = None) -> Dataset:
        ds = Dataset()
        if location is not None:
            ds.CurrentPatientLocation = location
        if status is not None:
            ds.VisitStatusID = status
        return ds

    assert read_patient_class(visit("ED resus 2")) == "emergency"
    assert read_patient_class(visit("Ward 7B, bed 12")) == "inpatient"
    assert read_patient_class(visit("Chest clinic")) == "outpatient"
    assert read_patient_class(visit(status="ADMITTED")) == "inpatient"
    assert read_patient_class(visit("Radiology")) is None
    assert clinical_score([], patient_class="emergency").reasons == ("emergency patient",)
