"""In a real headless Chromium: our Parametric Map (the AI's probability map) opens in OHIF.

The server is the service's application over a store holding a chest CT phantom and the
Parametric Map :func:`vesalius.export.dispatch.export_study` made of two lesions found with
probabilities 0.9 and 0.4 (stored next to the CT, where DICOMweb and so OHIF find it).
What a user would see go wrong: no map series in the study browser, a map that OHIF
cannot place on its CT ("Referenced Volume is missing", an error notification) or that
shows nothing over the lesions. Skipped like the other browser tests when Chromium or the
OHIF dist is missing (failed under ``CI=true``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Page

from tests.web.browser import CHROMIUM, coloured_fraction, needed, series_thumbnails, sign_in
from tests.web.served_app import build_app, serving
from vesalius.core import ProvenanceStep, SeriesRef
from vesalius.export.dispatch import export_study
from vesalius.findings.model import CodedConcept, Finding
from vesalius.findings.persist import save_findings
from vesalius.ingest.durable import store_instance
from vesalius.ingest.folder import import_files
from vesalius.io.dicom_read import read_dicom
from vesalius.service.web.ohif import default_dist, has_dist
from vesalius.simulate.chest_ct import ChestCTSpec, chest_ct, write_chest_ct
from vesalius.store import BlobStore, Store, open_store, sqlite_url
from vesalius.store.findings import Code, findings_of_study
from vesalius.store.segmentations import (
    LabelMapRecord,
    SegmentInfo,
    add_segmentation,
    encode_label_map,
)

pytestmark = [pytest.mark.slow, pytest.mark.integration]

SHAPE = (40, 128, 128)
NODULE = Code("SCT", "27925004", "Nodule")
ABNORMAL = Code("SCT", "49755003", "Morphologically Altered Structure")


@dataclass(frozen=True)
class MappedStudy:
    study_uid: str
    pmap_series_uid: str
    top_by_z: dict[float, float]
    """The map's largest value on each CT slice, by the slice's z (mm)."""


def _mapped_chest(store: Store, blobs: BlobStore, folder: Path) -> MappedStudy:
    """A chest CT phantom, two lesions with probabilities, their Parametric Map stored."""
    write_chest_ct(chest_ct(ChestCTSpec(shape=SHAPE, noise_hu=0.0), seed=3), folder)
    files = sorted((folder / "ct").glob("*.dcm"))
    [study_uid] = import_files(files, store=store, blobs=blobs).study_uids
    ct = read_dicom(folder / "ct").volume
    assert ct.source is not None
    source = SeriesRef(study_uid, ct.source.series_uid)
    lesion = CodedConcept.text("Lung nodule")
    found = [Finding(lesion, "vesalius.nodules", "0.1.0", source, confidence=c) for c in (0.9, 0.4)]
    with store.session() as session:
        save_findings(session, found)
        ids = [row.id for row in findings_of_study(session, study_uid)]
    labels = np.zeros(SHAPE, np.uint8)
    labels[14:31, 30:70, 20:60] = 1  # not symmetric in z: a flipped map shows
    labels[17:24, 60:100, 70:110] = 2
    segments = tuple(
        SegmentInfo(n, f"Nodule {n}", ABNORMAL, NODULE, finding_ids=(ids[n - 1],)) for n in (1, 2)
    )
    record = LabelMapRecord(study_uid, source.series_uid, "vesalius.nodules", "0.1.0", segments)
    grid = ct.with_array(labels, ProvenanceStep("test-lesions", {}))
    with store.session() as session:
        add_segmentation(session, record, blobs.put(encode_label_map(grid), suffix=".npz").path)
    [pmap] = export_study(store, blobs, study_uid, "pmap", folder / "pmap")
    stored = store_instance(pmap.path.read_bytes(), store=store, blobs=blobs)
    top = np.where(labels == 1, 0.9, np.where(labels == 2, 0.4, 0.0)).max(axis=(1, 2))
    z = [round(float(ct.index_to_lps([[k, 0, 0]])[0][2]), 2) for k in range(SHAPE[0])]
    return MappedStudy(study_uid, stored.header.series.series_uid, dict(zip(z, top, strict=True)))


@pytest.fixture
def pmap_site(tmp_path: Path) -> Iterator[tuple[str, MappedStudy]]:
    needed(CHROMIUM.exists(), f"no Chromium at {CHROMIUM}")
    needed(has_dist(default_dist()), "OHIF not installed (bash tools/setup.sh, Node.js 20+)")
    store = open_store(sqlite_url(tmp_path / "index.sqlite3"))
    try:
        blobs = BlobStore(tmp_path / "blobs")
        study = _mapped_chest(store, blobs, tmp_path / "phantom")
        with serving(build_app(store, blobs, tmp_path / "data", dist=default_dist())) as url:
            yield url, study
    finally:
        store.close()


MAP_IN_OHIF = """() => {
  const cs = window.cornerstone;
  const volumes = cs.cache.getVolumes().filter((v) => v && v.volumeId);
  const map = volumes.find((v) => v.volumeId.startsWith("pmap."));
  const ct = volumes.find((v) => !v.volumeId.startsWith("pmap."));
  if (!map || !ct || !map.loadStatus || !map.loadStatus.loaded) return null;
  const data = map.voxelManager.getCompleteScalarDataArray();
  const [nx, ny, nz] = map.dimensions;
  const slices = [];
  for (let k = 0; k < nz; k++) {
    let top = 0;
    for (let n = k * nx * ny; n < (k + 1) * nx * ny; n++) if (data[n] > top) top = data[n];
    const at = cs.metaData.get("imagePlaneModule", ct.imageIds[k]).imagePositionPatient;
    slices.push([at[2], top]);
  }
  return slices;
}"""
"""Per slice of OHIF's map volume: the z of the CT slice it lies on and its largest value
(OHIF shows the values times 100); ``null`` until the map is loaded."""


def test_our_parametric_map_loads_over_the_ct_in_ohif(
    pmap_site: tuple[str, MappedStudy], page: Page
) -> None:
    """The map's series is listed; opened, OHIF holds our values on the right CT slices and
    overlays them in colour, without an error."""
    url, study = pmap_site
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(page, url)
    page.goto(f"{url}/viewer/viewer?StudyInstanceUIDs={study.study_uid}")
    page.locator("[data-cy=study-browser-thumbnail]").first.wait_for()
    maps = series_thumbnails(page, "PMAP")
    maps.first.wait_for()
    assert maps.count() == 1, "OHIF does not list our Parametric Map series"
    maps.first.dblclick()
    loaded = None
    for _ in range(240):
        loaded = page.evaluate(MAP_IN_OHIF)
        if loaded is not None:
            break
        page.wait_for_timeout(500)
    problems = [e for e in errors if "parametric" in e.lower() or "pmap" in e.lower()]
    assert not problems, problems
    assert loaded is not None, "OHIF did not load the Parametric Map"
    shown = {round(z, 2): top for z, top in loaded}
    assert shown == pytest.approx({z: 100 * p for z, p in study.top_by_z.items()})

    # Displayed: the middle slice (lesions on it) is in colour once the viewport redraws.
    box = page.locator("canvas").first.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    colour = 0.0
    for step in (120, -120) * 20:
        page.mouse.wheel(0, step)
        page.wait_for_timeout(1000)
        colour = coloured_fraction(page.screenshot(clip=box))
        if colour > 0.05:
            break
    assert colour > 0.05, f"the map coloured only {colour:.1%} of the viewport"
    for _ in range(15):  # 15 slices on, past both lesions: grey again (the colour was the map)
        page.mouse.wheel(0, 120)
        page.wait_for_timeout(100)
    page.wait_for_timeout(3000)
    outside = coloured_fraction(page.screenshot(clip=box))
    assert outside < 0.01, f"{outside:.1%} of a slice without lesions is coloured"
