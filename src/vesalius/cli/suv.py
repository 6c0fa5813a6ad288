"""``vesalius suv``: the SUVbw factor of a PET series, from one of its DICOM files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def suv(
    path: Annotated[Path, typer.Argument(help="A DICOM file of the PET series.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Print the SUVbw factor of a PET image and the doses and times it comes from."""
    import json
    from dataclasses import asdict
    from datetime import datetime

    from pydicom import dcmread
    from pydicom.errors import InvalidDicomError
    from rich.console import Console
    from rich.table import Table

    from vesalius.errors import DicomReadError
    from vesalius.standardize import suv_factor

    try:
        header = dcmread(path, stop_before_pixels=True)
    except (OSError, InvalidDicomError) as err:
        raise DicomReadError(path, f"cannot read as DICOM: {err}") from None
    if header.get("Modality") not in ("PT", None):
        raise DicomReadError(path, f"not a PET image (Modality {header.get('Modality')!r})")
    result = suv_factor(header, source=path)
    fields = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(result).items()}
    if as_json:
        typer.echo(json.dumps(fields, indent=2))
        return
    table = Table(title=f"SUVbw of {path.name}")
    table.add_column("field")
    table.add_column("value")
    for key, value in fields.items():
        table.add_row(key, f"{value:.6g}" if isinstance(value, float) else str(value))
    Console().print(table)
