"""Small SQL helpers shared by the repositories (portable across SQLite and PostgreSQL).

Besides SQLAlchemy helpers, a few functions run hand-written SQL at the driver level
(:func:`run_driver_sql`, :func:`insert_rows`) for the hot paths where building and
compiling a statement per call costs more than the database does (indexing an instance):
the SQL is written with ``:name`` placeholders and rendered once for the driver's
paramstyle; values go through the columns' own bind processors (:func:`driver_row`), so
rows read back through the ORM are the same as if SQLAlchemy had written them.

Examples
--------
>>> from sqlalchemy.dialects import postgresql, sqlite
>>> render_sql("SELECT id FROM series WHERE id = :pk", postgresql.psycopg.dialect())
'SELECT id FROM series WHERE id = %(pk)s'
>>> render_sql("SELECT id FROM series WHERE id = :pk", sqlite.pysqlite.dialect())
'SELECT id FROM series WHERE id = :pk'
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, String, Table, func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, InstrumentedAttribute, Session

from vesalius.errors import StoreError

log = logging.getLogger(__name__)


def dialect_name(session: Session) -> str:
    """``"sqlite"`` or ``"postgresql"``: the database ``session`` talks to."""
    return session.get_bind().dialect.name


def insert_ignoring_conflict(
    session: Session,
    model: type[DeclarativeBase],
    values: Mapping[str, Any],
    *,
    unique: Sequence[str],
) -> bool:
    """``INSERT ... ON CONFLICT (unique) DO NOTHING``; True when a row was inserted."""
    build = pg_insert if dialect_name(session) == "postgresql" else sqlite_insert
    table = cast(Table, model.__table__)
    stmt = (
        build(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=list(unique))
        .returning(table.c.id)
    )
    return session.execute(stmt).first() is not None


@lru_cache(maxsize=64)
def text_limits(model: type[DeclarativeBase]) -> dict[str, int | None]:
    """Each column of ``model`` and the most characters it holds (``None``: no limit)."""
    return {
        column.name: getattr(column.type, "length", None)
        if isinstance(column.type, String)
        else None
        for column in model.__table__.columns
    }


def clip(model: type[DeclarativeBase], values: Mapping[str, Any]) -> dict[str, Any]:
    """Cut text values to their column's length (PostgreSQL refuses longer ones).

    Raises ``KeyError`` for a key that is no column of ``model``.

    Examples
    --------
    >>> from vesalius.store.models import Series
    >>> len(clip(Series, {"description": "x" * 300})["description"])
    256
    """
    out = dict(values)
    limits = text_limits(model)
    for key, value in values.items():
        limit = limits[key]
        if limit is not None and isinstance(value, str) and len(value) > limit:
            log.warning(
                "%s.%s: cutting a %d-character value to %d", model.__name__, key, len(value), limit
            )
            out[key] = value[:limit]
    return out


def wildcard_match(column: InstrumentedAttribute[Any], pattern: str) -> ColumnElement[bool]:
    """DICOM wildcard matching (``*`` any run, ``?`` one character), case-insensitive.

    Examples
    --------
    >>> from vesalius.store.models import Patient
    >>> str(wildcard_match(Patient.name, "Doe*"))
    "lower(patients.name) LIKE lower(:lower_1) ESCAPE '\\\\'"
    """
    if "*" not in pattern and "?" not in pattern:
        return func.lower(column) == func.lower(pattern)
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    like = escaped.replace("*", "%").replace("?", "_")
    return func.lower(column).like(func.lower(like), escape="\\")


_PLACEHOLDER = re.compile(r"(?<![:\w]):(\w+)")


@lru_cache(maxsize=256)
def _render(sql: str, style: str) -> str:
    if style == "named":
        return sql
    return _PLACEHOLDER.sub(r"%(\1)s", sql)


def render_sql(sql: str, dialect: Dialect) -> str:
    """``sql``, written with ``:name`` placeholders, in the paramstyle of ``dialect``'s driver.

    Raises
    ------
    StoreError
        For a driver taking neither named (``:name``, or SQLite's) nor ``%(name)s`` ones.
    """
    if dialect.name == "sqlite" or dialect.paramstyle == "named":
        return _render(sql, "named")
    if dialect.paramstyle == "pyformat":
        return _render(sql, "pyformat")
    raise StoreError(f"database driver {dialect.driver!r}: paramstyle {dialect.paramstyle!r}")


def run_driver_sql(
    session: Session, sql: str, params: Mapping[str, Any] | None = None
) -> CursorResult[*tuple[Any, ...]]:
    """Run ``sql`` (``:name`` placeholders) with ``params`` on the session's connection.

    The values are passed as they are: convert them with :func:`driver_row` first where a
    column type processes its values (dates on SQLite, aware timestamps...).
    """
    connection = session.connection()
    return connection.exec_driver_sql(render_sql(sql, connection.dialect), dict(params or {}))


_Processor = Callable[[Any], Any]


@lru_cache(maxsize=64)
def _processors(table: Table, dialect: Dialect) -> dict[str, _Processor]:
    out: dict[str, _Processor] = {}
    for column in table.columns:
        process = column.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            out[column.name] = process
    return out


@lru_cache(maxsize=64)
def _defaults(table: Table) -> dict[str, tuple[bool, Any]]:
    """Python-side column defaults of ``table``: (is it a callable, its argument)."""
    out: dict[str, tuple[bool, Any]] = {}
    for column in table.columns:
        default = column.default
        if default is not None and (default.is_scalar or default.is_callable):
            out[column.name] = (default.is_callable, getattr(default, "arg", None))
    return out


def _default_value(default: tuple[bool, Any]) -> Any:
    is_callable, arg = default
    return arg(None) if is_callable else arg  # SQLAlchemy wraps callables to take a context


def driver_row(table: Table, dialect: Dialect, values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` (of ``table``'s columns) as the driver takes them: bind-processed.

    Examples
    --------
    >>> from datetime import date
    >>> from sqlalchemy.dialects import sqlite
    >>> from vesalius.store.models import Study
    >>> table = cast(Table, Study.__table__)
    >>> driver_row(table, sqlite.pysqlite.dialect(), {"study_date": date(2024, 1, 31)})
    {'study_date': '2024-01-31'}
    """
    processors = _processors(table, dialect)
    return {
        key: value if value is None or key not in processors else processors[key](value)
        for key, value in values.items()
    }


@lru_cache(maxsize=256)
def _insert_sql(
    table: Table, columns: tuple[str, ...], n_rows: int, unique: str, returning: tuple[str, ...]
) -> str:
    rows = ", ".join(
        "(" + ", ".join(f":{column}_{k}" for column in columns) + ")" for k in range(n_rows)
    )
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES {rows}"
    if unique:
        sql += f" ON CONFLICT ({unique}) DO NOTHING"
    if returning:
        sql += f" RETURNING {', '.join(returning)}"
    return sql


#: Rows per statement of :func:`insert_rows` (keeps under SQLite's limit of parameters).
INSERT_CHUNK = 500


def insert_rows(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    on_conflict_nothing: str = "",
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """Insert ``rows`` (same keys each) with multi-row ``INSERT ... VALUES`` statements.

    Column defaults are filled in and values bind-processed as a Core insert would.

    Parameters
    ----------
    session
        An open write session.
    table, rows
        Where and what; every row has the same keys.
    on_conflict_nothing
        The column(s) of a unique constraint, comma-separated: rows conflicting on it are
        skipped (``ON CONFLICT (...) DO NOTHING``); empty: conflicts raise.
    returning
        Columns to return for each inserted row (in no particular order).

    Returns
    -------
    list of tuple
        The ``returning`` values of each inserted row.

    Raises
    ------
    ValueError
        When the rows do not all have the same keys (a programming error).
    """
    if not rows:
        return []
    dialect = session.connection().dialect
    defaults = {k: f for k, f in _defaults(table).items() if k not in rows[0]}
    columns = tuple(rows[0]) + tuple(defaults)
    out: list[tuple[Any, ...]] = []
    for start in range(0, len(rows), INSERT_CHUNK):
        chunk = rows[start : start + INSERT_CHUNK]
        params: dict[str, Any] = {}
        for k, row in enumerate(chunk):
            if row.keys() != rows[0].keys():
                raise ValueError(f"insert_rows: row {start + k} has other columns than row 0")
            full = {**row, **{key: _default_value(d) for key, d in defaults.items()}}
            params.update(
                {f"{key}_{k}": value for key, value in driver_row(table, dialect, full).items()}
            )
        sql = _insert_sql(table, columns, len(chunk), on_conflict_nothing, tuple(returning))
        result = run_driver_sql(session, sql, params)
        if returning:
            out.extend(tuple(r) for r in result.all())
    return out
