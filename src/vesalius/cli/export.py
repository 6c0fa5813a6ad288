"""``vesalius export STUDY_UID --to seg|sr|fhir|pdf|mesh|pmap``: export a study from the store.

Writes the files into ``--out`` (by default the study's folder under the exports
directory: ``[export] out_dir`` or ``data_dir/exports``) and prints one line per file.
``pmap`` writes the AI's probability maps as DICOM Parametric Maps (what OHIF overlays).
``--send PEER`` sends DICOM exports (SEG, SR, Parametric Map) to a ``[[peers]]`` name
(C-STORE) or a DICOMweb URL (STOW-RS, signed in with ``[[export.credentials]]``);
``--fhir-endpoint URL`` posts the FHIR bundle to a FHIR server (token from
``VESALIUS_FHIR_TOKEN``). Meshes are one STL per segment, or one OBJ or glTF
(``--format``); STL and OBJ are in LPS millimetres unless ``--frame RAS``; ``--smooth N``
smooths them (N Taubin passes) to remove the voxel steps.

An unknown study, a study with nothing to export, no segmentation for ``seg`` or
``mesh``, or no probability map for ``pmap`` is a one-line error with exit code 2; a
destination that cannot be reached, or refuses what was sent, exits with code 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

KindOption = Literal["seg", "sr", "fhir", "pdf", "mesh", "pmap"]


def export(
    study_uid: Annotated[str, typer.Argument(help="Study Instance UID of a stored study.")],
    to: Annotated[KindOption, typer.Option("--to", help="What to export.")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder for the files (default: exports dir).")
    ] = None,
    send: Annotated[
        str | None,
        typer.Option("--send", help="Send SEG/SR to this peer name or DICOMweb URL."),
    ] = None,
    fhir_endpoint: Annotated[
        str | None, typer.Option("--fhir-endpoint", help="Post the FHIR bundle to this URL.")
    ] = None,
    mesh_format: Annotated[
        Literal["stl", "obj", "glb"], typer.Option("--format", help="Mesh file format.")
    ] = "stl",
    frame: Annotated[
        Literal["LPS", "RAS"], typer.Option("--frame", help="Frame of STL/OBJ meshes.")
    ] = "LPS",
    smooth: Annotated[
        int, typer.Option("--smooth", min=0, max=100, help="Mesh smoothing passes (Taubin).")
    ] = 0,
    config: Annotated[Path | None, typer.Option("--config", help="Settings file (TOML).")] = None,
) -> None:
    """Export a study's results: DICOM SEG, SR or Parametric Map, FHIR, a PDF report, meshes."""
    from vesalius.export.dispatch import MeshOptions, export_study, study_export_dir
    from vesalius.export.send import send_exports
    from vesalius.settings import load_settings
    from vesalius.store import BlobStore, open_store

    settings = load_settings(config)
    folder = out if out is not None else study_export_dir(settings, study_uid)
    store = open_store(settings.database_url)
    try:
        files = export_study(
            store,
            BlobStore(settings.blob_dir),
            study_uid,
            to,
            folder,
            mesh=MeshOptions(mesh_format, frame, smooth),
        )
    finally:
        store.close()
    for file in files:
        typer.echo(f"wrote {file.path} ({file.media_type})")
    reports = send_exports(files, settings, dicom_to=send or "", fhir_endpoint=fhir_endpoint or "")
    failed = False
    for report in reports:
        typer.echo(f"sent {report.sent} to {report.destination}")
        for problem in report.failed:
            typer.echo(f"not stored: {problem}", err=True)
            failed = True
    if failed:
        raise typer.Exit(1)
