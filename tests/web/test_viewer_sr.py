"""In a real headless Chromium: our DICOM SR (TID 1500) opens in OHIF with the nodules drawn.

The server is the service's application over a store holding one analysed chest CT
(:mod:`tests.web.scenario`: its SEGs and its SR are stored next to the CT, where DICOMweb
and so OHIF find them). What a user would see go wrong: no SR series in the study browser,
an SR that OHIF fails to load (it reads every measurement group's coordinates and gives up
on the whole report at the first group without any), a nodule's measurement that OHIF
cannot place on the CT slice through the nodule, a nodule with one axis drawn instead of
both, or no nodule measurement on the image.
Skipped like the other browser tests when Chromium or the OHIF dist is missing (failed
under ``CI=true``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pydicom
import pytest
from playwright.sync_api import Page

from tests.web.browser import CHROMIUM, needed, series_thumbnails, sign_in
from tests.web.scenario import analysed_chest_ct
from tests.web.served_app import build_app, serving
from vesalius.export.sr import stored_findings
from vesalius.findings import codes
from vesalius.service.web.ohif import default_dist, has_dist
from vesalius.store import BlobStore, Store, open_store, sqlite_url
from vesalius.store.index import list_instances

pytestmark = [pytest.mark.slow, pytest.mark.integration]


@dataclass(frozen=True)
class NoduleShown:
    """What OHIF should show of one nodule: its SR label, slice, long and short axis."""

    tracking_identifier: str
    slice_uid: str
    long_axis: str
    """As OHIF writes it: ``"8.10 mm"``."""
    short_axis: str


def _slice_through(z_mm: float, headers: Sequence[pydicom.Dataset]) -> str:
    """The SOP Instance UID of the axial slice at ``z_mm``."""
    nearest = min(headers, key=lambda ds: abs(float(ds.ImagePositionPatient[2]) - z_mm))
    assert abs(float(nearest.ImagePositionPatient[2]) - z_mm) < 0.01
    return str(nearest.SOPInstanceUID)


def _nodules(store: Store, blobs: BlobStore, study_uid: str, ct_uid: str) -> list[NoduleShown]:
    """The study's nodule findings, with the slice their axial axes were measured on."""
    with store.read_session() as session:
        paths = [i.blob_path for i in list_instances(session, study_uid, series_uid=ct_uid)]
    headers = [pydicom.dcmread(blobs.locate(p), stop_before_pixels=True) for p in paths]
    shown = []
    for stored in stored_findings(store, study_uid):
        finding, location = stored.finding, stored.finding.location
        if location is None or location.axial_axes is None:
            continue
        (start, end) = location.axial_axes.long_axis
        assert start[2] == pytest.approx(end[2])
        shown.append(
            NoduleShown(
                finding.description[:64].rstrip(),
                _slice_through(start[2], headers),
                f"{finding.measurement(codes.LONG_AXIS).value:.2f} mm",
                f"{finding.measurement(codes.SHORT_AXIS).value:.2f} mm",
            )
        )
    return shown


@pytest.fixture
def sr_site(tmp_path: Path) -> Iterator[tuple[str, str, list[NoduleShown]]]:
    """The application serving the analysed chest CT; its URL, study UID and nodules."""
    needed(CHROMIUM.exists(), f"no Chromium at {CHROMIUM}")
    needed(has_dist(default_dist()), "OHIF not installed (bash tools/setup.sh, Node.js 20+)")
    store = open_store(sqlite_url(tmp_path / "index.sqlite3"))
    try:
        blobs = BlobStore(tmp_path / "blobs")
        study = analysed_chest_ct(store, blobs, tmp_path / "phantom")
        nodules = _nodules(store, blobs, study.study_uid, study.ct_series_uid)
        with serving(build_app(store, blobs, tmp_path / "data", dist=default_dist())) as url:
            yield url, study.study_uid, nodules
    finally:
        store.close()


SR_IN_OHIF = """() => {
  const sets = window.services.displaySetService.getActiveDisplaySets();
  const sr = sets.find((d) => d.Modality === "SR");
  if (!sr || !sr.isLoaded) return null;
  const ct = sets.find((d) => d.Modality === "CT");
  return sr.measurements.map((m) => ({
    id: m.TrackingIdentifier,
    loaded: m.loaded,
    onCt: !!ct && m.displaySetInstanceUID === ct.displaySetInstanceUID,
    slice: m.ReferencedSOPInstanceUID || null,
    graphics: m.coords.map((c) => c.GraphicType),
    labels: m.labels.map((l) => [l.label, l.value]),
  }));
}"""
"""OHIF's measurements of the loaded SR (``null`` until loaded): which are placed on a CT
image, which image, the graphics drawn, and the labels it shows."""
DRAWN_TEXT = "() => [...document.querySelectorAll('svg text')].map((t) => t.textContent)"


def test_our_sr_loads_in_ohif_with_each_nodule_s_axes_on_its_slice(
    sr_site: tuple[str, str, list[NoduleShown]], page: Page
) -> None:
    """The SR's series is listed; opened, OHIF loads it without an error, places each
    nodule's long and short axis on the CT slice through the nodule with their values, and
    draws them."""
    url, study_uid, nodules = sr_site
    assert nodules, "the phantom's nodules should be found, with their axes"
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    sign_in(page, url)
    page.goto(f"{url}/viewer/viewer?StudyInstanceUIDs={study_uid}")
    page.locator("[data-cy=study-browser-thumbnail]").first.wait_for()
    reports = series_thumbnails(page, "SR")
    reports.first.wait_for()
    assert reports.count() == 1, "OHIF does not list our SR series"
    reports.first.dblclick()
    loaded = None
    for _ in range(240):
        loaded = page.evaluate(SR_IN_OHIF)
        if loaded is not None and all(m["loaded"] for m in loaded):
            break
        page.wait_for_timeout(500)
    problems = [e for e in errors if "Failed to load resource" not in e]
    assert not problems, problems
    assert loaded is not None, "OHIF did not load the SR"
    assert all(m["loaded"] and m["onCt"] for m in loaded), [m for m in loaded if not m["loaded"]]
    by_id = {m["id"]: m for m in loaded}
    for nodule in nodules:
        shown = by_id[nodule.tracking_identifier]
        assert shown["graphics"] == ["POLYLINE", "POLYLINE"], "both axes, each a line"
        assert shown["slice"] == nodule.slice_uid, "drawn on another slice than the nodule's"
        assert ["Long axis", nodule.long_axis] in shown["labels"]
        assert ["Short axis", nodule.short_axis] in shown["labels"]

    # Displayed: stepping through the SR's measurements reaches a nodule, drawn with its label.
    texts: list[str] = []
    for _ in range(len(loaded)):
        page.wait_for_timeout(1500)
        texts = page.evaluate(DRAWN_TEXT)
        if any("Long axis" in t for t in texts):
            break
        page.locator("[data-cy=viewport-action-arrows-right] svg").first.click()
    drawn = [t for t in texts if "Long axis" in t]
    assert drawn, f"no nodule measurement drawn on the viewport, only {texts}"
    assert any(f"Long axis: {n.long_axis}" in drawn[0] for n in nodules), drawn
    assert any(f"Short axis: {n.short_axis}" in " ".join(texts) for n in nodules), texts
    problems = [e for e in errors if "Failed to load resource" not in e]
    assert not problems, problems
