"""Reading the dates, times and numbers that PET SUV needs from a DICOM header.

DICOM keeps them as strings: ``DA`` (``YYYYMMDD``), ``TM`` (``HHMMSS.FFFFFF``, older files
``HH:MM:SS``) and ``DT`` (``YYYYMMDDHHMMSS.FFFFFF&ZZXX``). Time-zone offsets are dropped:
all times of one PET study are taken in the scanner's local time.

Examples
--------
>>> parse_dt("20240131235959.5")
datetime.datetime(2024, 1, 31, 23, 59, 59, 500000)
>>> combine("20240131", "08:15:00")
datetime.datetime(2024, 1, 31, 8, 15)
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from pydicom.dataset import Dataset
from pydicom.valuerep import DA, DT, TM

PHILIPS_PET = "Philips PET Private Group"
GE_PETD = "GEMS_PETD_01"


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("ascii", errors="replace").strip(" \x00")
    return str(value).strip()


def parse_dt(value: object) -> datetime | None:
    """A DICOM ``DT`` value as a naive datetime, or ``None`` when empty or unreadable."""
    text = _text(value)
    if not text:
        return None
    try:
        parsed = DT(text)
    except ValueError:
        return None
    return None if parsed is None else datetime.combine(parsed.date(), parsed.time())


def parse_da(value: object) -> date | None:
    """A DICOM ``DA`` value, or ``None`` when empty or unreadable."""
    text = _text(value)
    try:
        parsed = DA(text) if text else None
    except ValueError:
        return None
    return None if parsed is None else date(parsed.year, parsed.month, parsed.day)


def parse_tm(value: object) -> time | None:
    """A DICOM ``TM`` value (``HHMMSS.F`` or the old ``HH:MM:SS``), or ``None``."""
    text = _text(value).replace(":", "")
    try:
        parsed = TM(text) if text else None
    except ValueError:
        return None
    return (
        None
        if parsed is None
        else time(parsed.hour, parsed.minute, parsed.second, parsed.microsecond)
    )


def combine(da: object, tm: object) -> datetime | None:
    """A ``DA`` and a ``TM`` value joined, or ``None`` if either is missing."""
    day, moment = parse_da(da), parse_tm(tm)
    if day is None or moment is None:
        return None
    return datetime.combine(day, moment)


def header_datetime(header: Dataset, prefix: str) -> datetime | None:
    """``{prefix}DateTime``, else ``{prefix}Date`` + ``{prefix}Time`` (e.g. ``Acquisition``)."""
    whole = parse_dt(header.get(f"{prefix}DateTime", ""))
    if whole is not None:
        return whole
    return combine(header.get(f"{prefix}Date", ""), header.get(f"{prefix}Time", ""))


def private_value(header: Dataset, group: int, offset: int, creator: str) -> Any:
    """The value of a private element found by its creator, or ``None`` when absent."""
    try:
        element = header.get_private_item(group, offset, creator)
    except KeyError:
        return None
    return element.value


def private_float(header: Dataset, group: int, offset: int, creator: str) -> float | None:
    """A private numeric value (DS, FL, FD or unparsed text), or ``None``."""
    value = private_value(header, group, offset, creator)
    if value is None:
        return None
    try:
        return float(_text(value)) if isinstance(value, bytes | str) else float(value)
    except (TypeError, ValueError):
        return None


def positive_float(value: object) -> float | None:
    """``value`` as a float if it is a positive finite number, else ``None``.

    Examples
    --------
    >>> positive_float("70"), positive_float(""), positive_float(0)
    (70.0, None, None)
    """
    try:
        number = float(_text(value)) if isinstance(value, bytes | str) else float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if number > 0 and number != float("inf") else None
