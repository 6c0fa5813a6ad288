"""``vesalius demo``: the embedded default end to end, on phantoms and the shared real CT.

The demo writes the three phantom studies with their ground truth, imports them (and the
real lung CT from ``../shared/data`` when it is there) into a fresh store through the
durable ingest path, reads every series back into a volume, runs the chest and cardiac CT
analyses on the chest phantom, saves their findings in the store, and prints what it found
next to the phantom's truth. A second run reuses what the first stored.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from vesalius.findings.model import Finding
    from vesalius.store import Store

PHANTOMS = ("chest-ct", "brain-mr", "pet-ct")
SIZES = {"chest-ct": "60x176x176"}  # fine enough in-plane for the calcium and lung analyses


def _write_phantoms(root: Path, seed: int, console: Console) -> None:
    from vesalius.cli.phantom import write_phantom

    for kind in PHANTOMS:
        with console.status(f"writing the {kind} phantom"):
            lines = write_phantom(kind, root / kind, seed=seed, size=SIZES.get(kind, "small"))
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


def _chest_findings(phantom: Path, store: Store, console: Console) -> tuple[Finding, ...]:
    """The chest phantom's findings: from the store if a run saved them, else analysed now."""
    from vesalius.errors import InputError
    from vesalius.findings.persist import load_findings, save_findings
    from vesalius.findings.run import analyze_ct
    from vesalius.io.dicom_read import read_dicom

    read = read_dicom(phantom / "ct")
    source = read.volume.source
    if source is None:
        raise InputError(phantom / "ct", "the series has no study and series UIDs")
    with store.read_session() as session:
        saved = tuple(load_findings(session, source.study_uid))
    if saved:
        return saved
    with console.status("analysing the chest CT phantom (lungs, emphysema, calcium)"):
        run = analyze_ct(read.volume, source=source)
    with store.session() as session:
        save_findings(session, run.findings)
    for skipped in run.skipped:
        console.print(f"[yellow]skipped[/yellow] {skipped.analysis}: {skipped.reason}")
    return run.findings


def _findings_table(phantom: Path, findings: tuple[Finding, ...], console: Console) -> None:
    import json

    from rich.table import Table

    table = Table(title=f"{len(findings)} AI findings in the store, awaiting review")
    for column in ("Finding", "Where", "Measurements", "Category"):
        table.add_column(column)
    for f in findings:
        loc = f.location
        where = "" if loc is None else f"{loc.laterality or ''} {loc.site.meaning}".strip()
        values = ", ".join(f"{m.value:.4g} {m.unit}".removesuffix(" 1") for m in f.measurements)
        categories = ", ".join(f"{c.system} {c.value}" for c in f.categories)
        table.add_row(f.finding_type.meaning, where, values, categories)
    console.print(table)
    truth = json.loads((phantom / "ground_truth.json").read_text(encoding="utf-8"))["truth"]
    lungs = ", ".join(f"{lung['side']} {lung['volume_ml']:.0f} mL" for lung in truth["lungs"])
    console.print(f"phantom truth: Agatston {truth['agatston_total_written']:.1f}; lungs {lungs}")


def demo(
    out: Annotated[Path, typer.Option(help="Folder for the demo's phantoms and store.")] = Path(
        "vesalius-demo"
    ),
    seed: Annotated[int, typer.Option(help="Seed of the phantoms.")] = 0,
) -> None:
    """Write phantom studies, ingest them, analyse the chest CT, and summarize what is there."""
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
        chest = out / "phantoms" / "chest-ct"
        _findings_table(chest, _chest_findings(chest, store, console), console)
    finally:
        store.close()
    _volumes_table(sources, console)
    console.print(f"index: {settings.database_url}\nphantoms and ground truth: {out / 'phantoms'}")
