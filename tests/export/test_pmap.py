"""Probability maps as DICOM Parametric Maps: what OHIF overlays as a heat map.

What a user would see go wrong: a heat map overlaid with other values, or on other slices,
than the AI gave; a map a validating PACS rejects or a viewer cannot place on its CT (no
source series, no frame of reference, no per-frame source image); a study analysed with
nodule probabilities and no map to export; a map with values outside its declared range.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
import typer
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydicom import Dataset, dcmread
from typer.testing import CliRunner

from tests.export.conftest import CT_SHAPE, WrittenCT, dciodvfy_errors, needs_dciodvfy
from tests.export.fixtures_exports import LUNG_RADS, STUDY_UID, add_label_map, indexed_study
from tests.export.test_send_credentials import Pacs, pacs
from vesalius.cli.export import export
from vesalius.cli.main import user_errors_exit_2
from vesalius.core import ProvenanceStep, SeriesRef
from vesalius.errors import InputError
from vesalius.export.dispatch import export_study
from vesalius.export.on_sign import export_on_sign
from vesalius.export.pmap import (
    PARAMETRIC_MAP_STORAGE,
    PROBABILITY,
    MapMeaning,
    PmapIdentity,
    encode_parametric_map,
    read_parametric_map,
)
from vesalius.export.pmap_study import export_pmaps
from vesalius.findings import codes
from vesalius.findings.model import Finding
from vesalius.findings.persist import save_findings
from vesalius.ingest.folder import import_files
from vesalius.service import exports_api
from vesalius.service.context import AppContext, Principal
from vesalius.settings import DicomWebCredentials, ExportSettings, Settings, load_settings
from vesalius.store import BlobStore, Store, open_store, sqlite_url
from vesalius.store.findings import Algorithm, Code, findings_of_study
from vesalius.store.roles import Role
from vesalius.store.segmentations import (
    LabelMapRecord,
    SegmentInfo,
    add_segmentation,
    encode_label_map,
)

__all__ = ["pacs"]

ALGORITHM = Algorithm("vesalius.test.heatmap", "1.0")


def _heat() -> npt.NDArray[np.float32]:
    """A smooth bump on slices 3 to 6, zero elsewhere."""
    k, j, i = np.indices(CT_SHAPE, dtype=np.float32)
    bump = np.exp(-((k - 4.5) ** 2 / 2 + (j - 12) ** 2 / 20 + (i - 16) ** 2 / 30))
    return np.where(bump > 0.05, bump, 0.0).astype(np.float32)


def _encode(values: npt.NDArray[np.floating], ct: WrittenCT) -> bytes:
    return encode_parametric_map(
        values, ct.headers, PROBABILITY, algorithm=ALGORITHM, identity=PmapIdentity.derived("h")
    )


def _by_source(data: bytes) -> dict[str, npt.NDArray[np.float32]]:
    """The map's frames read back by highdicom, keyed by the source image each cites."""
    pm = read_parametric_map(data)
    frames = pm.pixel_array.reshape(-1, *CT_SHAPE[1:])
    return {
        str(f.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID): frame
        for f, frame in zip(pm.PerFrameFunctionalGroupsSequence, frames, strict=True)
    }


def test_values_read_back_equal_on_their_source_slices(written_ct: WrittenCT) -> None:
    """Every frame holds exactly the float values of the map on the slice it cites."""
    heat = _heat()
    frames = _by_source(_encode(heat, written_ct))
    uids = [str(ds.SOPInstanceUID) for ds in written_ct.headers]
    assert sorted(frames) == sorted(uids)  # OHIF needs a frame for every source slice
    for k, uid in enumerate(uids):
        np.testing.assert_array_equal(frames[uid], heat[k])


