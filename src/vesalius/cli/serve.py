"""``vesalius serve [--config FILE]``: run the DICOM listener until Ctrl-C or SIGTERM.

Opens the index at ``settings.database_url`` (creating it) and the blob store in
``settings.data_dir / "blobs"``, resumes the study-complete timers of studies left open by a
previous run, prints where it listens, and on Ctrl-C or SIGTERM stops accepting, lets the
running associations finish and closes the index.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def serve(
    config: Annotated[
        Path | None, typer.Option("--config", help="Settings file (TOML): AE title, port, peers.")
    ] = None,
    port: Annotated[
        int | None, typer.Option("--port", help="DICOM port; overrides the settings.")
    ] = None,
) -> None:
    """Run the DICOM listener (C-ECHO, C-STORE, C-FIND, C-MOVE, C-GET) until stopped."""
    import dataclasses
    import logging
    import signal
    import threading

    from vesalius.ingest.complete import Notifications, StudyComplete, StudyCompletion
    from vesalius.ingest.dimse.config import ListenerConfig
    from vesalius.ingest.dimse.scp import DicomListener
    from vesalius.settings import load_settings
    from vesalius.store import BlobStore, open_store

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = load_settings(config)
    listener_config = ListenerConfig.from_settings(settings)
    if port is not None:
        listener_config = dataclasses.replace(listener_config, port=port)
    store = open_store(settings.database_url)
    stop = threading.Event()
    bus = Notifications[StudyComplete]()
    bus.subscribe(
        lambda e: typer.echo(f"study complete: {e.study_uid} ({e.n_instances} instances)")
    )
    completion = StudyCompletion(store, quiet_s=settings.study_quiet_s, bus=bus)
    listener = DicomListener(
        listener_config,
        store=store,
        blobs=BlobStore(settings.blob_dir),
        on_stored=lambda s: completion.arrived(s.header.study.study_uid),
    )
    try:
        completion.resume()
        listener.start()
        completion.start()
        typer.echo(
            f"listening as {listener_config.ae_title} on {listener_config.host}:{listener.port}"
            f" (data in {settings.data_dir}); Ctrl-C to stop"
        )
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        stop.wait()
        typer.echo("stopping")
    finally:
        listener.stop()
        completion.stop()
        store.close()
