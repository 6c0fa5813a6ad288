"""``vesalius store [--config FILE | --url URL]``: create or upgrade the index and show it.

Opening the index runs its pending migrations, so this is also how a new installation's
index is created. Prints the database (password hidden), the schema revision and how many
patients, studies, series, instances and jobs it holds. An index that cannot be opened is
one line on stderr and exit code 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def store_status(
    config: Annotated[
        Path | None, typer.Option("--config", help="Settings file (TOML) naming the index.")
    ] = None,
    url: Annotated[
        str | None, typer.Option("--url", help="Database URL; overrides the settings file.")
    ] = None,
) -> None:
    """Create or upgrade the index, then print its revision and contents."""
    from vesalius.errors import StoreError
    from vesalius.settings import load_settings
    from vesalius.store import open_store
    from vesalius.store.stats import index_counts

    settings = load_settings(config)
    try:
        store = open_store(url or settings.database_url)
    except StoreError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from None
    try:
        with store.read_session() as session:
            counts = index_counts(session)
        typer.echo(f"index     {store.engine.url.render_as_string(hide_password=True)}")
        typer.echo(f"revision  {store.revision()}")
        for name, value in counts.rows():
            typer.echo(f"{name:<9} {value}")
    finally:
        store.close()
