"""DICOM C-FIND attribute matching (PS3.4 C.2.2.2), on plain Python values.

Pure functions, no pynetdicom: they decide whether a stored value matches what a query
asked for. Supported: universal matching (empty), single value, wildcards (``*``, ``?``,
case-insensitive), lists of UIDs (``uid1\\uid2``), and ranges of dates and times
(``20240101-20240131``, ``-20240131``, ``1200-``). A multi-valued stored attribute
(ModalitiesInStudy) matches when any of its values matches any value asked for.

Examples
--------
>>> matches("Doe*", "DOE^JOHN", vr="PN")
True
>>> matches("20240101-20240131", "20240115", vr="DA")
True
>>> matches("CT\\\\MR", ("MR", "SR"), vr="CS")
True
>>> matches("1.2.3\\\\1.2.4", "1.2.5", vr="UI")
False
>>> matches("", None, vr="LO")
True
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

Stored = str | int | Sequence[str] | None

RANGE_VRS = frozenset({"DA", "TM", "DT"})


def is_universal(query: str | None) -> bool:
    """Whether ``query`` matches everything (empty, or only ``*``)."""
    return query is None or query.strip() in ("", "*")


@lru_cache(maxsize=256)
def _wildcard(pattern: str) -> re.Pattern[str]:
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def _normal(value: str, vr: str) -> str:
    """Dates and times without separators, so that they compare as text."""
    text = value.strip()
    return text.replace(":", "").replace("-", "") if vr == "TM" else text.replace(".", "")


def _in_range(query: str, value: str, vr: str) -> bool:
    low, _, high = query.partition("-")
    low, high, value = _normal(low, vr), _normal(high, vr), _normal(value, vr)
    if low and value[: len(low)] < low:
        return False
    return not (high and value[: len(high)] > high)


def _one(query: str, value: str, vr: str) -> bool:
    query = query.strip()
    if vr == "UI":
        return value == query
    if vr in RANGE_VRS and "-" in query:
        return _in_range(query, value, vr)
    if "*" in query or "?" in query:
        return _wildcard(query).fullmatch(value.strip()) is not None
    if vr in RANGE_VRS:
        return _normal(value, vr).startswith(_normal(query, vr))
    return value.strip().casefold() == query.casefold()


def _values(stored: Stored) -> tuple[str, ...]:
    if stored is None:
        return ()
    if isinstance(stored, str | int):
        return (str(stored),)
    return tuple(str(v) for v in stored)


def matches(query: str | None, stored: Stored, *, vr: str) -> bool:
    """Whether the stored value(s) match the query value ``query`` of VR ``vr``.

    An attribute the index does not know (``stored`` is ``None``) matches only a
    universal query.
    """
    if query is None or is_universal(query):
        return True
    values = _values(stored)
    wanted = [q for q in query.split("\\") if q] if vr in ("UI", "CS") or "\\" in query else [query]
    return any(_one(q, v, vr) for q in wanted for v in values)
