"""``vesalius batch FOLDER [--out DIR] [--workers N]``: analyse every routed series of a folder.

Imports the folder's DICOM files into the store (the data folder of ``--config``, or
``--out``), routes each series to the analysis apps its header calls for (thin-slice chest
CT goes to ``chest-ct``; ``--rules FILE`` reads ``[[routing]]`` tables instead), and runs
one job per (series, app) on ``--workers`` threads (``--processes``: processes) with a
progress bar, saving the findings
in the store. Running it again resumes: stored files, routed series and finished jobs are
skipped. Exits 1 when a job of the folder ended failed, 2 on bad input.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from vesalius.pipeline.batch import BatchResult
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
        bool, typer.Option("--processes", help="Run the analyses in processes, not threads.")
    ] = False,
) -> None:
    """Import a folder, route its series to analysis apps and run them, resumably."""
    from dataclasses import replace

    from rich.progress import Progress

    from vesalius.errors import InputError
    from vesalius.pipeline.apps import default_apps
    from vesalius.pipeline.batch import BatchHooks, batch_folder
    from vesalius.pipeline.executors import LocalExecutor, ProcessExecutor
    from vesalius.pipeline.routing import load_rules, rules_from_settings
    from vesalius.settings import load_settings
    from vesalius.store import BlobStore, open_store

    if workers < 1:
        raise InputError(None, f"--workers must be at least 1, got {workers}")
    if not folder.is_dir():
        raise InputError(folder, "not a folder" if folder.exists() else "no such folder")
    settings = load_settings(config)
    routing = rules_from_settings(settings) if rules is None else load_rules(rules)
    if out is not None:
        settings = replace(settings, data_dir=out, database_url="")
    store = open_store(settings.database_url)
    try:
        pool_kind = ProcessExecutor if processes else LocalExecutor
        with Progress(transient=False) as progress, pool_kind(workers=workers) as pool:
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
