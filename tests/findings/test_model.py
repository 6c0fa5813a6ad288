"""The finding types: validation on construction, JSON round trip, real codes."""

from __future__ import annotations

import json

import pytest
from pydicom.sr.codedict import codes as pydicom_codes
from pydicom.sr.coding import Code

from vesalius.core import SeriesRef
from vesalius.errors import InputError
from vesalius.findings import Category, CodedConcept, Finding, Location, Measurement, codes

SOURCE = SeriesRef("1.2.3", "1.2.3.4", ("1.2.3.4.1", "1.2.3.4.2"), "1.2.840.10008.5.1.4.1.1.2")


def _finding() -> Finding:
    return Finding(
        finding_type=codes.CALCIFIED_PLAQUE,
        algorithm_name="vesalius.cardiac-ct.calcium",
        algorithm_version="0.1.0",
        source=SOURCE,
        measurements=(
            Measurement(codes.CALCIUM_SCORE, 123.5, "1", method="Agatston"),
            Measurement(codes.LAA_PERCENT, 4.25, "%"),
        ),
        categories=(Category("CAC-DRS", "A2/N1", "moderate"),),
        location=Location(codes.LAD, voxel_kji=(3, 40, 50), point_lps_mm=(1.5, -2.0, 30.0)),
        confidence=0.8,
        description="a lesion",
    )


def test_json_round_trip_gives_an_equal_finding() -> None:
    """A finding saved and read back would otherwise lose or change a value."""
    finding = _finding()
    text = json.dumps(finding.to_json(), allow_nan=False)
    assert Finding.from_json(json.loads(text)) == finding


def test_every_code_is_pydicoms_real_code() -> None:
    """An invented or mistyped code would break SR export and PACS-side queries."""
    known = {
        (c.value, c.scheme_designator)
        for scheme in ("SCT", "DCM")
        for name in dir(getattr(pydicom_codes, scheme))
        if isinstance(c := getattr(getattr(pydicom_codes, scheme), name), Code)
    }
    for concept in codes.CODED:
        assert (concept.value, concept.scheme) in known, concept


def test_text_only_concept_has_no_code() -> None:
    """A concept without a code must not pretend to have one."""
    assert not codes.CORONARY_CALCIFICATION.coded
    assert codes.CORONARY_CALCIFICATION.to_json()["value"] is None


@pytest.mark.parametrize(
    ("build", "problem"),
    [
        (lambda: CodedConcept("123", "FOO", "x"), "scheme must be one of"),
        (lambda: CodedConcept("123", None, "x"), "go together"),
        (lambda: CodedConcept("1", "SCT", " "), "meaning must be non-empty"),
        (lambda: Measurement(codes.VOLUME, float("nan"), "mL"), "finite"),
        (lambda: Measurement(codes.VOLUME, 1.0, "litre"), "UCUM"),
        (lambda: Location(codes.LUNG, laterality="both"), "laterality"),
        (lambda: Location(codes.LUNG, voxel_kji=(1, 2)), "voxel_kji"),  # type: ignore[arg-type]
        (lambda: Finding(codes.LUNG, "", "0.1", SOURCE), "algorithm name"),
        (lambda: Finding(codes.LUNG, "alg", "0.1", SOURCE, confidence=1.5), "confidence"),
        (lambda: Finding(codes.LUNG, "alg", "0.1", None), "SeriesRef"),  # type: ignore[arg-type]
    ],
)
def test_invalid_parts_are_refused_when_built(build: object, problem: str) -> None:
    """An invalid finding would otherwise reach a report or the PACS unnoticed."""
    with pytest.raises(ValueError, match=problem):
        build()  # type: ignore[operator]


def test_malformed_json_is_an_input_error_naming_the_problem() -> None:
    """A damaged findings.json would otherwise raise a KeyError traceback."""
    data = _finding().to_json()
    del data["algorithm"]
    with pytest.raises(InputError, match="lacks 'algorithm'"):
        Finding.from_json(data)
    data = _finding().to_json()
    data["measurements"][0]["unit"] = "parsec"
    with pytest.raises(InputError, match="unit"):
        Finding.from_json(data)


def test_lookup_helpers() -> None:
    """Reports look measurements up by concept and categories by system."""
    finding = _finding()
    assert finding.measurement(codes.CALCIUM_SCORE).value == 123.5
    assert finding.category("CAC-DRS") is not None
    assert finding.category("Lung-RADS v2022") is None
    with pytest.raises(KeyError):
        finding.measurement(codes.VOLUME)
