"""``vesalius analyze`` end to end on a chest CT phantom written as DICOM.

What a user would see go wrong: a wrong Agatston score or lung volumes in findings.json, a
lung label map that does not overlay the CT, a crash instead of a skipped analysis, or a
traceback instead of a one-line error for bad input.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from vesalius.cli.analyze import analyze
from vesalius.cli.main import user_errors_exit_2
from vesalius.core import Volume
from vesalius.io.nifti import lps_to_nifti_affine, read_nifti
from vesalius.simulate.chest_ct import ChestCT, ChestCTSpec, chest_ct, write_chest_ct

SPEC = ChestCTSpec(shape=(60, 176, 176), noise_hu=0.0)


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command()(user_errors_exit_2(analyze))
    return app


@pytest.fixture(scope="module")
def phantom(tmp_path_factory: pytest.TempPathFactory) -> tuple[ChestCT, Path]:
    ct = chest_ct(SPEC, seed=3)
    written = write_chest_ct(ct, tmp_path_factory.mktemp("phantom"))
    return ct, written.folder / "ct"


@pytest.fixture(scope="module")
def analyzed(phantom: tuple[ChestCT, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("out")
    result = CliRunner().invoke(_app(), [str(phantom[1]), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def _by_meaning(findings: list[dict[str, object]], meaning: str) -> list[dict[str, object]]:
    return [f for f in findings if f["finding_type"]["meaning"] == meaning]  # type: ignore[index]


def _value(finding: dict[str, object], meaning: str) -> float:
    for m in finding["measurements"]:  # type: ignore[attr-defined]
        if m["concept"]["meaning"] == meaning:
            return float(m["value"])
    raise KeyError(meaning)


def test_findings_json_agatston_and_lung_volumes_match_the_truth(
    phantom: tuple[ChestCT, Path], analyzed: Path
) -> None:
    """A user would see a wrong calcium score or wrong lung volumes in findings.json."""
    ct, _ = phantom
    findings = json.loads((analyzed / "findings.json").read_text())
    (study,) = _by_meaning(findings, "Coronary artery calcification")
    truth = ct.truth.agatston_total_written
    assert truth > 0
    assert _value(study, "Calcium score") == pytest.approx(truth, rel=0.05)
    assert study["categories"][0]["system"] == "CAC-DRS"  # type: ignore[index]
    lungs = {f["location"]["laterality"]: f for f in _by_meaning(findings, "Lung")}  # type: ignore[index]
    for lung in ct.truth.lungs:
        assert _value(lungs[lung.side], "Volume") == pytest.approx(lung.volume_ml, rel=0.03)
    assert all(f["ai_generated"] and f["algorithm"]["version"] for f in findings)


def test_lung_label_map_has_the_ct_geometry(phantom: tuple[ChestCT, Path], analyzed: Path) -> None:
    """A user would see the lung mask shifted or flipped against the CT in a viewer."""
    ct, _ = phantom
    labels: Volume = read_nifti(analyzed / "lungs.nii.gz")
    assert labels.shape == ct.volume.shape
    np.testing.assert_allclose(labels.affine, ct.volume.affine, atol=1e-4)
    image: Any = nib.load(analyzed / "lungs.nii.gz")
    expected = lps_to_nifti_affine(ct.volume.affine)
    np.testing.assert_allclose(np.asarray(image.affine), expected, atol=1e-4)
    assert set(np.unique(np.asarray(labels.array))) <= {0, 1, 2, 3}


def test_summary_marks_ai_output(analyzed: Path) -> None:
    """A user would read the summary without knowing the findings are unreviewed AI output."""
    text = (analyzed / "summary.txt").read_text()
    assert "AI-generated" in text
    assert "Agatston" in text
    assert "Left lung" in text


def test_json_flag_prints_findings_json(phantom: tuple[ChestCT, Path], tmp_path: Path) -> None:
    """With --json a user piping the output would get something other than the findings."""
    result = CliRunner().invoke(_app(), [str(phantom[1]), "--out", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed == json.loads((tmp_path / "findings.json").read_text())


def test_missing_path_is_one_line_exit_2(tmp_path: Path) -> None:
    """A typo in the path would otherwise give a traceback."""
    result = CliRunner().invoke(_app(), [str(tmp_path / "nope"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "no such file" in result.output
    assert "Traceback" not in result.output


def test_folder_without_ct_is_exit_2(tmp_path: Path) -> None:
    """A folder of non-DICOM files would otherwise crash or write empty results."""
    (tmp_path / "notes.txt").write_text("hello")
    result = CliRunner().invoke(_app(), [str(tmp_path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "o" / "findings.json").exists()


def test_unknown_series_uid_is_exit_2(phantom: tuple[ChestCT, Path], tmp_path: Path) -> None:
    """Asking for a series that is not there would otherwise analyse another one silently."""
    result = CliRunner().invoke(
        _app(), [str(phantom[1]), "--out", str(tmp_path), "--series", "1.2.3.999"]
    )
    assert result.exit_code == 2
    assert "1.2.3.999" in result.output
