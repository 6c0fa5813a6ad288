"""``vesalius send PATH --to PEER``: C-STORE the DICOM files under PATH to a peer.

The peer is a ``[[peers]]`` entry of the settings, by name or AE title. Files that are not
DICOM, or that the peer refuses, are listed; the exit code is 1 if any file was not stored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def send(
    path: Annotated[Path, typer.Argument(help="A DICOM file or a folder (searched recursively).")],
    to: Annotated[str, typer.Option("--to", help="The peer: its name in the settings.")],
    config: Annotated[Path | None, typer.Option("--config", help="Settings file (TOML).")] = None,
    associations: Annotated[
        int, typer.Option("--associations", "-j", min=1, max=16, help="Parallel associations.")
    ] = 1,
) -> None:
    """Send DICOM files to a peer (C-STORE)."""
    from vesalius.ingest.dimse.scu import send_files
    from vesalius.ingest.folder import iter_files
    from vesalius.settings import load_settings

    settings = load_settings(config)
    peer = settings.peer(to)
    files = list(iter_files(path))
    result = send_files(files, peer, calling_ae=settings.ae_title, associations=associations)
    for problem in result.problems:
        typer.echo(f"not sent: {problem.path}: {problem.problem}", err=True)
    typer.echo(f"sent {result.sent} of {len(files)} files to {peer.name} ({peer.ae_title})")
    if result.problems:
        raise typer.Exit(1)
