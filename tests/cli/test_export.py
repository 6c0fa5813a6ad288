"""``vesalius export`` on a chest CT phantom analysed into a store.

What a user would see go wrong: an export that writes nothing or the wrong study, meshes
that do not match the lungs, a missing study giving a traceback instead of one line, a
PACS that is down reported as success.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from vesalius.cli.export import export
from vesalius.cli.main import user_errors_exit_2
from vesalius.ingest.durable import store_instance
from vesalius.pipeline.arrivals import analyse_study
from vesalius.simulate.chest_ct import ChestCT, ChestCTSpec, chest_ct, write_chest_ct
from vesalius.store import BlobStore, open_store
from vesalius.store.reports import create_draft, finalize, mark_preliminary

SPEC = ChestCTSpec(shape=(60, 176, 176), noise_hu=0.0)


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command()(user_errors_exit_2(export))
    return app


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, ChestCT]:
    """A settings file whose store holds an analysed chest CT with a signed report."""
    from vesalius.settings import load_settings

    root = tmp_path_factory.mktemp("site")
    config = root / "vesalius.toml"
    config.write_text('data_dir = "data"\n')
    settings = load_settings(config)
    ct = chest_ct(SPEC, seed=5)
    written = write_chest_ct(ct, root / "phantom")
    store = open_store(settings.database_url)
    blobs = BlobStore(settings.blob_dir)
    try:
        study = ""
        for path in sorted((written.folder / "ct").glob("*.dcm")):
            study = store_instance(
                path.read_bytes(), store=store, blobs=blobs
            ).header.study.study_uid
        outcome = analyse_study(store, blobs, study)
        assert outcome.failed == 0
        with store.session() as session:
            report = create_draft(
                session,
                study,
                text="FINDINGS:\nLungs.\n\nIMPRESSION:\nNo acute disease.",
                author="ai:chest-ct",
            )
            mark_preliminary(session, report.id)
            finalize(session, report.id, signed_by="Dr. Grey")
    finally:
        store.close()
    return config, study, ct


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(_app(), list(args))
    return result.exit_code, result.output


@pytest.mark.slow
def test_pdf_and_fhir_of_the_analysed_study(
    analysed: tuple[Path, str, ChestCT], tmp_path: Path
) -> None:
    """The radiologist's PDF and the EHR's bundle must hold the analysis of this study."""
    config, study, ct = analysed
    code, output = _run(study, "--to", "pdf", "--out", str(tmp_path), "--config", str(config))
    assert code == 0, output
    assert f"wrote {tmp_path / 'report.pdf'} (application/pdf)" in output
    assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF")
    code, output = _run(study, "--to", "fhir", "--out", str(tmp_path), "--config", str(config))
    assert code == 0, output
    bundle = json.loads((tmp_path / "fhir-bundle.json").read_text())
    resources = [e["resource"] for e in bundle["entry"]]
    (report,) = [r for r in resources if r["resourceType"] == "DiagnosticReport"]
    assert (report["status"], report["conclusion"]) == ("final", "No acute disease.")
    volumes = {
        o["bodySite"]["text"]: o["valueQuantity"]["value"]
        for o in resources
        if o["resourceType"] == "Observation" and o["code"]["text"] == "Lung: Volume"
    }
    for lung in ct.truth.lungs:
        assert volumes[f"Lung, {lung.side}"] == pytest.approx(lung.volume_ml, rel=0.03)


@pytest.mark.slow
def test_default_folder_is_the_studys_export_folder(analysed: tuple[Path, str, ChestCT]) -> None:
    """Without --out the files land where the web service serves them from."""
    config, study, _ = analysed
    code, output = _run(study, "--to", "pdf", "--config", str(config))
    assert code == 0, output
    assert (config.parent / "data" / "exports" / study / "report.pdf").is_file()


@pytest.mark.slow
def test_glb_meshes_of_the_lungs(analysed: tuple[Path, str, ChestCT], tmp_path: Path) -> None:
    """The AR model must hold the segmented lungs, each its own named mesh."""
    config, study, _ = analysed
    code, output = _run(
        study, "--to", "mesh", "--format", "glb", "--out", str(tmp_path), "--config", str(config)
    )
    assert code == 0, output
    names = []
    for glb in tmp_path.glob("*.glb"):
        data = glb.read_bytes()
        assert struct.unpack("<4sI", data[:8]) == (b"glTF", 2)
        (length,) = struct.unpack("<I", data[12:16])
        doc = json.loads(data[20 : 20 + length])
        assert all(m["name"] for m in doc["meshes"])
        names += [m["name"].lower() for m in doc["meshes"]]
    assert sum("lung" in name for name in names) >= 2, names


@pytest.mark.slow
@pytest.mark.parametrize(("frame", "left_sign"), [("LPS", 1.0), ("RAS", -1.0)])
def test_stl_lungs_are_on_their_side_with_their_volume(
    analysed: tuple[Path, str, ChestCT], tmp_path: Path, frame: str, left_sign: float
) -> None:
    """A 3D print of the left lung must come out on the left, with the lung's volume."""
    import numpy as np

    from vesalius.export.mesh import STL_RECORD

    config, study, ct = analysed
    code, output = _run(
        study,
        "--to",
        "mesh",
        "--frame",
        frame,
        "--smooth",
        "5",
        "--out",
        str(tmp_path),
        "--config",
        str(config),
    )
    assert code == 0, output
    truth = {lung.side: lung.volume_ml for lung in ct.truth.lungs}
    for side in ("left", "right"):
        (path,) = tmp_path.glob(f"*-{side.title()}_lung.stl")
        triangles = np.frombuffer(path.read_bytes()[84:], dtype=STL_RECORD)["vertices"]
        a, b, c = (triangles[:, k].astype(float) for k in range(3))
        volume_ml = np.einsum("ij,ij->i", a, np.cross(b, c)).sum() / 6.0 / 1000.0
        assert volume_ml == pytest.approx(truth[side], rel=0.05)
        sign = left_sign if side == "left" else -left_sign
        assert sign * triangles[..., 0].mean() > 0


