"""The Dask executor on a LocalCluster: pipeline jobs run on Dask workers.

What a user would see go wrong: results out of order or lost when a batch runs on a Dask
cluster, or the pipeline's jobs not done (findings missing) when Dask executes them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydicom.data import get_testdata_file

from vesalius.core import SeriesRef, Volume
from vesalius.findings import codes
from vesalius.findings.model import Finding, Measurement
from vesalius.findings.persist import load_findings
from vesalius.ingest.folder import import_files
from vesalius.io.scan import scan_dicom
from vesalius.pipeline.dask_executor import DaskExecutor
from vesalius.pipeline.jobs import enqueue_routed, run_jobs
from vesalius.pipeline.routing import RoutingRule
from vesalius.store import BlobStore, open_store, sqlite_url

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client() -> Iterator[object]:
    cluster = distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    )
    with cluster, distributed.Client(cluster) as dask_client:
        yield dask_client


def _mean_app(volume: Volume, source: SeriesRef) -> tuple[Finding, ...]:
    mean = float(volume.array.mean())
    return (Finding(codes.LUNG, "mean", "1", source, (Measurement(codes.VOLUME, mean, "mL"),)),)


def test_results_come_back_in_task_order(client: object) -> None:
    """Results of a Dask batch attributed to the wrong task."""
    executor = DaskExecutor(client)  # type: ignore[arg-type]
    assert list(executor.map(lambda x: x * x, list(range(8)))) == [x * x for x in range(8)]
    assert list(executor.map(abs, [])) == []


def test_pipeline_jobs_run_on_dask_and_save_findings(client: object, tmp_path: Path) -> None:
    """A batch run on Dask leaving its job undone or its findings unsaved."""
    store = open_store(sqlite_url(tmp_path / "index.sqlite3"))
    blobs = BlobStore(tmp_path / "blobs")
    files = [Path(str(get_testdata_file("CT_small.dcm")))]
    import_files(files, store=store, blobs=blobs)
    try:
        (routed,) = enqueue_routed(
            store, scan_dicom(files).series, rules=(RoutingRule("mean", modality="CT"),)
        )
        executor = DaskExecutor(client)  # type: ignore[arg-type]
        summary = run_jobs(store, apps={"mean": _mean_app}, executor=executor, blobs=blobs)
        with store.read_session() as session:
            (finding,) = load_findings(session, routed.study_uid)
    finally:
        store.close()
    assert summary.done == 1
    assert finding.source.series_uid == routed.series_uid
