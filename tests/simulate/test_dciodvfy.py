"""Conformance: dicom3tools' dciodvfy finds no error in any phantom's instances."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from vesalius.simulate.study import WrittenPhantom

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        shutil.which("dciodvfy") is None,
        reason="dciodvfy not installed (apt-get install dicom3tools)",
    ),
]


def _errors(path: Path) -> list[str]:
    run = subprocess.run(
        ["dciodvfy", str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    return [line for line in (run.stdout + run.stderr).splitlines() if line.startswith("Error")]


@pytest.mark.parametrize("fixture", ["chest_written", "brain_written", "petct_written"])
def test_dciodvfy_reports_no_errors(fixture: str, request: pytest.FixtureRequest) -> None:
    """A PACS or viewer that validates IODs must accept every phantom series."""
    written: WrittenPhantom = request.getfixturevalue(fixture)
    for series in written.series:
        middle = series.files[len(series.files) // 2]
        assert _errors(middle) == [], (series.folder.name, _errors(middle))