@pytest.mark.slow
def test_seg_of_the_lungs(analysed: tuple[Path, str, ChestCT], tmp_path: Path) -> None:
    """The SEG must be written as a DICOM file the PACS can take."""
    from pydicom import dcmread

    config, study, _ = analysed
    code, output = _run(study, "--to", "seg", "--out", str(tmp_path), "--config", str(config))
    assert code == 0, output
    segs = [dcmread(path) for path in tmp_path.glob("*.dcm")]
    assert {(seg.Modality, seg.StudyInstanceUID) for seg in segs} == {("SEG", study)}
    labels = {str(s.SegmentLabel).lower() for seg in segs for s in seg.SegmentSequence}
    assert any("lung" in label for label in labels), labels


@pytest.mark.slow
def test_sr_of_the_findings(analysed: tuple[Path, str, ChestCT], tmp_path: Path) -> None:
    """The SR must carry the study's measurements for the PACS and the viewer."""
    from pydicom import dcmread

    config, study, _ = analysed
    code, output = _run(study, "--to", "sr", "--out", str(tmp_path), "--config", str(config))
    assert code == 0, output
    sr = dcmread(tmp_path / "sr.dcm")
    assert (sr.Modality, sr.StudyInstanceUID) == ("SR", study)
    assert "(application/dicom)" in output


@pytest.mark.slow
def test_unknown_study_is_one_line_exit_2(
    analysed: tuple[Path, str, ChestCT], tmp_path: Path
) -> None:
    """A mistyped UID must say so in one line, never a traceback."""
    config, _, _ = analysed
    for kind in ("pdf", "fhir", "mesh", "seg", "sr"):
        code, output = _run(
            "1.2.3.999", "--to", kind, "--out", str(tmp_path), "--config", str(config)
        )
        assert code == 2
        assert output.strip() == "error: study 1.2.3.999 is not in the store"


def test_nothing_to_export_is_exit_2(tmp_path: Path) -> None:
    """A study without findings or segmentation must not give empty files."""
    from tests.export.fixtures_exports import STUDY_UID, instance_header

    config = tmp_path / "vesalius.toml"
    config.write_text('data_dir = "data"\n')
    from vesalius.settings import load_settings
    from vesalius.store import add_instance

    settings = load_settings(config)
    store = open_store(settings.database_url)
    with store.session() as session:
        add_instance(session, instance_header(1), BlobStore(settings.blob_dir).put(b"x"))
    store.close()
    for kind, problem in (
        ("pdf", "no findings"),
        ("fhir", "no findings"),
        ("sr", "no findings"),
        ("mesh", "no segmentation"),
        ("seg", "no segmentation"),
    ):
        code, output = _run(STUDY_UID, "--to", kind, "--config", str(config))
        assert code == 2
        assert problem in output
        assert len(output.strip().splitlines()) == 1
    code, output = _run("../../etc", "--to", "pdf", "--config", str(config))
    assert code == 2
    assert "not a Study Instance UID" in output


@pytest.mark.slow
def test_sending_to_a_peer_that_is_down_exits_1(
    analysed: tuple[Path, str, ChestCT], tmp_path: Path
) -> None:
    """A PACS that is down must not look like a delivered export."""
    config, study, _ = analysed
    site = tmp_path / "site.toml"
    data_dir = (config.parent / "data").as_posix()
    site.write_text(
        f'data_dir = "{data_dir}"\n[[peers]]\nname = "pacs"\nae_title = "PACS"\n'
        'host = "127.0.0.1"\nport = 1\n'
    )
    code, output = _run(
        study, "--to", "seg", "--out", str(tmp_path / "o"), "--send", "pacs", "--config", str(site)
    )
    assert code == 1
    assert "cannot reach PACS" in output
