"""A nodule's axial axis end points: carried from the detection to the stored finding.

What a user would see go wrong: the DICOM SR (and so the viewer) with no line on the nodule
because its end points were lost on the way, a line on the coronal reformat's points where
an axial slice is drawn, or findings stored before the end points existed no longer loading.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from tests.findings.test_from_nodules import SOURCE, _mass
from vesalius.analyze.chest_ct import NoduleResult
from vesalius.analyze.chest_ct.nodule_measure import Axes
from vesalius.core import Volume
from vesalius.errors import InputError
from vesalius.findings import codes
from vesalius.findings.from_nodules import nodule_findings
from vesalius.findings.model import AxisEnds, Finding, Location

LONG = ((-70.0, 10.0, 5.0), (-50.0, 12.0, 5.0))
SHORT = ((-60.0, 2.0, 5.0), (-60.0, 20.0, 5.0))


def _finding(axes: AxisEnds | None) -> Finding:
    location = Location(codes.LUNG, "right", (1, 2, 3), (-60.0, 10.0, 5.0), axial_axes=axes)
    return Finding(codes.NODULE, "vesalius.chest-ct.nodules", "0.1.0", SOURCE, location=location)


def test_nodule_findings_carry_the_axial_axes_not_the_reformat_s() -> None:
    """The axial end points reach the finding, even when Lung-RADS measured on a reformat."""
    coronal = Axes("coronal", 42.0, 35.0, ((-60.0, 10.0, -16.0), (-60.0, 10.0, 26.0)), SHORT)
    axial = Axes("axial", 20.1, 18.0, LONG, SHORT)
    mass = replace(_mass(), axes=coronal, axes_axial=axial)
    labels = Volume.from_spacing(np.zeros((2, 4, 4), np.uint16))
    _, finding = nodule_findings(NoduleResult((mass,), labels, 1, 0.0), source=SOURCE)
    assert finding.location is not None
    assert finding.location.axial_axes == AxisEnds(LONG, SHORT)


def test_a_nodule_without_axial_axes_has_none() -> None:
    labels = Volume.from_spacing(np.zeros((2, 4, 4), np.uint16))
    _, finding = nodule_findings(NoduleResult((_mass(),), labels, 1, 0.0), source=SOURCE)
    assert finding.location is not None
    assert finding.location.axial_axes is None


def test_axes_round_trip_through_json_and_older_payloads_still_load() -> None:
    """A stored finding reads back with its end points; one stored without them loads."""
    with_axes = _finding(AxisEnds(LONG, SHORT))
    assert Finding.from_json(with_axes.to_json()) == with_axes
    older = _finding(None).to_json()
    assert "axial_axes" not in older["location"]
    assert Finding.from_json(older).location == _finding(None).location


def test_malformed_axes_are_refused() -> None:
    """End points that are not two 3D points would draw nonsense."""
    with pytest.raises(ValueError, match="long_axis must be a tuple of 2 end points"):
        AxisEnds((LONG[0],), SHORT)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="short_axis end point"):
        AxisEnds(LONG, ((1.0, 2.0), (3.0, 4.0)))  # type: ignore[arg-type]
    data = _finding(AxisEnds(LONG, SHORT)).to_json()
    data["location"]["axial_axes"] = {"long_axis": [[1.0, 2.0, 3.0]]}
    with pytest.raises(InputError, match="AxisEnds JSON is malformed"):
        Finding.from_json(data)
