"""``vesalius batch FOLDER [--out DIR] [--workers N] [--executor KIND]``: analyse a folder.

Imports the folder's DICOM files into the store (the data folder of ``--config``, or
``--out``), routes each series to the analysis apps its header calls for (the settings'
``[[routing]]`` tables, or the built-in rules: thin-slice chest CT goes to ``chest-ct``;
``--rules FILE`` reads ``[[routing]]`` tables from another file), and runs one job per
(series, app) with a progress bar, saving the findings in the store. ``--executor`` picks
where the jobs run: ``threads`` (default; ``--workers`` of them), ``processes``, or ``dask``:
the workers of the Dask scheduler at ``--scheduler tcp://host:port``, or, without
``--scheduler``, a local Dask cluster of ``--workers`` single-threaded worker processes.
Running it again resumes: stored files, routed series and finished jobs are skipped.
Exits 1 when a job of the folder ended failed, 2 on bad input.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from vesalius.pipeline.batch import BatchResult
    from vesalius.pipeline.executors import Executor
    from vesalius.store import Store


def batch(
    folder: Annotated[Path, typer.Argument(help="Folder of DICOM files to analyse.")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Data folder (store); overrides --config.")
    ] = None,
    workers: Annotated[int, typer.Option("--workers", help="Analyses run at once.")] = 2,
    config: Annotated[
        Path | None, typer.Option("--config", help="Settings file (TOML) naming the store.")
    ] = None,
    rules: Annotated[
        Path | None, typer.Option("--rules", help="TOML file of [[routing]] tables.")
    ] = None,
    processes: Annotated[
        bool, typer.Option("--processes", help="Same as --executor processes.")
    ] = False,
    executor: Annotated[
        str, typer.Option("--executor", help="threads, processes or dask.")
    ] = "threads",
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="Dask scheduler address (tcp://host:port)."),
    ] = None,
) -> None:
    """Import a folder, route its series to analysis apps and run them, resumably."""
    from dataclasses import replace

    from rich.progress import Progress

    from vesalius.errors import InputError
    from vesalius.pipeline.apps import default_apps
    from vesalius.pipeline.batch import BatchHooks, batch_folder
    from vesalius.pipeline.routing import load_rules, rules_from_settings
    from vesalius.settings import load_settings
    from vesalius.store import BlobStore, open_store

    if workers < 1:
        raise InputError(None, f"--workers must be at least 1, got {workers}")
    kind = "processes" if processes else executor
    _check_executor(kind, scheduler)
    if not folder.is_dir():
        raise InputError(folder, "not a folder" if folder.exists() else "no such folder")
    settings = load_settings(config)
    routing = rules_from_settings(settings) if rules is None else load_rules(rules)
    if out is not None:
        settings = replace(settings, data_dir=out, database_url="")
    store = open_store(settings.database_url)
    try:
        with Progress(transient=False) as progress, _executor(kind, workers, scheduler) as pool:
            task = progress.add_task("analyses", total=None)
            hooks = BatchHooks(
                on_start=lambda n: progress.update(task, total=n),
                on_outcome=lambda _o, state: progress.advance(task, int(state != "queued")),
            )
            result = batch_folder(
                folder,
                store=store,
                blobs=BlobStore(settings.blob_dir),
                apps=default_apps(),
                executor=pool,
                rules=routing,
                hooks=hooks,
            )
        _report(result, store)
    finally:
        store.close()


EXECUTORS = ("threads", "processes", "dask")


def _check_executor(kind: str, scheduler: str | None) -> None:
    from vesalius.errors import ConfigError

    if kind not in EXECUTORS:
        raise ConfigError(f"--executor must be one of {', '.join(EXECUTORS)}, found {kind!r}")
    if scheduler is not None and kind != "dask":
        raise ConfigError("--scheduler goes with --executor dask")


@contextmanager
def _executor(kind: str, workers: int, scheduler: str | None) -> Iterator[Executor]:
    """The executor ``kind`` names, closed (with its local Dask cluster) on the way out."""
    from vesalius.pipeline.executors import LocalExecutor, ProcessExecutor

    if kind != "dask":
        with (ProcessExecutor if kind == "processes" else LocalExecutor)(workers=workers) as pool:
            yield pool
        return
    with _dask_client(workers, scheduler) as client:
        from vesalius.pipeline.dask_executor import DaskExecutor

        yield DaskExecutor(client)


@contextmanager
def _dask_client(workers: int, scheduler: str | None) -> Iterator[Any]:
    from vesalius.errors import ConfigError
    from vesalius.pipeline.dask_executor import INSTALL_HINT

    try:
        import distributed
    except ImportError:
        raise ConfigError(INSTALL_HINT) from None
    if scheduler is not None:
        try:
            client = distributed.Client(scheduler, timeout="10s")  # type: ignore[no-untyped-call]
        except OSError as err:
            raise ConfigError(f"cannot reach the Dask scheduler {scheduler}: {err}") from None
        with client:
            yield client
        return
    cluster = distributed.LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
    )
    with cluster, distributed.Client(cluster) as client:  # type: ignore[no-untyped-call]
        yield client


def _report(result: BatchResult, store: Store) -> None:
    from vesalius.store import JobState
    from vesalius.store.models import Job

    imported = result.imported
    typer.echo(f"imported {imported.stored} new files ({imported.duplicates} already stored)")
    for problem in imported.problems:
        typer.echo(f"  not imported {problem.path}: {problem.problem}")
    new = sum(r.created for r in result.routed)
    typer.echo(f"{len(result.routed)} jobs routed ({new} new); {len(result.unrouted)} not routed")
    for series in result.unrouted:
        typer.echo(f"  not routed: {series.modality} {series.series_uid} {series.description}")
    run = result.run
    typer.echo(f"ran: {run.done} done, {run.failed} failed, {run.retried} retried")
    failed = False
    with store.read_session() as session:
        for routed in result.routed:
            job = session.get_one(Job, routed.job_id)
            typer.echo(f"  {routed.app} {routed.series_uid}: {job.state.value}")
            if job.state is JobState.FAILED:
                failed = True
                typer.echo(f"    reason: {job.reason}")
    if failed:
        raise typer.Exit(1)
