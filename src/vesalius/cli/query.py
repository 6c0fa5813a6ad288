"""``vesalius query PEER [--patient-id ID] [--patient-name NAME] [--json]``: C-FIND a peer.

Prints the studies (or, with ``--study``, the series of one study) the peer holds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def query(
    peer: Annotated[str, typer.Argument(help="The peer: its name in the settings.")],
    patient_id: Annotated[str, typer.Option("--patient-id", help="PatientID (wildcards).")] = "",
    patient_name: Annotated[
        str, typer.Option("--patient-name", help="PatientName (wildcards: Doe*).")
    ] = "",
    study_date: Annotated[
        str, typer.Option("--date", help="StudyDate or range: 20240101-20240131.")
    ] = "",
    study: Annotated[
        str, typer.Option("--study", help="List the series of this Study Instance UID.")
    ] = "",
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    config: Annotated[Path | None, typer.Option("--config", help="Settings file (TOML).")] = None,
) -> None:
    """Ask a peer which studies (or series) it has (C-FIND, Study Root)."""
    import dataclasses
    import json

    from rich.console import Console
    from rich.table import Table

    from vesalius.ingest.dimse.catalog import Level
    from vesalius.ingest.dimse.scu_retrieve import PeerQuery, find
    from vesalius.settings import load_settings

    settings = load_settings(config)
    level = Level.SERIES if study else Level.STUDY
    request = PeerQuery(
        level=level,
        patient_id=patient_id,
        patient_name=patient_name,
        study_date=study_date,
        study_uid=study,
    )
    matches = find(settings.peer(peer), request, calling_ae=settings.ae_title)
    if json_output:
        rows = [dataclasses.asdict(m) for m in matches]
        typer.echo(json.dumps(rows, indent=2, default=str))
        return
    columns: tuple[str, ...] = (
        "patient_id",
        "patient_name",
        "study_date",
        "study_uid",
        "modalities",
        "n_instances",
    )
    if study:
        columns = ("series_number", "series_uid", "modalities", "description", "n_instances")
    table = Table(*columns, title=f"{len(matches)} {level.value.lower()} matches on {peer}")
    for m in matches:
        table.add_row(*(_cell(getattr(m, c)) for c in columns))
    Console().print(table)


def _cell(value: object) -> str:
    if isinstance(value, tuple):
        return "\\".join(str(v) for v in value)
    return "" if value is None else str(value)
