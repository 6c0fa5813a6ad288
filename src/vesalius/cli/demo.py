"""``vesalius demo``: the whole path, scanner to worklist, on phantoms and the shared real CT.

The demo writes the three phantom studies with their ground truth (chest CT, brain MR,
PET/CT), starts the real server (``vesalius serve``: SQLite index, file store, DICOM listener
and web UI on 127.0.0.1) with a settings file of its own, sends every study, and the real
lung CT from ``../shared/data`` when it is there, through the server's DICOM listener as a
modality would, waits while the studies complete and the analyses run (with progress), then
prints the studies, the AI findings, the ranked worklist and the report states, the web UI's
address and the one-time admin password. It keeps serving until Ctrl-C; ``--headless``
prints the summary and exits 0 instead. A second run stores nothing twice.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vesalius.cli.server_process import ServerError, ServerProcess, parse_http, parse_listening
from vesalius.settings import load_settings

if TYPE_CHECKING:
    from rich.console import Console

    from vesalius.store import Store

PHANTOMS = ("chest-ct", "brain-mr", "pet-ct")
CALLING_AE = "VESALIUS-DEMO"
QUIET_S = 2.0  # the demo sends whole studies at once: no need to wait a minute
ANALYSIS_TIMEOUT_S = 600.0
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


def _write_config(out: Path) -> Path:
    """The demo's settings: a store under ``out``, everything on the loopback, short quiet."""
    from vesalius.io.atomic import write_bytes_atomic

    config = out / "vesalius.toml"
    text = (
        "# Settings of `vesalius demo` (rewritten by each run).\n"
        'data_dir = "store"\n'
        'dicom_host = "127.0.0.1"\n'
        'http_host = "127.0.0.1"\n'
        f"study_quiet_s = {QUIET_S}\n"
        f'allowed_calling_aes = ["{CALLING_AE}"]\n'
    )
    write_bytes_atomic(config, text.encode())
    return config


def _study_files(sources: list[Path]) -> dict[str, list[Path]]:
    """The DICOM files of each study found in ``sources``, by Study Instance UID."""
    from vesalius.io.scan import scan_dicom

    studies: dict[str, list[Path]] = {}
    for source in sources:
        for series in scan_dicom(source).series:
            studies.setdefault(series.study_uid, []).extend(Path(i.path) for i in series.instances)
    return studies


def _send(server: ServerProcess, studies: dict[str, list[Path]], console: Console) -> None:
    """C-STORE every study to the server's DICOM listener, as a modality would."""
    from rich.progress import Progress

    from vesalius.errors import InputError
    from vesalius.ingest.dimse.scu import send_files
    from vesalius.settings import DicomPeer

    line = server.wait_for(lambda x: parse_listening(x) is not None, timeout_s=120, what="listener")
    listening = parse_listening(line)
    assert listening is not None
    peer = DicomPeer("vesalius", *listening)
    total = sum(len(files) for files in studies.values())
    with Progress(console=console, transient=False) as progress:
        task = progress.add_task(f"sending {len(studies)} studies over DICOM", total=total)
        for files in studies.values():
            result = send_files(files, peer, calling_ae=CALLING_AE)
            progress.advance(task, len(files))
            if result.problems:
                first = result.problems[0]
                raise InputError(Path(first.path), f"the listener refused it: {first.problem}")


def _await_analyses(server: ServerProcess, studies: list[str], console: Console) -> None:
    """Wait until the server has analysed (or found nothing to analyse in) each study."""
    from rich.progress import Progress

    with Progress(console=console, transient=False) as progress:
        task = progress.add_task("analyses (study complete, then AI)", total=len(studies))
        for study_uid in studies:
            server.wait_for(
                lambda x, uid=study_uid: x.startswith(f"analysed {uid}:"),  # type: ignore[misc]
                timeout_s=ANALYSIS_TIMEOUT_S,
                what=f"analysis of study {study_uid}",
            )
            progress.advance(task)


def _value(value: float, unit: str) -> str:
    """A measurement as people write it: ``"2.4 mL"``, ``"-650 HU"``, ``"3"`` (no unit)."""
    shown = {"1": "", "[hnsf'U]": "HU"}.get(unit, unit)
    return f"{value:.4g} {shown}".strip()


