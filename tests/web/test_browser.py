"""End to end in a real headless Chromium: sign in, triage, view the images and the AI
overlay in OHIF, accept a finding, sign the report.

The server is the service's application over a store holding one analysed chest CT
(:mod:`tests.web.scenario`), on a free port; the viewer is the installed OHIF dist.
Outside CI the test is skipped when Chromium or the OHIF dist is missing; under ``CI=true``
it fails instead, so that a CI run cannot pass with the browser path untested.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.web.browser import (
    CHROMIUM,
    PATIENCE_MS,
    coloured_fraction,
    grey_spread,
    needed,
    series_thumbnails,
    sign_in,
)
from tests.web.scenario import AnalysedStudy, analysed_chest_ct, imported_pet_ct
from tests.web.served_app import ADMIN, RADIOLOGIST, build_app, serving
from vesalius.service.web.ohif import default_dist, has_dist
from vesalius.store import BlobStore, open_store, sqlite_url

pytestmark = [pytest.mark.slow, pytest.mark.integration]

SLICE = re.compile(r"\((\d+)/(\d+)\)")
MPR_PLANES = ("axial", "sagittal", "coronal")


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, AnalysedStudy]]:
    """The application serving one analysed chest CT; yields its URL and the study."""
    needed(CHROMIUM.exists(), f"no Chromium at {CHROMIUM}")
    needed(has_dist(default_dist()), "OHIF not installed (bash tools/setup.sh, Node.js 20+)")
    root = tmp_path
    store = open_store(sqlite_url(root / "index.sqlite3"))
    try:
        blobs = BlobStore(root / "blobs")
        study = analysed_chest_ct(store, blobs, root / "phantom")
        with serving(build_app(store, blobs, root / "data", dist=default_dist())) as url:
            yield url, study
    finally:
        store.close()


@pytest.fixture
def pet_ct_site(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The application serving one PET/CT study (no analysis); yields its URL and UID."""
    needed(CHROMIUM.exists(), f"no Chromium at {CHROMIUM}")
    needed(has_dist(default_dist()), "OHIF not installed (bash tools/setup.sh, Node.js 20+)")
    store = open_store(sqlite_url(tmp_path / "index.sqlite3"))
    try:
        blobs = BlobStore(tmp_path / "blobs")
        study_uid = imported_pet_ct(store, blobs, tmp_path / "phantom")
        with serving(build_app(store, blobs, tmp_path / "data", dist=default_dist())) as url:
            yield url, study_uid
    finally:
        store.close()


def slice_shown(page: Page) -> tuple[int, int]:
    """OHIF's viewport overlay ``(k/n)``: the slice shown and the number of slices."""
    found = SLICE.search(page.locator("text=/\\(\\d+\\/\\d+\\)/").first.inner_text())
    assert found is not None
    return int(found.group(1)), int(found.group(2))


def scroll_to(page: Page, target: int) -> None:
    """Scroll the viewport (mouse wheel over it) until it shows slice ``target``."""
    box = page.locator("canvas").first.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    for _ in range(20):
        shown, _ = slice_shown(page)
        if shown == target:
            page.wait_for_timeout(1000)  # let the new slice render
            return
        for _ in range(abs(target - shown)):
            page.mouse.wheel(0, 120 if target > shown else -120)
            page.wait_for_timeout(30)
        page.wait_for_timeout(500)
    raise AssertionError(f"the viewer did not scroll to slice {target}")


def check_image_and_segmentation(page: Page) -> None:
    """The middle CT slice renders; loading our SEG colours the lungs on it."""
    page.locator("[data-cy=study-browser-thumbnail]").first.wait_for()
    canvas = page.locator("canvas").first
    canvas.wait_for()
    page.locator("text=/\\(\\d+\\/\\d+\\)/").first.wait_for()
    clip = canvas.bounding_box()
    assert clip is not None
    middle = slice_shown(page)[1] // 2
    scroll_to(page, middle)
    plain = page.screenshot(clip=clip)
    assert grey_spread(plain) > 20, "the CT slice did not render (a blank viewport)"
    # a first visit (fresh browser profile) gets no onboarding tour over the images
    assert page.locator(".shepherd-element").count() == 0, "OHIF's first-visit tour pops up"

    segs = series_thumbnails(page, "SEG")
    assert segs.count() >= 1, "OHIF does not list our SEG series"
    lungs = segs.filter(has_text="lungs")
    assert lungs.count() == 1, "the lungs' SEG is not told apart from the others"
    lungs.dblclick()  # OHIF overlays a SEG on the series it segments
    page.wait_for_timeout(3000)
    scroll_to(page, middle)
    overlaid = page.screenshot(clip=clip)
    gained = coloured_fraction(overlaid) - coloured_fraction(plain)
    assert gained > 0.03, f"the SEG overlay coloured only {gained:.1%} more of the viewport"


