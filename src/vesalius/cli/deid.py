"""``vesalius deid IN OUT``: de-identify DICOM files with the PS3.15 Annex E profile.

Exit codes: 0 when every file was written or quarantined; 2 when the arguments are wrong or
any input file could not be de-identified (the others are still written and the report lists
every file).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from vesalius.ingest.deid import BatchReport

TABLE_PARTS = ("deid", "annex_e.csv")
SECRET_NAME = "deid-secret.key"


def default_profile_tables() -> tuple[Path, ...]:
    """Where ``--profile-table`` is looked for when not given, in order.

    ``../shared/data/deid/annex_e.csv`` from the current folder, then from the checkout the
    package runs from (the folder holding ``src/vesalius``).
    """
    from vesalius.cli.shared_data import shared_candidates

    return shared_candidates(*TABLE_PARTS)


def resolve_profile_table(given: Path | None) -> Path:
    """Return the table to use, or raise a one-line error naming ``--profile-table``."""
    from vesalius.errors import InputError

    if given is not None:
        return given
    for candidate in default_profile_tables():
        if candidate.is_file():
            return candidate.resolve()
    raise InputError(None, "no annex_e.csv found next to the checkout; pass --profile-table PATH")


def _secret(out: Path, secret: str | None, secret_file: Path | None) -> tuple[bytes, str]:
    from vesalius.errors import InputError
    from vesalius.ingest.deid import create_secret_file, read_secret_file

    if secret is not None and secret_file is not None:
        raise InputError(None, "give --secret or --secret-file, not both")
    if secret is not None:
        return secret.encode("utf-8"), "from --secret"
    if secret_file is not None:
        return read_secret_file(secret_file), f"from {secret_file}"
    key = out / SECRET_NAME
    if key.is_file():
        return read_secret_file(key), f"reused {key} (pass it as --secret-file next time)"
    out.mkdir(parents=True, exist_ok=True)
    return create_secret_file(key), f"generated and saved to {key} (mode 0600); keep it secret"


def deid(
    source: Annotated[
        Path, typer.Argument(help="A DICOM file or a folder (searched recursively).")
    ],
    out: Annotated[Path, typer.Argument(help="Output folder: clean/, quarantine/, report.")],
    profile_table: Annotated[
        Path | None, typer.Option(help="Table E.1-1 as CSV (default: ../shared/data/deid/).")
    ] = None,
    secret: Annotated[
        str | None, typer.Option(help="Secret for keyed UIDs, pseudonyms and date shifts.")
    ] = None,
    secret_file: Annotated[Path | None, typer.Option(help="File holding the secret.")] = None,
    retain_modified_dates: Annotated[
        bool, typer.Option(help="Shift dates by a per-patient offset (times kept).")
    ] = False,
    retain_patient_characteristics: Annotated[
        bool, typer.Option(help="Keep sex, age, size, weight...")
    ] = False,
    retain_device_identity: Annotated[bool, typer.Option(help="Keep device identity.")] = False,
    clean_descriptors: Annotated[
        bool, typer.Option(help="Keep descriptions made only of safe words.")
    ] = False,
    workers: Annotated[int, typer.Option(help="Worker processes (0: one per CPU).")] = 0,
    copy_quarantined: Annotated[
        bool, typer.Option(help="Copy burned-in suspects to OUT/quarantine.")
    ] = True,
) -> None:
    """De-identify DICOM files (PS3.15 Annex E Basic Profile) from SOURCE into OUT."""
    import os

    from rich.console import Console
    from rich.progress import Progress

    from vesalius.errors import InputError
    from vesalius.ingest.deid import DeidKeys, Option, deidentify_paths, load_profile_table

    if not source.exists():
        raise InputError(source, "no such file or folder")
    flags = {
        Option.RETAIN_LONG_MODIFIED_DATES: retain_modified_dates,
        Option.RETAIN_PATIENT_CHARACTERISTICS: retain_patient_characteristics,
        Option.RETAIN_DEVICE_IDENTITY: retain_device_identity,
        Option.CLEAN_DESCRIPTORS: clean_descriptors,
    }
    table = load_profile_table(resolve_profile_table(profile_table))
    profile = table.compile(opt for opt, on in flags.items() if on)
    key, told = _secret(out, secret, secret_file)
    console = Console(stderr=True)
    console.print(f"secret: {told}")
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("de-identifying", total=None)
        report = deidentify_paths(
            source,
            out,
            profile=profile,
            keys=DeidKeys(key),
            workers=workers or os.cpu_count() or 1,
            copy_quarantined=copy_quarantined,
            on_result=lambda _: progress.advance(task),
        )
    _summarize(report, out, Console(soft_wrap=True))


def _summarize(report: BatchReport, out: Path, console: Console) -> None:
    from vesalius.errors import InputError
    from vesalius.ingest.deid import Status

    console.print(
        f"written {report.written}, quarantined {report.quarantined}, errors {report.failed}"
        f"; report: {out / 'deid-report.json'}"
    )
    for result in report.files:
        if result.status is Status.QUARANTINED:
            console.print(f"  quarantined {result.source}: {result.reason}", markup=False)
        elif result.status is Status.ERROR:
            console.print(f"  error {result.source}: {result.reason}", markup=False)
    if report.failed:
        raise InputError(out / "deid-report.json", f"{report.failed} file(s) failed, see report")
