"""Opening the index: engines for SQLite and PostgreSQL, migrations, sessions.

:func:`open_store` is how a store is created and opened: it builds the engine, runs the
pending Alembic migrations shipped in this package (an empty database is brought to the
current schema that way; there is no ``create_all``) and returns a :class:`Store`.

SQLite is set up for durability and concurrency on every new connection: WAL journal,
``synchronous=FULL`` (an acknowledged instance survives a power cut), foreign keys on and a
busy timeout. :meth:`Store.session` opens write transactions with ``BEGIN IMMEDIATE`` on
SQLite, so two writers queue on the busy timeout instead of failing half-way through.

A writer that keeps its own durable record of what it commits (the ingest journal,
:mod:`vesalius.store.journal`) may commit with ``session(durable=False)``: visible at once,
not flushed (SQLite ``synchronous=NORMAL``, PostgreSQL ``synchronous_commit = off``);
:meth:`Store.sync_index` later makes every commit so far durable.

Examples
--------
>>> import tempfile, pathlib
>>> url = sqlite_url(pathlib.Path(tempfile.mkdtemp()) / "index.sqlite3")
>>> store = open_store(url)
>>> store.revision() == head_revision()
True
>>> with store.read_session() as session:
...     session.execute(text("PRAGMA journal_mode")).scalar_one()
'wal'
>>> store.close()
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, DatabaseError
from sqlalchemy.orm import Session, sessionmaker

from vesalius.errors import ConfigError, StoreError

__all__ = ["Store", "head_revision", "make_engine", "open_store", "sqlite_url", "text"]

log = logging.getLogger(__name__)

#: How long a SQLite writer waits for another one before giving up, in milliseconds.
SQLITE_BUSY_TIMEOUT_MS = 30_000
_BEGIN_OPTION = "vesalius_sqlite_begin"
_SYNC_OPTION = "vesalius_sqlite_synchronous"


def sqlite_url(path: str | Path) -> str:
    """The SQLAlchemy URL of a SQLite file (made absolute).

    Examples
    --------
    >>> sqlite_url("/data/index.sqlite3")
    'sqlite+pysqlite:////data/index.sqlite3'
    """
    return f"sqlite+pysqlite:///{Path(path).absolute()}"


def _on_sqlite_connect(dbapi_connection: Any, connection_record: Any) -> None:
    """Pragmas for every new SQLite connection; hand transactions over to SQLAlchemy."""
    dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (see _on_sqlite_begin)
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        mode = cursor.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() not in ("wal", "memory"):
            log.warning("SQLite refused WAL journal mode (got %s)", mode)
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _on_sqlite_begin(conn: Connection) -> None:
    """Start the transaction: ``BEGIN IMMEDIATE`` for writers, plain ``BEGIN`` for readers.

    The connection's ``synchronous`` level is set first when the session asks for another
    one than the connection has (it cannot change inside a transaction).
    """
    options = conn.get_execution_options()
    level = options.get(_SYNC_OPTION, "FULL")
    if conn.info.get(_SYNC_OPTION, "FULL") != level:
        conn.exec_driver_sql(f"PRAGMA synchronous = {level}")
        conn.info[_SYNC_OPTION] = level
    mode = options.get(_BEGIN_OPTION, "IMMEDIATE")
    conn.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for ``url``, with the SQLite settings described in the module docstring.

    Raises
    ------
    ConfigError
        If the URL cannot be parsed or names a database other than SQLite or PostgreSQL.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as err:
        raise ConfigError(f"database URL {url!r} cannot be parsed: {err}") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        engine = create_engine(
            parsed, echo=echo, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        )
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _on_sqlite_begin)
        return engine
    if backend == "postgresql":
        return create_engine(parsed, echo=echo, pool_pre_ping=True)
    raise ConfigError(f"database URL {parsed!r}: only sqlite and postgresql are supported")


def _alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration built in code; the scripts ship inside this package."""
    config = Config()
    config.set_main_option("script_location", str(resources.files("vesalius.store") / "migrations"))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest migration revision shipped with this version of Vesalius."""
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships a revision
        raise StoreError("no migration revision found in the package")
    return head


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run the pending migrations on ``engine`` up to ``revision``."""
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), revision)


