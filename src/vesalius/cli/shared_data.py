"""Where the command line looks for the project's shared test material (``../shared/data``).

The shared folder sits beside the checkout. Commands look for it from the current folder
first, then from the checkout the package runs from; library code never looks for it.

Examples
--------
>>> found = find_shared("deid", "annex_e.csv")
>>> found is None or found.name == "annex_e.csv"
True
"""

from __future__ import annotations

from pathlib import Path


def shared_candidates(*parts: str) -> tuple[Path, ...]:
    """``../shared/data/<parts>`` from the current folder, then from the package's checkout."""
    import vesalius

    checkout = Path(vesalius.__file__).resolve().parents[2]
    tail = ("shared", "data", *parts)
    return (Path.cwd() / "..").joinpath(*tail), (checkout / "..").joinpath(*tail)


def find_shared(*parts: str) -> Path | None:
    """The first existing candidate of :func:`shared_candidates`, or ``None``."""
    return next((p for p in shared_candidates(*parts) if p.exists()), None)
