"""``vesalius retrieve PEER STUDY_UID [--move]``: bring a study from a peer into the store.

By default C-GET: the instances come back over the same association and each is stored
durably before it is acknowledged. With ``--move``, C-MOVE: the peer sends them to our AE
title (which it must know) at our listener; a temporary listener is started for the
retrieve unless ``--no-listen`` says that ``vesalius serve`` is already running.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def retrieve(
    peer: Annotated[str, typer.Argument(help="The peer: its name in the settings.")],
    study_uid: Annotated[str, typer.Argument(help="Study Instance UID to retrieve.")],
    move: Annotated[bool, typer.Option("--move", help="Use C-MOVE instead of C-GET.")] = False,
    listen: Annotated[
        bool, typer.Option("--listen/--no-listen", help="With --move: start our listener.")
    ] = True,
    config: Annotated[Path | None, typer.Option("--config", help="Settings file (TOML).")] = None,
) -> None:
    """Retrieve a study from a peer (C-GET, or C-MOVE to us) into the store."""
    from contextlib import ExitStack

    from vesalius.ingest.dimse.config import ListenerConfig
    from vesalius.ingest.dimse.scp import DicomListener
    from vesalius.ingest.dimse.scu_retrieve import get_study, move_study
    from vesalius.settings import load_settings
    from vesalius.store import BlobStore, open_store

    settings = load_settings(config)
    source = settings.peer(peer)
    with ExitStack() as stack:
        store = open_store(settings.database_url)
        stack.callback(store.close)
        blobs = BlobStore(settings.blob_dir)
        if not move:
            result = get_study(
                source,
                study_uid,
                calling_ae=settings.ae_title,
                store=store,
                blobs=blobs,
                min_free_bytes=settings.min_free_bytes,
            )
        else:
            if listen:
                listener = DicomListener(
                    ListenerConfig.from_settings(settings), store=store, blobs=blobs
                )
                stack.enter_context(listener)
            result = move_study(
                source, study_uid, calling_ae=settings.ae_title, destination_ae=settings.ae_title
            )
    typer.echo(
        f"retrieved {result.completed} instances of {study_uid} from {source.name}"
        f" ({result.failed} failed, {result.warning} warnings)"
    )
    if result.failed:
        raise typer.Exit(1)