class Store:
    """An opened index: an engine and the sessions made from it.

    Use :func:`open_store` rather than building one directly: it migrates the schema first.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._write = sessionmaker(engine, expire_on_commit=False)
        deferred = engine.execution_options(**{_SYNC_OPTION: "NORMAL"})
        self._write_deferred = sessionmaker(deferred, expire_on_commit=False)
        self._reader = engine.execution_options(**{_BEGIN_OPTION: "DEFERRED"})
        self._read = sessionmaker(self._reader, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.engine.dialect.name

    @contextmanager
    def session(self, *, durable: bool = True) -> Iterator[Session]:
        """A unit of work that may write: committed on success, rolled back on error.

        With ``durable=False`` the commit is visible at once but only flushed to disk by a
        later durable commit or :meth:`sync_index` (see the module docstring).
        """
        with (self._write if durable else self._write_deferred).begin() as session:
            if not durable and self.dialect == "postgresql":
                session.execute(text("SET LOCAL synchronous_commit TO OFF"))
            yield session

    def sync_index(self) -> None:
        """Make every commit made so far durable (after sessions with ``durable=False``).

        SQLite: the database file and its write-ahead log are fsynced (committed pages are
        in one or the other). PostgreSQL: a synchronous commit flushes the log up to it,
        and with it every asynchronous commit before.

        Raises
        ------
        StoreError
            When the index files cannot be flushed.
        """
        if self.dialect == "postgresql":
            with self.session() as session:
                session.execute(text("SELECT txid_current()"))
            return
        database = self.engine.url.database
        if not database or database == ":memory:":
            return
        try:
            for path in (Path(database), Path(f"{database}-wal")):
                if path.exists():
                    _fsync_path(path)
        except OSError as err:
            raise StoreError(f"{database}: cannot flush the index: {err}") from None

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A read-only unit of work (on SQLite it does not take the write lock).

        Nothing is committed; objects loaded in it stay readable after it closes.
        """
        with self._read() as session:
            yield session

    def revision(self) -> str | None:
        """The migration revision the database is at (``None`` if never migrated)."""
        with self._reader.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _make_sqlite_folder(engine: Engine) -> None:
    """Create the folder of a SQLite file, so that a new store can be made anywhere."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return
    try:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise StoreError(f"cannot create the folder of the index {database}: {err}") from None


def open_store(url: str, *, migrate: bool = True, echo: bool = False) -> Store:
    """Open the index at ``url``, creating or upgrading its schema first.

    Parameters
    ----------
    url
        SQLAlchemy URL: ``sqlite+pysqlite:///path`` (see :func:`sqlite_url`) or
        ``postgresql+psycopg://user@host:port/db``.
    migrate
        Run pending migrations (the default). Without it, a database that is not at the
        newest revision is refused.
    echo
        Log every SQL statement (debugging).

    Raises
    ------
    ConfigError
        Bad URL.
    StoreError
        The database cannot be reached, or is not at the newest revision and ``migrate``
        is false.
    """
    engine = make_engine(url, echo=echo)
    if migrate:
        _make_sqlite_folder(engine)
    try:
        if migrate:
            upgrade(engine)
        store = Store(engine)
        current, head = store.revision(), head_revision()
    except DatabaseError as err:
        engine.dispose()
        raise StoreError(f"cannot open the index at {engine.url!r}: {err.orig}") from None
    if current != head:
        engine.dispose()
        raise StoreError(f"index {engine.url!r} is at revision {current}, expected {head}")
    log.info("opened index %r at revision %s", engine.url, current)
    return store
