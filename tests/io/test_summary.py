"""``info`` summary: headers only, exact JSON layout, problems and unreadable files listed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from vesalius.io import pixels
from vesalius.io.summary import summarize_dicom

SeriesWriter = Callable[..., list[Path]]


def test_summary_json_layout_and_values(
    ct_series: SeriesWriter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The JSON has studies -> series with shape/spacing [z,y,x]; no pixel data is decoded."""

    def forbidden(*_: object, **__: object) -> None:
        raise AssertionError("summary must not read pixels")

    monkeypatch.setattr(pixels, "read_frames", forbidden)
    ct_series([0.0, 2.0, 6.0], folder="d/a", size=(6, 5))
    ct_series([0.0, 1.0], folder="d/b", iop=(1, 0, 0, 0, 0, -1))
    (tmp_path / "d" / "junk.bin").write_bytes(b"\x00" * 10)
    doc = json.loads(json.dumps(summarize_dicom(tmp_path / "d").to_json()))
    series = [s for st in doc["studies"] for s in st["series"]]
    assert {"study_uid", "series"} <= set(doc["studies"][0])
    axial = next(s for s in series if s["orientation"] == "axial")
    coronal = next(s for s in series if s["orientation"] == "coronal")
    assert axial["shape"] == [3, 6, 5]
    assert axial["n_instances"] == 3
    assert axial["spacing"] == pytest.approx([2.0, 0.8, 0.7])
    assert [p["code"] for p in axial["problems"]] == ["missing_slices"]
    assert coronal["modality"] == "CT"
    assert coronal["problems"] == []
    assert {"series_uid", "modality", "n_instances", "shape", "spacing", "problems"} <= set(axial)
    assert [Path(p["path"]).name for p in doc["unreadable_files"]] == ["junk.bin"]
