"""``vesalius info PATH [--json]``: what DICOM studies and series a folder holds.

Reads headers only (no pixel data is decoded). Without ``--json`` prints a Rich table per
study; with ``--json`` prints the :meth:`vesalius.io.summary.DicomSummary.to_json` document.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def info(
    path: Annotated[Path, typer.Argument(help="A DICOM file or a folder (searched recursively).")],
    json_output: Annotated[
        bool, typer.Option("--json", help="Print JSON instead of a table.")
    ] = False,
) -> None:
    """Summarize the DICOM studies and series under PATH (headers only)."""
    import json

    from vesalius.io.summary import summarize_dicom

    summary = summarize_dicom(path)
    if json_output:
        typer.echo(json.dumps(summary.to_json(), indent=2))
        return
    _print_tables(summary)


def _print_tables(summary: object) -> None:
    from rich.console import Console
    from rich.table import Table

    from vesalius.io.summary import DicomSummary

    assert isinstance(summary, DicomSummary)
    console = Console()
    for study in summary.studies:
        table = Table(title=f"Study {study.study_uid}")
        for column in (
            "Series UID",
            "Modality",
            "Description",
            "Files",
            "Shape z,y,x",
            "Spacing mm",
            "Orientation",
            "Problems",
        ):
            table.add_column(column)
        for s in study.series:
            table.add_row(
                s.series_uid,
                s.modality,
                s.description,
                str(s.n_instances),
                "x".join(str(n) for n in s.shape),
                ", ".join(f"{v:.4g}" for v in s.spacing),
                s.orientation,
                "\n".join(str(p) for p in s.problems) or "-",
            )
        console.print(table)
    for obj in summary.non_images:
        console.print(f"non-image: {obj.path} ({obj.sop_class_name}, {obj.reason})")
    for problem in summary.file_problems:
        console.print(f"problem: {problem}")
    if not summary.studies:
        console.print("no DICOM image series found")
