"""``vesalius analyze PATH --out DIR [--series UID] [--json]``: run the CT analyses.

Reads the CT series in ``PATH`` (a DICOM folder or file; with several series, the CT
series with the most slices, or ``--series``), runs coronary calcium scoring and the lung
and emphysema analysis, and writes ``DIR/findings.json`` (the findings, marked as AI
output with the algorithm and version), ``DIR/lungs.nii.gz`` (the lung label map on the
CT's grid: 1 left, 2 right, 3 airway) and ``DIR/summary.txt``. An analysis that refuses the
CT is reported as skipped with its reason. With ``--json``, findings.json goes to stdout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def analyze(
    path: Annotated[Path, typer.Argument(help="DICOM folder or file holding a CT series.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the results.")],
    series: Annotated[str | None, typer.Option("--series", help="Series Instance UID.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print findings.json to stdout.")] = False,
) -> None:
    """Analyse a chest CT: coronary calcium, lung volumes and emphysema, as findings."""
    from vesalius.errors import InputError
    from vesalius.findings.run import analyze_ct, findings_json, pick_ct_series, write_outputs
    from vesalius.io.dicom_read import read_series
    from vesalius.io.scan import scan_dicom

    if not path.exists():
        raise InputError(path, "no such file or folder")
    chosen = pick_ct_series(scan_dicom(path), series_uid=series, where=path)
    volume = read_series(chosen).volume
    if volume.source is None:  # pragma: no cover - read_series always sets it
        raise InputError(path, "the series has no study/series UIDs")
    run = analyze_ct(volume, source=volume.source)
    written = write_outputs(run, out)
    if as_json:
        typer.echo(findings_json(run.findings))
        return
    typer.echo(f"{len(run.findings)} AI findings on series {chosen.series_uid}")
    for finding in run.findings:
        typer.echo(f"  {finding.description}")
    for skipped in run.skipped:
        typer.echo(f"  skipped {skipped.analysis}: {skipped.reason}")
    typer.echo("wrote " + ", ".join(str(p) for p in written))
