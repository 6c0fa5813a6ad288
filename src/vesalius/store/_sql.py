"""Small SQL helpers shared by the repositories (portable across SQLite and PostgreSQL)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import ColumnElement, String, Table, func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import DeclarativeBase, InstrumentedAttribute, Session

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


def clip(model: type[DeclarativeBase], values: Mapping[str, Any]) -> dict[str, Any]:
    """Cut text values to their column's length (PostgreSQL refuses longer ones).

    Examples
    --------
    >>> from vesalius.store.models import Series
    >>> len(clip(Series, {"description": "x" * 300})["description"])
    256
    """
    out = dict(values)
    columns = model.__table__.columns
    for key, value in values.items():
        column_type = columns[key].type
        limit = getattr(column_type, "length", None) if isinstance(column_type, String) else None
        if isinstance(value, str) and limit is not None and len(value) > limit:
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
