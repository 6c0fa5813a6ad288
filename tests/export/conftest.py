"""Fixtures of the SEG and SR tests: a written CT series, an analysed chest study, dciodvfy."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
import pytest

from vesalius.core import Volume
from vesalius.ingest.folder import import_files
from vesalius.io.dicom_read import read_dicom
from vesalius.io.dicom_write import write_series
from vesalius.pipeline.arrivals import analyse_study
from vesalius.pipeline.routing import RoutingRule
from vesalius.simulate.chest_ct import ChestCT, ChestCTSpec, chest_ct, write_chest_ct
from vesalius.simulate.study import metadata
from vesalius.store import BlobStore, Store, open_store, sqlite_url

CT_SHAPE = (10, 24, 32)


@dataclass(frozen=True, eq=False)
class WrittenCT:
    """A CT series on disk: its files, its volume as read, its headers in slice order."""

    folder: Path
    volume: Volume
    headers: list[pydicom.Dataset]


@pytest.fixture(scope="module")
def written_ct(tmp_path_factory: pytest.TempPathFactory) -> WrittenCT:
    """An axial CT, 10 slices of 24 x 32, 2.5 mm apart, read back through vesalius.io."""
    folder = tmp_path_factory.mktemp("ct")
    volume = Volume.from_spacing(
        np.full(CT_SHAPE, -1000, np.int16),
        spacing=(2.5, 0.8, 0.8),
        origin=(-12.0, -9.5, 40.0),
        modality="CT",
        frame_of_reference_uid="1.2.826.0.1.3680043.8.498.77",
    )
    write_series(volume, folder, meta=metadata("export-test", 3, number=2, description="CT"))
    read = read_dicom(folder).volume
    assert read.source is not None
    by_uid = {
        str(ds.SOPInstanceUID): ds
        for ds in (pydicom.dcmread(f, stop_before_pixels=True) for f in folder.glob("*.dcm"))
    }
    return WrittenCT(folder, read, [by_uid[uid] for uid in read.source.sop_instance_uids])


def dciodvfy_errors(path: Path) -> list[str]:
    """The error lines dicom3tools' ``dciodvfy -new`` prints for ``path``."""
    run = subprocess.run(
        ["dciodvfy", "-new", str(path)], capture_output=True, text=True, check=False
    )
    return [line for line in (run.stdout + run.stderr).splitlines() if "Error" in line]


needs_dciodvfy = pytest.mark.skipif(
    shutil.which("dciodvfy") is None, reason="dciodvfy not installed (apt-get install dicom3tools)"
)


@dataclass(frozen=True, eq=False)
class AnalysedChest:
    """A chest CT phantom study imported into a store and analysed by the pipeline."""

    store: Store
    blobs: BlobStore
    study_uid: str
    series_uid: str
    ct: ChestCT
    done: int


@pytest.fixture(scope="session")
def analysed_chest(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnalysedChest]:
    """The chest phantom sent through ``analyse_study`` as ``vesalius serve`` does."""
    root = tmp_path_factory.mktemp("chest-study")
    ct = chest_ct(ChestCTSpec(shape=(48, 176, 176), noise_hu=0.0), seed=1)
    written = write_chest_ct(ct, root / "phantom")
    store, blobs = open_store(sqlite_url(root / "index.sqlite3")), BlobStore(root / "blobs")
    (series,) = written.series
    import_files(series.files, store=store, blobs=blobs)
    study_uid = written.manifest.study_uid
    result = analyse_study(store, blobs, study_uid, rules=(RoutingRule("chest-ct", modality="CT"),))
    yield AnalysedChest(store, blobs, study_uid, series.series_uid, ct, result.done)
    store.close()