def test_a_radiologist_triages_views_the_ai_overlay_accepts_a_finding_and_signs(
    site: tuple[str, AnalysedStudy], page: Page
) -> None:
    url, study = site
    sign_in(page, url)

    # The worklist: the top study, its priority in words and the reasons for it.
    top = page.locator("#worklist tbody tr").first
    top.wait_for()
    assert top.get_attribute("data-uid") == study.study_uid
    item = page.request.get(f"{url}/api/worklist").json()["items"][0]
    assert item["priority"]["reasons"], "the phantom's nodules should raise its priority"
    assert top.locator(".badge").inner_text().lower().startswith(item["priority"]["level"])
    assert top.locator(".reasons li").all_inner_texts() == item["priority"]["reasons"]

    # The keyboard: Enter opens the selected (top) study in the report editor.
    page.keyboard.press("Enter")
    page.wait_for_url(f"{url}/studies/{study.study_uid}")
    findings = page.locator("article.finding")
    findings.first.wait_for()
    assert findings.count() == item["findings_count"]
    assert page.locator("#report-state").inner_text().startswith("draft")

    # The viewer, from the editor's link: the image renders, our SEG overlays it.
    page.get_by_role("link", name="Open the study in the viewer").click()
    page.wait_for_url(f"{url}/viewer/viewer?StudyInstanceUIDs={study.study_uid}")
    check_image_and_segmentation(page)

    # Back in the editor: accept the first finding, then sign the report.
    page.goto(f"{url}/studies/{study.study_uid}")
    first = page.locator("article.finding").first
    name = first.locator("h3").inner_text()
    first.get_by_role("button", name="Accept").click()
    page.locator("#status", has_text="accepted").wait_for()
    first = page.locator("article.finding").first
    assert first.locator("h3").inner_text() == name
    assert first.get_by_role("button", name="Accept").get_attribute("aria-pressed") == "true"
    assert first.locator(".feedback").inner_text().startswith(f"accept by {RADIOLOGIST[0]}")
    page.get_by_role("button", name="Sign", exact=True).click()
    page.locator("#report-state", has_text="final").wait_for()
    assert RADIOLOGIST[0] in page.locator("#report-signed").inner_text()
    report = page.request.get(f"{url}/api/studies/{study.study_uid}/report").json()
    assert (report["state"], report["signed_by"]) == ("final", RADIOLOGIST[0])


def test_the_worklist_follows_a_claim_made_elsewhere_and_the_admin_audits_it(
    site: tuple[str, AnalysedStudy], page: Page
) -> None:
    """Live updates: another reader's claim shows up without a reload; /admin lists it."""
    url, study = site
    sign_in(page, url)
    page.goto(f"{url}/?status=all")
    row = page.locator(f'#worklist tbody tr[data-uid="{study.study_uid}"]')
    row.wait_for()
    assert page.evaluate("() => document.readyState") == "complete"

    browser = page.context.browser
    assert browser is not None
    admin = browser.new_context(viewport={"width": 1400, "height": 900})
    admin.set_default_timeout(PATIENCE_MS)
    try:
        signed_in = admin.request.post(
            f"{url}/api/login", data={"username": ADMIN[0], "password": ADMIN[1]}
        )
        assert signed_in.ok, signed_in.text()
        csrf = {"X-CSRF-Token": signed_in.json()["csrf_token"]}
        claimed = admin.request.post(f"{url}/api/studies/{study.study_uid}/claim", headers=csrf)
        assert claimed.ok, claimed.text()
        row.locator("td", has_text=ADMIN[0]).wait_for()  # pushed by /api/events, no reload
        assert row.get_by_role("button", name="Release").count() == 0  # not the reader's claim

        audit = admin.new_page()
        audit.goto(f"{url}/admin")
        audit.locator("#users tbody tr", has_text=RADIOLOGIST[0]).wait_for()
        audit.locator("#audit tbody tr", has_text="claim").first.wait_for()
        audit.get_by_label("Who").fill(RADIOLOGIST[0])
        audit.get_by_role("button", name="Filter").click()
        # the unfiltered rows are on the page until the filtered page replaces them
        audit.wait_for_function(
            """name => {
                const cells = [...document.querySelectorAll("#audit tbody tr td:nth-child(2)")];
                return cells.length > 0 && cells.every(td => td.textContent === name);
            }""",
            arg=RADIOLOGIST[0],
        )
        whos = audit.locator("#audit tbody tr td:nth-child(2)").all_inner_texts()
        assert whos
        assert set(whos) == {RADIOLOGIST[0]}
    finally:
        admin.close()


