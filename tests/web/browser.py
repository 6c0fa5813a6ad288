"""What the browser tests share: Chromium's path and flags, sign-in, screenshot measures.

The ``page`` fixture itself is in ``tests/web/conftest.py``. Outside CI a browser test is
skipped when Chromium or the OHIF dist is missing (:func:`needed`); under ``CI=true`` it
fails instead, so that a CI run cannot pass with the browser path untested.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Locator, Page, sync_playwright

from tests.web.served_app import RADIOLOGIST

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--enable-unsafe-swiftshader",  # WebGL (OHIF's cornerstone) on the CPU
    "--use-angle=swiftshader",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PATIENCE_MS = 180_000
"""How long a step may wait for the page: software WebGL on a shared CPU is slow."""


def needed(present: bool, why: str) -> None:
    """Skip (fail under ``CI=true``) unless what the test needs is ``present``."""
    if present:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{why} (CI=true: the browser test must run)")
    pytest.skip(why)


def chromium_tab() -> Iterator[Page]:
    """A fresh Chromium tab (WebGL on SwiftShader) that accepts confirm() dialogs."""
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            context.set_default_timeout(PATIENCE_MS)
            tab = context.new_page()
            tab.on("dialog", lambda dialog: dialog.accept())
            yield tab
        finally:
            browser.close()


def coloured_fraction(png: bytes) -> float:
    """Share of pixels in colour (an overlay) rather than grey (CT)."""
    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(np.int16)
    return float(((rgb.max(axis=2) - rgb.min(axis=2)) > 20).mean())


def grey_spread(png: bytes) -> float:
    """Standard deviation of the pixels' brightness: about 0 for a blank viewport."""
    return float(np.asarray(Image.open(io.BytesIO(png)).convert("L")).std())


def sign_in(page: Page, url: str, account: tuple[str, str] = RADIOLOGIST) -> None:
    """Sign in through the login page the worklist sends a new browser to."""
    page.goto(f"{url}/")
    assert "/login?next=" in page.url
    page.get_by_label("User name").fill(account[0])
    page.get_by_label("Password").fill(account[1])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{url}/")


def series_thumbnails(page: Page, modality: str) -> Locator:
    """OHIF's study browser thumbnails of the series of ``modality`` (SEG, SR, PMAP...)."""
    return page.locator("[data-cy=study-browser-thumbnail-no-image]", has_text=modality)