def _findings_table(store: Store, console: Console) -> None:
    from rich.table import Table

    from vesalius.findings.persist import load_findings
    from vesalius.store import StudyQuery, list_studies

    table = Table(title="AI findings in the store, awaiting review")
    for column in ("Patient", "Finding", "Where", "Measurements", "Category"):
        table.add_column(column)
    with store.read_session() as session:
        for study in list_studies(session, StudyQuery(limit=100)).items:
            for f in load_findings(session, study.study_uid):
                loc = f.location
                where = "" if loc is None else f"{loc.laterality or ''} {loc.site.meaning}".strip()
                values = ", ".join(_value(m.value, m.unit) for m in f.measurements)
                categories = ", ".join(f"{c.system} {c.value}" for c in f.categories)
                table.add_row(study.patient_id, f.finding_type.meaning, where, values, categories)
    console.print(table)


def _worklist_table(store: Store, console: Console) -> None:
    """The studies in reading order, with their priority, its reasons, and report state."""
    from datetime import UTC, datetime

    from rich.table import Table

    from vesalius.reporting.worklist import WorklistQuery, list_worklist

    with store.read_session() as session:
        page = list_worklist(session, WorklistQuery(status="all"), now=datetime.now(UTC))
    table = Table(title="Worklist, most urgent first (draft reports await review)")
    for column in ("Patient", "Modalities", "Priority", "Why", "Report"):
        table.add_column(column)
    for item in page.items:
        score = item.priority
        table.add_row(
            item.patient_id,
            ", ".join(item.modalities),
            f"{score.level} {score.score:.0f}",
            "; ".join(score.reasons),
            item.report_state or "-",
        )
    console.print(table)


def _truth_line(phantom: Path, console: Console) -> None:
    import json

    truth = json.loads((phantom / "ground_truth.json").read_text(encoding="utf-8"))["truth"]
    lungs = ", ".join(f"{lung['side']} {lung['volume_ml']:.0f} mL" for lung in truth["lungs"])
    console.print(f"chest phantom truth: Agatston {truth['agatston_total_written']:.1f}; {lungs}")


def _relay_password(server: ServerProcess, console: Console) -> None:
    """Show the one-time admin password the server printed at its first start, if it did."""
    said = [line for line in server.lines if "password" in line.lower()]
    for line in said:
        console.print(f"[bold]{line}[/bold]", soft_wrap=True)
    if not said:
        console.print(
            "the admin password was printed by the first run; "
            "`vesalius user passwd admin --config DEMO/vesalius.toml` sets a new one"
        )


def demo(
    out: Annotated[Path, typer.Option(help="Folder for the demo's phantoms and store.")] = Path(
        "vesalius-demo"
    ),
    seed: Annotated[int, typer.Option(help="Seed of the phantoms.")] = 0,
    headless: Annotated[
        bool, typer.Option("--headless", help="Print a summary and exit instead of serving.")
    ] = False,
    http_port: Annotated[
        int, typer.Option("--http-port", help="Port of the web UI (0: any free port).")
    ] = 8080,
) -> None:
    """Start the server, send it phantom studies over DICOM, and show the ranked worklist."""
    from rich.console import Console

    from vesalius.errors import InputError
    from vesalius.store import open_store

    if out.exists() and not out.is_dir():
        raise InputError(out, "exists and is not a folder")
    console = Console()
    out.mkdir(parents=True, exist_ok=True)
    _write_phantoms(out / "phantoms", seed, console)
    sources = _sources(out / "phantoms")
    config = _write_config(out)
    studies = _study_files(sources)
    port = 0 if headless else http_port
    server = ServerProcess(config, ["--port", "0", "--http-port", str(port)])
    try:
        ready = server.wait_for(lambda x: x.startswith("ready"), timeout_s=120, what="start")
        url = next((u for u in map(parse_http, server.lines) if u), None)
        console.print(f"server {ready}")
        _send(server, studies, console)
        _await_analyses(server, list(studies), console)
        store = open_store(load_settings(config).database_url)
        try:
            _studies_table(store, console)
            _findings_table(store, console)
            _worklist_table(store, console)
        finally:
            store.close()
        _truth_line(out / "phantoms" / "chest-ct", console)
        _volumes_table(sources, console)
        console.print(f"web UI: {url}/  (stop with Ctrl-C)" if not headless else f"served {url}")
        _relay_password(server, console)
        if not headless:
            server.wait()
    except KeyboardInterrupt:
        console.print("stopping the demo server")
    finally:
        code = server.stop()
    if code not in (0, -2, 130):
        raise ServerError(f"the demo server exited with code {code}")