def test_what_ohif_needs_to_place_the_map(written_ct: WrittenCT) -> None:
    """OHIF's pmap extension: source series, float pixels, same grid, positions, units."""
    pm = dcmread(io.BytesIO(_encode(_heat(), written_ct)))
    source = written_ct.headers[0]
    assert pm.SOPClassUID == PARAMETRIC_MAP_STORAGE
    assert "FloatPixelData" in pm
    assert "PixelData" not in pm
    assert pm.ReferencedSeriesSequence[0].SeriesInstanceUID == source.SeriesInstanceUID
    assert pm.FrameOfReferenceUID == source.FrameOfReferenceUID
    assert pm.StudyInstanceUID == source.StudyInstanceUID
    assert (pm.Rows, pm.Columns) == (source.Rows, source.Columns)
    positions = {
        str(ds.SOPInstanceUID): [float(v) for v in ds.ImagePositionPatient]
        for ds in written_ct.headers
    }
    for frame in pm.PerFrameFunctionalGroupsSequence:
        cited = frame.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID
        at = [float(v) for v in frame.PlanePositionSequence[0].ImagePositionPatient]
        np.testing.assert_allclose(at, positions[str(cited)])
    mapping = pm.SharedFunctionalGroupsSequence[0].RealWorldValueMappingSequence[0]
    unit = mapping.MeasurementUnitsCodeSequence[0]
    assert (unit.CodingSchemeDesignator, unit.CodeValue) == ("UCUM", "1")
    assert (mapping.RealWorldValueSlope, mapping.RealWorldValueIntercept) == (1.0, 0.0)


def test_frames_go_in_the_order_ohif_stacks_the_slices(written_ct: WrittenCT) -> None:
    """OHIF copies frame n into slice n of its CT volume (stacked by increasing position
    along the normal): frames in another order show the map on mirrored slices."""
    pm = dcmread(io.BytesIO(_encode(_heat(), written_ct)))
    cosines = [float(v) for v in written_ct.headers[0].ImageOrientationPatient]
    normal = np.cross(cosines[:3], cosines[3:])
    frames = pm.PerFrameFunctionalGroupsSequence
    along = [
        float(np.dot([float(v) for v in f.PlanePositionSequence[0].ImagePositionPatient], normal))
        for f in frames
    ]
    assert along == sorted(along)
    assert [int(f.FrameContentSequence[0].DimensionIndexValues) for f in frames] == list(
        range(1, len(frames) + 1)
    )


@needs_dciodvfy
def test_a_validating_pacs_accepts_the_map(written_ct: WrittenCT, tmp_path: Path) -> None:
    path = tmp_path / "pmap.dcm"
    path.write_bytes(_encode(_heat(), written_ct))
    assert dciodvfy_errors(path) == []


