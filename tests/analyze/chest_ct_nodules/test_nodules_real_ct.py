"""Nodule detection on a real lung-cancer CT (IBSI PAT1, cropped around the tumour).

GTV-1 is a large juxtapleural tumour (about 360 mL) that the lung mask only partly takes
in. The detector must report it as a mass, and its long axis must agree within 15 % with
the largest axial diameter of the GTV-1 outline drawn by the clinicians (the longest
distance between two vertices of one axial contour of the RTSTRUCT).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pydicom
import pytest

from tests.analyze.chest_ct.rtstruct import rasterize_roi
from vesalius.analyze.chest_ct import NoduleResult, detect_nodules, segment_lungs
from vesalius.core import Volume
from vesalius.io.dicom_read import read_dicom

DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "lung_ct_pat1" / "dicom"
RTSTRUCT = DATA / "mask" / "DCM_RS_00060.dcm"
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason=f"real CT not found at {DATA}")


def outline_long_axis_mm(path: Path, roi_name: str) -> float:
    """Largest in-plane distance between two vertices of one axial contour of the ROI."""
    ds = pydicom.dcmread(path)
    number = next(r.ROINumber for r in ds.StructureSetROISequence if r.ROIName == roi_name)
    contours = next(
        rc.ContourSequence for rc in ds.ROIContourSequence if rc.ReferencedROINumber == number
    )
    best = 0.0
    for contour in contours:
        points = np.asarray(contour.ContourData, dtype=np.float64).reshape(-1, 3)[:, :2]
        d = points[:, None, :] - points[None, :, :]
        best = max(best, float(np.sqrt((d**2).sum(axis=-1)).max()))
    return best


@pytest.fixture(scope="module")
def ct() -> Volume:
    return read_dicom(DATA / "image").volume


@pytest.fixture(scope="module")
def result(ct: Volume) -> NoduleResult:
    return detect_nodules(ct, segment_lungs(ct))


@pytest.fixture(scope="module")
def gtv(ct: Volume) -> npt.NDArray[np.bool_]:
    return rasterize_roi(RTSTRUCT, ct, "GTV-1")


def test_the_tumour_is_found_as_a_mass(result: NoduleResult, gtv: npt.NDArray[np.bool_]) -> None:
    """A user would see the patient's tumour missing from the findings."""
    labels = np.asarray(result.label_map.array)
    overlap = np.bincount(labels[gtv], minlength=len(result.nodules) + 1)[1:]
    assert overlap.size
    assert overlap.max() > 0.5 * gtv.sum()
    tumour = result.nodules[int(np.argmax(overlap))]
    assert tumour.is_mass
    assert tumour.kind == "solid"
    assert tumour.side == "right"


def test_the_tumour_long_axis_agrees_with_the_outline(
    result: NoduleResult, gtv: npt.NDArray[np.bool_]
) -> None:
    """A user would see a tumour size that disagrees with the clinicians' outline."""
    labels = np.asarray(result.label_map.array)
    overlap = np.bincount(labels[gtv], minlength=len(result.nodules) + 1)[1:]
    tumour = result.nodules[int(np.argmax(overlap))]
    reference = outline_long_axis_mm(RTSTRUCT, "GTV-1")
    assert 80.0 < reference < 130.0  # the outline is of a large mass
    assert tumour.long_axis_mm == pytest.approx(reference, rel=0.15)
