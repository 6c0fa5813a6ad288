"""``vesalius calcium PATH [--series UID] [--json]``: coronary calcium score of a chest CT.

``PATH`` is a DICOM file or folder holding an axial non-contrast CT series, or a NIfTI file
in HU. Prints the Agatston, volume (and, with ``--mass-calibration``, mass) scores, the
CAC-DRS grade and a table of the lesions, or the whole result as JSON with ``--json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from vesalius.analyze.cardiac_ct import CalciumScore


def calcium(
    path: Annotated[Path, typer.Argument(help="DICOM file or folder, or a NIfTI file, in HU.")],
    series: Annotated[str | None, typer.Option("--series", help="Series Instance UID.")] = None,
    margin_mm: Annotated[
        float, typer.Option("--margin-mm", help="Farthest a lesion may lie from the heart.")
    ] = 8.0,
    mass_calibration: Annotated[
        float | None,
        typer.Option("--mass-calibration", help="mg hydroxyapatite per ml per HU (mass score)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Score coronary artery calcium (Agatston, volume, CAC-DRS) on a non-contrast chest CT."""
    import json

    from vesalius.analyze.cardiac_ct import score_calcium
    from vesalius.errors import UnsupportedError
    from vesalius.io.dicom_read import read_dicom
    from vesalius.io.nifti import is_nifti_path, read_nifti

    volume = (
        read_nifti(path, modality="CT")
        if is_nifti_path(path)
        else read_dicom(path, series_uid=series).volume
    )
    try:
        result = score_calcium(volume, margin_mm=margin_mm, mass_calibration=mass_calibration)
    except UnsupportedError as err:
        raise UnsupportedError(path, err.problem) from None
    if as_json:
        typer.echo(json.dumps(result.to_json(), indent=2))
        return
    _print(path, result)


def _print(path: Path, result: CalciumScore) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    mass = "" if result.mass_mg is None else f", mass {result.mass_mg:.1f} mg"
    console.print(
        f"[bold]{path.name}[/bold]: Agatston {result.agatston:.1f}, volume "
        f"{result.volume_mm3:.1f} mm³{mass}, CAC-DRS {result.cac_drs.label}"
    )
    console.print(result.equivalence)
    table = Table(title="Calcified lesions (AI output, territory from position)")
    for column in ("#", "territory", "Agatston", "volume mm³", "max HU", "slices", "LPS mm"):
        table.add_column(column)
    for les in result.lesions:
        table.add_row(
            str(les.id),
            les.territory,
            f"{les.agatston:.1f}",
            f"{les.volume_mm3:.1f}",
            f"{les.max_hu:.0f}",
            str(les.n_slices),
            ", ".join(f"{v:.1f}" for v in les.centre_lps_mm),
        )
    console.print(table)
