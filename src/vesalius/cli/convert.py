"""``vesalius convert IN OUT [--series UID]``: DICOM series to NIfTI, or NIfTI to NIfTI.

- ``IN`` a DICOM file or folder, ``OUT`` ending in ``.nii``/``.nii.gz``: writes that one file;
  if ``IN`` holds several image series, ``--series`` must name one.
- ``IN`` a DICOM folder, ``OUT`` any other name: ``OUT`` is a folder that receives one
  ``series_001.nii.gz``, ``series_002.nii.gz``... per image series, in the order of
  ``vesalius info`` (or only ``--series``); each written file is printed with its Series
  Instance UID. (File names never come from DICOM values.)
- ``IN`` a NIfTI file: re-written to ``OUT`` (``.nii``/``.nii.gz``), e.g. to compress it.
  Writing DICOM from NIfTI is not done by this command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def convert(
    source: Annotated[Path, typer.Argument(help="DICOM file/folder, or a NIfTI file.")],
    output: Annotated[Path, typer.Argument(help="A .nii/.nii.gz file, or a folder.")],
    series: Annotated[str | None, typer.Option("--series", help="Series Instance UID.")] = None,
    resample_irregular: Annotated[
        bool,
        typer.Option(
            "--resample-irregular", help="Resample irregular slice spacing onto a regular grid."
        ),
    ] = False,
) -> None:
    """Convert a DICOM series to NIfTI (see the module docstring for the rules)."""
    from vesalius.errors import UnsupportedError
    from vesalius.io.nifti import is_nifti_path, read_nifti, write_nifti

    if is_nifti_path(source):
        if not is_nifti_path(output):
            raise UnsupportedError(output, "convert writes NIfTI only: name OUT .nii or .nii.gz")
        write_nifti(read_nifti(source), output)
        typer.echo(f"wrote {output}")
        return
    if is_nifti_path(output):
        _one_series(source, output, series, resample_irregular)
    else:
        _every_series(source, output, series, resample_irregular)


def _one_series(source: Path, output: Path, series: str | None, resample: bool) -> None:
    from vesalius.io.dicom_read import read_dicom
    from vesalius.io.nifti import write_nifti

    result = read_dicom(source, series_uid=series, resample_irregular=resample)
    write_nifti(result.volume, output)
    _report(output, result.problems)


def _every_series(source: Path, output: Path, series: str | None, resample: bool) -> None:
    from vesalius.errors import DicomReadError, InputError
    from vesalius.io.dicom_read import read_series
    from vesalius.io.nifti import write_nifti
    from vesalius.io.scan import scan_dicom

    scan = scan_dicom(source)
    chosen = [scan.get(series)] if series is not None else list(scan.series)
    if not chosen:
        raise DicomReadError(source, "no readable DICOM image series")
    if output.exists() and not output.is_dir():
        raise InputError(output, "exists and is not a folder (name it .nii/.nii.gz for a file)")
    output.mkdir(parents=True, exist_ok=True)
    for number, item in enumerate(chosen, start=1):
        result = read_series(item, resample_irregular=resample)
        target = output / f"series_{number:03d}.nii.gz"
        write_nifti(result.volume, target)
        _report(target, result.problems, f" (series {item.series_uid}, {item.modality})")


def _report(target: Path, problems: tuple[object, ...], what: str = "") -> None:
    typer.echo(f"wrote {target}{what}")
    for problem in problems:
        typer.echo(f"  problem: {problem}", err=True)
