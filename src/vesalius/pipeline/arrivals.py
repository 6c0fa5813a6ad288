"""Analyse a study once it has arrived: route its stored series and run their jobs.

``vesalius serve`` calls :func:`analyse_study` for each study-complete event, so a CT sent
to the listener ends with its findings in the store. It is idempotent: jobs are keyed by
app and series, so a study announced twice (possible after a crash) is analysed once.

Examples
--------
>>> import pathlib, tempfile
>>> from pydicom.data import get_testdata_file
>>> from vesalius.ingest.durable import store_instance
>>> from vesalius.store import BlobStore, open_store, sqlite_url
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> store, blobs = open_store(sqlite_url(root / "i.sqlite3")), BlobStore(root / "blobs")
>>> data = pathlib.Path(get_testdata_file("MR_small.dcm")).read_bytes()
>>> study = store_instance(data, store=store, blobs=blobs).header.study.study_uid
>>> analyse_study(store, blobs, study)  # an MR: no rule routes it, nothing runs
StudyAnalysis(routed=(), done=0, failed=0)
>>> store.close()
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from vesalius.io.scan import scan_dicom
from vesalius.pipeline.apps import Apps, default_apps
from vesalius.pipeline.executors import InlineExecutor
from vesalius.pipeline.jobs import enqueue_routed, run_jobs
from vesalius.pipeline.routing import DEFAULT_RULES, RoutingRule
from vesalius.store import BlobStore, Store
from vesalius.store.index import list_instances

log = logging.getLogger(__name__)

SERVE_WORKER = "vesalius-serve"
"""The worker name jobs run by the server are claimed under."""


@dataclass(frozen=True)
class StudyAnalysis:
    """What :func:`analyse_study` did: the apps routed and how their jobs ended."""

    routed: tuple[str, ...]
    done: int
    failed: int


def analyse_study(
    store: Store,
    blobs: BlobStore,
    study_uid: str,
    *,
    rules: Sequence[RoutingRule] = DEFAULT_RULES,
    apps: Apps | None = None,
) -> StudyAnalysis:
    """Route every series of an indexed study, then run the queued jobs in this thread."""
    with store.read_session() as session:
        paths = [blobs.locate(row.blob_path) for row in list_instances(session, study_uid)]
    routed = enqueue_routed(store, scan_dicom(paths).series, rules=rules)
    if not routed:
        return StudyAnalysis((), 0, 0)
    summary = run_jobs(
        store,
        apps=default_apps() if apps is None else apps,
        executor=InlineExecutor(),
        blobs=blobs,
        worker=SERVE_WORKER,
    )
    log.info("study %s: %d jobs done, %d failed", study_uid, summary.done, summary.failed)
    return StudyAnalysis(tuple(r.app for r in routed), summary.done, summary.failed)
