"""Creating the schema with the shipped migrations, and the SQLite durability settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from vesalius.errors import ConfigError, StoreError
from vesalius.store import Store, head_revision, make_engine, open_store, sqlite_url
from vesalius.store.engine import _alembic_config, upgrade
from vesalius.store.models import Base


def test_empty_database_is_migrated_to_head_with_every_table(database_url: str) -> None:
    """Opening an empty database creates all tables; a user would otherwise see missing tables."""
    store = open_store(database_url)
    try:
        assert store.revision() == head_revision()
        tables = set(inspect(store.engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        assert "alembic_version" in tables
    finally:
        store.close()


def test_models_and_migrations_agree(store: Store) -> None:
    """Autogenerate finds no difference: a model change without a migration would show here."""
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_downgrade_to_base_and_upgrade_again(database_url: str) -> None:
    """The initial migration can be reverted and re-applied (no leftovers break it)."""
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        with engine.begin() as conn:
            command.downgrade(_alembic_config(conn), "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(engine)
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_opening_twice_is_harmless(database_url: str) -> None:
    """Re-opening an up-to-date store runs no migration and keeps its data."""
    open_store(database_url).close()
    store = open_store(database_url)
    try:
        assert store.revision() == head_revision()
    finally:
        store.close()


def test_unmigrated_database_refused_without_migrate(database_url: str) -> None:
    """migrate=False on an empty database gives a StoreError naming the revision, not a crash."""
    with pytest.raises(StoreError, match="revision None"):
        open_store(database_url, migrate=False)


def test_unsupported_url_is_a_config_error() -> None:
    """A MySQL or garbage URL is a ConfigError the CLI shows in one line."""
    with pytest.raises(ConfigError, match="only sqlite and postgresql"):
        make_engine("mysql://localhost/x")
    with pytest.raises(ConfigError, match="cannot be parsed"):
        make_engine("not a url")


def test_unreachable_postgres_is_a_store_error() -> None:
    """A PostgreSQL server that is not there gives StoreError, not an OperationalError."""
    with pytest.raises(StoreError, match="cannot open the index"):
        open_store("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")


def test_new_sqlite_store_gets_its_folder(tmp_path: Path) -> None:
    """A store in a folder that does not exist yet is created with its folder."""
    open_store(sqlite_url(tmp_path / "new" / "data" / "index.sqlite3")).close()
    assert (tmp_path / "new" / "data" / "index.sqlite3").is_file()


def test_unwritable_sqlite_location_is_a_store_error(tmp_path: Path) -> None:
    """A SQLite path under a regular file gives StoreError naming the index."""
    (tmp_path / "file").write_bytes(b"")
    (tmp_path / "notes.txt").write_bytes(b"not SQLite at all" * 100)
    with pytest.raises(StoreError, match="index"):
        open_store(sqlite_url(tmp_path / "file" / "index.sqlite3"))
    with pytest.raises(StoreError, match="cannot open the index"):
        open_store(sqlite_url(tmp_path / "notes.txt"))  # not a database


def test_sqlite_connections_use_wal_full_sync_foreign_keys(tmp_path: Path) -> None:
    """Every SQLite connection is durable and checks foreign keys (else data could be lost)."""
    store = open_store(sqlite_url(tmp_path / "index.sqlite3"))
    try:
        for session_of in (store.session, store.read_session):
            with session_of() as session:
                pragma = {
                    name: session.execute(text(f"PRAGMA {name}")).scalar_one()
                    for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
                }
                assert pragma == {
                    "journal_mode": "wal",
                    "synchronous": 2,  # FULL
                    "foreign_keys": 1,
                    "busy_timeout": 30_000,
                }
        assert (tmp_path / "index.sqlite3-wal").exists()
    finally:
        store.close()