def test_maps_off_the_grid_or_out_of_range_are_refused(written_ct: WrittenCT) -> None:
    """A map scaled 0..100 declared as a probability, or on another grid, is a bug."""
    with pytest.raises(ValueError, match=r"\(0, 1\)"):
        _encode(_heat() * 100, written_ct)
    with pytest.raises(ValueError, match="one slice per source"):
        _encode(_heat()[1:], written_ct)
    nan = _heat()
    nan[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        _encode(nan, written_ct)
    with pytest.raises(ValueError, match="increasing"):
        MapMeaning("HU", "x", Code("UCUM", "[hnsf'U]", "HU"), (1, 1))


def test_a_map_of_other_units_keeps_them(written_ct: WrittenCT) -> None:
    """A map in another unit (an uncertainty in mm) says so and keeps its values."""
    meaning = MapMeaning("UNCERTAINTY", "Boundary uncertainty", Code("UCUM", "mm", "mm"), (0, 10))
    values = _heat() * 7.5
    data = encode_parametric_map(
        values,
        written_ct.headers,
        meaning,
        algorithm=ALGORITHM,
        identity=PmapIdentity("1.2", "1.3"),
    )
    pm = dcmread(io.BytesIO(data))
    mapping = pm.SharedFunctionalGroupsSequence[0].RealWorldValueMappingSequence[0]
    assert mapping.MeasurementUnitsCodeSequence[0].CodeValue == "mm"
    assert mapping.LUTLabel == "UNCERTAINTY"
    np.testing.assert_array_equal(read_parametric_map(data).pixel_array.max(), values.max())


# -- maps of a stored study ------------------------------------------------------------------

NODULE = Code("SCT", "27925004", "Nodule")
ABNORMAL = Code("SCT", "49755003", "Morphologically Altered Structure")
CONFIDENCES = (0.92, 0.375)


@dataclass(frozen=True, eq=False)
class NoduleStudy:
    store: Store
    blobs: BlobStore
    study_uid: str
    labels: npt.NDArray[np.uint8]
    headers: list[Dataset]
    config: Path


@pytest.fixture
def nodule_study(written_ct: WrittenCT, tmp_path: Path) -> Iterator[NoduleStudy]:
    """The written CT with two nodules found with probabilities 0.92 and 0.375, and a
    lung finding without any, as the pipeline files them (label map linked to findings)."""
    config = tmp_path / "vesalius.toml"
    config.write_text('data_dir = "site"\n')
    settings = load_settings(config)
    store, blobs = open_store(settings.database_url), BlobStore(settings.blob_dir)
    import_files(sorted(written_ct.folder.glob("*.dcm")), store=store, blobs=blobs)
    first = written_ct.headers[0]
    study_uid, series_uid = str(first.StudyInstanceUID), str(first.SeriesInstanceUID)
    source = SeriesRef(study_uid, series_uid)
    found = [
        Finding(LUNG_RADS, "vesalius.nodules", "0.1.0", source, confidence=c) for c in CONFIDENCES
    ]
    lung = Finding(codes.LUNG, "vesalius.chest-ct", "0.1.0", source)
    labels = np.zeros(CT_SHAPE, np.uint8)
    labels[2:4, 5:9, 6:10] = 1
    labels[6, 14:18, 20:26] = 2
    labels[8, 1:3, 1:3] = 3
    with store.session() as session:
        save_findings(session, [*found, lung])
        ids = [row.id for row in findings_of_study(session, study_uid)]
    segments = (
        SegmentInfo(1, "Nodule 1", ABNORMAL, NODULE, finding_ids=(ids[0],)),
        SegmentInfo(2, "Nodule 2", ABNORMAL, NODULE, finding_ids=(ids[1],)),
        SegmentInfo(3, "Lung", ABNORMAL, NODULE, finding_ids=(ids[2],)),
    )
    record = LabelMapRecord(study_uid, series_uid, "vesalius.nodules", "0.1.0", segments)
    grid = written_ct.volume.with_array(labels, ProvenanceStep("test", {}))
    blob = blobs.put(encode_label_map(grid), suffix=".npz")
    with store.session() as session:
        add_segmentation(session, record, blob.path)
    try:
        yield NoduleStudy(store, blobs, study_uid, labels, written_ct.headers, config)
    finally:
        store.close()


def test_a_study_exports_each_nodule_with_its_probability(
    nodule_study: NoduleStudy, tmp_path: Path
) -> None:
    """Each nodule's voxels carry the probability of its finding; nothing else is painted."""
    study = nodule_study
    (file,) = export_study(study.store, study.blobs, study.study_uid, "pmap", tmp_path)
    assert (file.media_type, file.kind) == ("application/dicom", "pmap")
    frames = _by_source(file.path.read_bytes())
    expected = np.zeros(CT_SHAPE, np.float32)
    for value, confidence in enumerate(CONFIDENCES, start=1):
        expected[study.labels == value] = confidence
    uids = [str(ds.SOPInstanceUID) for ds in study.headers]
    assert sorted(frames) == sorted(uids)
    for k in range(CT_SHAPE[0]):
        np.testing.assert_array_equal(frames[uids[k]], expected[k])
    pm = dcmread(file.path)
    assert pm.ReferencedSeriesSequence[0].SeriesInstanceUID == study.headers[0].SeriesInstanceUID
    again = export_pmaps(study.store, study.blobs, study.study_uid)
    assert [m.sop_instance_uid for m in again] == [str(pm.SOPInstanceUID)]


@needs_dciodvfy
def test_the_study_map_is_valid(nodule_study: NoduleStudy, tmp_path: Path) -> None:
    study = nodule_study
    (file,) = export_study(study.store, study.blobs, study.study_uid, "pmap", tmp_path)
    assert dciodvfy_errors(file.path) == []


@pytest.fixture
def lungs_only(tmp_path: Path) -> Iterator[tuple[Store, BlobStore]]:
    store, blobs = open_store(sqlite_url(tmp_path / "i.sqlite3")), BlobStore(tmp_path / "b")
    indexed_study(store, blobs)
    add_label_map(store, blobs)
    try:
        yield store, blobs
    finally:
        store.close()


def test_no_probability_means_nothing_to_export(
    lungs_only: tuple[Store, BlobStore], tmp_path: Path
) -> None:
    """A study whose AI gave no probability says so instead of writing an empty map."""
    store, blobs = lungs_only
    with pytest.raises(InputError, match="no probability map"):
        export_study(store, blobs, STUDY_UID, "pmap", tmp_path)
    assert not list(tmp_path.glob("*.dcm"))


def test_signing_sends_the_map_to_a_pacs_that_needs_a_sign_in(
    nodule_study: NoduleStudy, pacs: Pacs, tmp_path: Path
) -> None:
    """``on_sign = ["pmap"]`` with a STOW-RS destination and its token: the map arrives."""
    study = nodule_study
    export = ExportSettings(
        on_sign=("pmap",),
        send_to=pacs.dicomweb,
        credentials=(DicomWebCredentials(pacs.url, token=pacs.account.token),),
    )
    settings = Settings(data_dir=tmp_path, export=export)
    (result,) = export_on_sign(study.store, study.blobs, settings, study.study_uid)
    assert result.ok, result.error
    assert [(r.sent, r.failed) for r in result.sent] == [(1, ())]
    assert pacs.has(result.files[0].path)


def test_the_command_line_writes_the_map(nodule_study: NoduleStudy, tmp_path: Path) -> None:
    """``vesalius export STUDY --to pmap`` writes one file per map and says where."""
    app = typer.Typer()
    app.command()(user_errors_exit_2(export))
    out = tmp_path / "out"
    args = [nodule_study.study_uid, "--to", "pmap", "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--config", str(nodule_study.config)])
    assert result.exit_code == 0, result.output
    (written,) = out.glob("*.dcm")
    assert result.output.strip() == f"wrote {written} (application/dicom)"
    assert dcmread(written).SOPClassUID == PARAMETRIC_MAP_STORAGE


def test_the_web_service_makes_and_serves_the_map(
    nodule_study: NoduleStudy, tmp_path: Path
) -> None:
    """``POST .../exports {"to": "pmap"}`` then the download gives the Parametric Map."""
    study = nodule_study
    reader = Principal("dr.grey", Role.RADIOLOGIST, source="127.0.0.1")
    ctx = AppContext(
        study.store, study.blobs, lambda _permission: lambda: reader, Settings(data_dir=tmp_path)
    )
    app = FastAPI()
    app.include_router(exports_api.make_router(ctx))
    client = TestClient(app)
    made = client.post(f"/api/studies/{study.study_uid}/exports", json={"to": "pmap"})
    assert made.status_code == 200, made.text
    (link,) = made.json()["files"]
    assert (link["name"], link["media_type"]) == ("pmap-1.dcm", "application/dicom")
    got = client.get(link["url"])
    assert got.status_code == 200
    assert dcmread(io.BytesIO(got.content)).SOPClassUID == PARAMETRIC_MAP_STORAGE