def viewport_shot(page: Page, viewport: str) -> bytes | None:
    """A screenshot of the page where OHIF viewport ``viewport`` is; None while OHIF swaps its
    element or lays its viewports out again (loading a SEG does), for the caller to retry."""
    box = page.locator(f'[data-viewportid="{viewport}"]').bounding_box()
    return None if box is None else page.screenshot(clip=box)


def _shows_image(shot: bytes, *, coloured: bool) -> bool:
    """Whether a viewport's screenshot shows an image (in colour when ``coloured``)."""
    return grey_spread(shot) > 10 and (not coloured or coloured_fraction(shot) > 0.05)


def rendered(page: Page, viewport: str, *, coloured: bool) -> bytes:
    """The screenshot of OHIF viewport ``viewport`` once it shows an image (in colour)."""
    page.locator(f'[data-viewportid="{viewport}"]').wait_for()
    for _ in range(240):
        shot = viewport_shot(page, viewport)
        if shot is not None and _shows_image(shot, coloured=coloured):
            return shot
        page.wait_for_timeout(500)
    raise AssertionError(f"viewport {viewport} shows no {'fused ' if coloured else ''}image")


def test_pet_ct_fusion_renders_in_ohifs_mpr_views(pet_ct_site: tuple[str, str], page: Page) -> None:
    """OHIF's PET/CT mode (tmtv): CT, PET and the fusion in three planes, from our DICOMweb."""
    url, study_uid = pet_ct_site
    sign_in(page, url)
    page.goto(f"{url}/viewer/tmtv?StudyInstanceUIDs={study_uid}")
    for viewport in ("ctAXIAL", "ptAXIAL", "fusionAXIAL"):  # the top slice: little to fuse
        rendered(page, viewport, coloured=False)
    # Through the body the fusion is in colour (OHIF's viewport ids, spelled as OHIF does).
    for ct_id, pt_id, fusion_id in [
        ("ctSAGITTAL", "ptSAGITTAL", "fusionSAGITTAL"),
        ("ctCORONAL", "ptCORONAL", "fusionCoronal"),
    ]:
        ct = rendered(page, ct_id, coloured=False)
        assert coloured_fraction(ct) < 0.05, f"the CT ({ct_id}) should be grey"
        rendered(page, pt_id, coloured=False)
        fused = rendered(page, fusion_id, coloured=True)
        assert coloured_fraction(fused) > coloured_fraction(ct) + 0.05


def test_our_seg_overlays_the_ct_in_ohifs_mpr_views(
    site: tuple[str, AnalysedStudy], page: Page
) -> None:
    """MPR (OHIF's ``mpr`` hanging protocol): three planes render; the SEG colours the lungs."""
    url, study = site
    sign_in(page, url)
    page.goto(f"{url}/viewer/viewer?StudyInstanceUIDs={study.study_uid}&hangingprotocolId=mpr")
    plain = {plane: rendered(page, f"mpr-{plane}", coloured=False) for plane in MPR_PLANES}
    series_thumbnails(page, "SEG").filter(has_text="lungs").dblclick()
    for plane in ("axial", "coronal"):  # the sagittal midline cuts between the lungs
        before, gained = coloured_fraction(plain[plane]), 0.0
        for _ in range(240):
            shot = viewport_shot(page, f"mpr-{plane}")
            gained = coloured_fraction(shot) if shot is not None else 0.0
            if gained > before + 0.03:
                break
            page.wait_for_timeout(500)
        assert gained > before + 0.03, f"no SEG overlay in the {plane} MPR view"
