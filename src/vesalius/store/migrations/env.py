"""Alembic environment: migrate the connection handed over by ``engine.upgrade``.

Alembic executes this file; importing it anywhere else (a doctest run, a type check) does
nothing, because Alembic's ``context`` only has a configuration while Alembic runs it.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from vesalius.store.models import Base


def run_migrations(connection: Connection) -> None:
    """Run the migrations on ``connection`` (batch mode on SQLite for ALTER TABLE)."""
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    if not hasattr(context, "config"):  # imported outside an Alembic run
        return
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through vesalius.store.open_store or upgrade()")
    run_migrations(connection)


_main()
