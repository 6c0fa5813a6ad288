"""Batch a folder: import it into the store, route its series, run the routed jobs.

Every step can be repeated safely: importing a file already stored is a duplicate, a
series routed again refers to its existing job, and a done job is not run again. So
running :func:`batch_folder` twice does nothing new the second time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from vesalius.errors import ConfigError, InputError
from vesalius.ingest.folder import ImportResult, import_files, iter_files
from vesalius.io.scan import scan_dicom
from vesalius.pipeline.apps import Apps
from vesalius.pipeline.executors import Executor
from vesalius.pipeline.jobs import (
    JobOutcome,
    RoutedJob,
    RunSummary,
    enqueue_routed,
    requeue_abandoned,
    run_jobs,
)
from vesalius.pipeline.routing import DEFAULT_RULES, RoutingRule, route
from vesalius.store import BlobStore, JobState, Store
from vesalius.store.models import Job

log = logging.getLogger(__name__)

BATCH_WORKER = "vesalius-batch"
"""The worker name batch runs claim jobs under."""


@dataclass(frozen=True)
class Unrouted:
    """A series no rule sends anywhere."""

    series_uid: str
    modality: str
    description: str


@dataclass(frozen=True)
class BatchResult:
    """What :func:`batch_folder` did at each step."""

    imported: ImportResult
    routed: tuple[RoutedJob, ...]
    unrouted: tuple[Unrouted, ...]
    run: RunSummary


@dataclass(frozen=True)
class BatchHooks:
    """Progress callbacks: jobs about to run, then each job's outcome and new state."""

    on_start: Callable[[int], None] | None = None
    on_outcome: Callable[[JobOutcome, JobState], None] | None = None


def queued_jobs(store: Store, apps: Apps) -> int:
    """How many jobs of ``apps`` wait in the queue."""
    with store.read_session() as session:
        stmt = select(func.count()).where(Job.state == JobState.QUEUED, Job.kind.in_(list(apps)))
        return int(session.scalar(stmt) or 0)


def batch_folder(
    folder: Path,
    *,
    store: Store,
    blobs: BlobStore,
    apps: Apps,
    executor: Executor,
    rules: Sequence[RoutingRule] = DEFAULT_RULES,
    max_attempts: int = 3,
    hooks: BatchHooks = BatchHooks(),
    worker: str = BATCH_WORKER,
) -> BatchResult:
    """Import ``folder``, route its series to ``apps`` and run the jobs.

    Jobs a previous, interrupted run under the name ``worker`` left running are given back
    to the queue first (so do not run two batches on one store under the same name).

    Raises
    ------
    ConfigError
        A rule names an app that is not in ``apps``.
    InputError
        ``folder`` is not a folder, or it holds no DICOM image series.
    """
    unknown = sorted({rule.app for rule in rules} - set(apps))
    if unknown:
        raise ConfigError(f"routing rules name unknown apps {unknown}; known: {sorted(apps)}")
    if not folder.is_dir():
        raise InputError(folder, "not a folder" if folder.exists() else "no such folder")
    imported = import_files(iter_files(folder), store=store, blobs=blobs)
    scan = scan_dicom(folder)
    if not scan.series:
        raise InputError(folder, "no DICOM image series found")
    routed = enqueue_routed(store, scan.series, rules=rules, max_attempts=max_attempts)
    unrouted = tuple(
        Unrouted(s.series_uid, s.modality, s.description)
        for s in scan.series
        if not route(s.first_header, rules)
    )
    requeue_abandoned(store, worker=worker, kinds=apps)
    if hooks.on_start is not None:
        hooks.on_start(queued_jobs(store, apps))
    summary = run_jobs(
        store,
        apps=apps,
        executor=executor,
        blobs=blobs,
        worker=worker,
        on_outcome=hooks.on_outcome,
    )
    return BatchResult(imported, routed, unrouted, summary)
