"""DICOM JSON (PS3.18 Annex F) attributes built from plain Python values.

The index holds attribute values as Python types (``str``, ``int``, ``date``); QIDO-RS
answers them as DICOM JSON objects keyed by the 8-digit hexadecimal tag. :func:`put` turns
one keyword and value into that form, taking the VR from the DICOM dictionary.

Examples
--------
>>> from datetime import date
>>> out: JsonDataset = {}
>>> put(out, "PatientName", "Doe^Jane")
>>> put(out, "StudyDate", date(2024, 1, 31))
>>> put(out, "AccessionNumber", None)
>>> out["00100010"]
{'vr': 'PN', 'Value': [{'Alphabetic': 'Doe^Jane'}]}
>>> out["00080020"], out["00080050"]
({'vr': 'DA', 'Value': ['20240131']}, {'vr': 'SH'})
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any

from pydicom.datadict import dictionary_VR, keyword_for_tag, tag_for_keyword

JsonDataset = dict[str, Any]
_NUMBERS = frozenset({"IS", "DS", "US", "UL", "SL", "SS", "FL", "FD", "UV", "SV"})


@lru_cache(maxsize=1024)
def _key_and_vr(keyword: str) -> tuple[str, str]:
    tag = tag_for_keyword(keyword)
    if tag is None:
        raise KeyError(f"{keyword!r} is not a DICOM keyword")
    return f"{tag:08X}", dictionary_VR(tag)


def tag_key(keyword: str) -> str:
    """The DICOM JSON key (8 uppercase hex digits) of a keyword.

    Examples
    --------
    >>> tag_key("StudyInstanceUID")
    '0020000D'
    """
    return _key_and_vr(keyword)[0]


def keyword_of(key: str) -> str | None:
    """The keyword of a DICOM keyword or 8-digit hex tag, ``None`` when it is neither.

    Examples
    --------
    >>> keyword_of("00100020"), keyword_of("PatientID"), keyword_of("Nonsense")
    ('PatientID', 'PatientID', None)
    """
    if len(key) == 8:
        try:
            found = keyword_for_tag(int(key, 16))
        except ValueError:
            found = ""
        if found:
            return found
    return key if tag_for_keyword(key) is not None else None


def _json_value(vr: str, value: Any) -> Any:
    if vr == "PN":
        return {"Alphabetic": str(value)}
    if vr == "DA" and isinstance(value, date):
        return value.strftime("%Y%m%d")
    if vr in _NUMBERS:
        return value if isinstance(value, int | float) else float(value)
    return str(value)


def put(out: JsonDataset, keyword: str, value: Any) -> None:
    """Set ``keyword`` in ``out`` to ``value`` (a value, a list or tuple of values, or ``None``).

    ``None`` and empty sequences give an attribute with no value (``{"vr": ...}``), which is
    how QIDO-RS answers a required attribute the server does not know.
    """
    key, vr = _key_and_vr(keyword)
    if isinstance(value, list | tuple):
        values = [v for v in value if v is not None and v != ""]
    else:
        values = [] if value is None or value == "" else [value]
    if not values:
        out[key] = {"vr": vr}
        return
    out[key] = {"vr": vr, "Value": [_json_value(vr, v) for v in values]}
