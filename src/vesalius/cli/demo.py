"""``vesalius demo``: the embedded default end to end, on phantoms and the shared real CT.

Today the demo writes the three phantom studies with their ground truth, imports them (and
the real lung CT from ``../shared/data`` when it is there) into a fresh store through the
durable ingest path, reads every series back into a volume, and prints what it found.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from vesalius.store import Store

PHANTOMS = ("chest-ct", "brain-mr", "pet-ct")


def _write_phantoms(root: Path, seed: int, console: Console) -> None:
    from vesalius.cli.phantom import write_phantom

    for kind in PHANTOMS:
        with console.status(f"writing the {kind} phantom"):
            lines = write_phantom(kind, root / kind, seed=seed)
        console.print(f"[bold]{kind}[/bold] phantom: " + "; ".join(lines[:3]))


def _sources(phantoms: Path) -> list[Path]:
    from vesalius.cli.shared_data import find_shared

    sources = [phantoms]
    real_ct = find_shared("lung_ct_pat1", "dicom")
    if real_ct is not None:
        sources.append(real_ct)
    return sources


def _import(sources: list[Path], store: Store, data_dir: Path, console: Console) -> None:
    from vesalius.ingest.folder import import_files, iter_files
    from vesalius.store import BlobStore

    files = [f for src in sources for f in iter_files(src) if f.suffix == ".dcm"]
    with console.status(f"importing {len(files)} DICOM files"):
        result = import_files(files, store=store, blobs=BlobStore(data_dir / "blobs"))
    console.print(
        f"imported {result.stored} new instances ({result.duplicates} already stored) "
        f"in {len(result.study_uids)} studies"
    )
    for problem in result.problems:
        console.print(f"[yellow]not imported[/yellow] {problem.path}: {problem.problem}")


def _studies_table(store: Store, console: Console) -> None:
    from rich.table import Table

    from vesalius.store import StudyQuery, list_studies

    with store.read_session() as session:
        page = list_studies(session, StudyQuery(limit=100))
    table = Table(title=f"{page.total} studies in the index")
    for column in ("Patient", "Study date", "Modalities", "Series", "Instances"):
        table.add_column(column)
    for study in page.items:
        table.add_row(
            study.patient_id,
            str(study.study_date or ""),
            ", ".join(study.modalities),
            str(study.n_series),
            str(study.n_instances),
        )
    console.print(table)


def _volumes_table(sources: list[Path], console: Console) -> None:
    from rich.table import Table

    from vesalius.io.dicom_read import read_series
    from vesalius.io.scan import scan_dicom

    table = Table(title="Series read back as volumes")
    for column in ("Modality", "Shape z,y,x", "Spacing mm", "Value range", "Problems"):
        table.add_column(column)
    for source in sources:
        for series in scan_dicom(source).series:
            read = read_series(series)
            vol = read.volume
            table.add_row(
                vol.modality,
                "x".join(map(str, vol.shape)),
                ", ".join(f"{s:.3g}" for s in vol.spacing),
                f"{vol.array.min():.0f} .. {vol.array.max():.0f}",
                ", ".join(str(p.code) for p in read.problems) or "-",
            )
    console.print(table)


def demo(
    out: Annotated[Path, typer.Option(help="Folder for the demo's phantoms and store.")] = Path(
        "vesalius-demo"
    ),
    seed: Annotated[int, typer.Option(help="Seed of the phantoms.")] = 0,
) -> None:
    """Write phantom studies, ingest them into a fresh store, and summarize what is there."""
    from rich.console import Console

    from vesalius.errors import InputError
    from vesalius.settings import Settings
    from vesalius.store import open_store

    if out.exists() and not out.is_dir():
        raise InputError(out, "exists and is not a folder")
    console = Console()
    settings = Settings(data_dir=out / "store")
    _write_phantoms(out / "phantoms", seed, console)
    sources = _sources(out / "phantoms")
    store = open_store(settings.database_url)
    try:
        _import(sources, store, settings.data_dir, console)
        _studies_table(store, console)
    finally:
        store.close()
    _volumes_table(sources, console)
    console.print(f"index: {settings.database_url}\nphantoms and ground truth: {out / 'phantoms'}")
