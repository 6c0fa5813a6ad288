"""Column types shared by the models: timezone-aware UTC timestamps and JSON.

SQLite has no time zone type: it stores the text of a naive timestamp. :class:`UTCDateTime`
stores every timestamp converted to UTC and gives it back as an aware UTC ``datetime`` on
both databases, so comparing timestamps read from SQLite and PostgreSQL just works.

Examples
--------
>>> from datetime import datetime, timezone
>>> utc_now().tzinfo is timezone.utc
True
>>> aware_utc(datetime(2024, 1, 2, 3, 4))
Traceback (most recent call last):
...
vesalius.errors.StoreError: timestamp 2024-01-02 03:04:00 has no time zone; pass an aware datetime
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from vesalius.errors import StoreError

#: JSON on SQLite, JSONB (indexable, compact) on PostgreSQL.
JSONType: TypeEngine[Any] = JSON().with_variant(JSONB(), "postgresql")


def utc_now() -> datetime:
    """The current time as an aware UTC ``datetime``."""
    return datetime.now(UTC)


def aware_utc(value: datetime) -> datetime:
    """``value`` converted to UTC; a naive ``datetime`` raises :class:`StoreError`."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise StoreError(f"timestamp {value} has no time zone; pass an aware datetime")
    return value.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A ``TIMESTAMP WITH TIME ZONE`` that only accepts aware values and returns UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(
        self, value: datetime | None, dialect: Dialect | None
    ) -> datetime | None:
        """Refuse naive timestamps; convert aware ones to UTC."""
        if value is None:
            return None
        utc = aware_utc(value)
        # SQLite stores text: drop the offset so stored values sort and compare as text.
        return utc.replace(tzinfo=None) if dialect is not None and dialect.name == "sqlite" else utc

    def process_result_value(
        self, value: datetime | None, dialect: Dialect | None
    ) -> datetime | None:
        """Give back an aware UTC ``datetime`` whatever the database returned."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
