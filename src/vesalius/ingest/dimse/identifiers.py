"""C-FIND / C-MOVE / C-GET identifiers: read the request's keys, build the responses.

Examples
--------
>>> from pydicom import Dataset
>>> request = Dataset()
>>> request.QueryRetrieveLevel, request.PatientName = "STUDY", "Doe*"
>>> request.StudyInstanceUID = ""
>>> request.ModalitiesInStudy = ["CT", "MR"]
>>> level_of(request)
<Level.STUDY: 'STUDY'>
>>> query_of(request)
{'ModalitiesInStudy': 'CT\\\\MR', 'PatientName': 'Doe*', 'StudyInstanceUID': ''}
>>> from vesalius.ingest.dimse.catalog import Record
>>> rsp = response_for(request, Record(Level.STUDY, {"PatientName": "Doe^Jane",
...     "StudyInstanceUID": "1.2", "ModalitiesInStudy": ("CT",)}), ae_title="VESALIUS")
>>> str(rsp.PatientName), rsp.StudyInstanceUID, rsp.ModalitiesInStudy, rsp.RetrieveAETitle
('Doe^Jane', '1.2', 'CT', 'VESALIUS')
"""

from __future__ import annotations

from collections.abc import Mapping

from pydicom import Dataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence

from vesalius.errors import InputError
from vesalius.ingest.dimse.catalog import Level, Record

_SKIP = frozenset({"QueryRetrieveLevel", "SpecificCharacterSet", "RetrieveAETitle"})


def level_of(identifier: Dataset) -> Level:
    """The request's Query/Retrieve Level.

    Raises
    ------
    InputError
        When it is missing or not PATIENT, STUDY, SERIES or IMAGE.
    """
    raw = str(identifier.get("QueryRetrieveLevel", "") or "").strip().upper()
    try:
        return Level(raw)
    except ValueError:
        raise InputError(None, f"bad Query/Retrieve Level {raw!r}") from None


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, MultiValue | list | tuple):
        return "\\".join(str(v) for v in value)
    return str(value)


def query_of(identifier: Dataset) -> dict[str, str]:
    """The matching keys of ``identifier`` as text, by keyword (sequences left out)."""
    out = {}
    for element in identifier:
        keyword = element.keyword
        if not keyword or keyword in _SKIP or element.VR == "SQ" or element.tag.group == 2:
            continue
        out[keyword] = _text(element.value).strip()
    return out


def response_for(identifier: Dataset, record: Record, *, ae_title: str) -> Dataset:
    """The C-FIND response for ``record``: every key the request asked for, filled if known."""
    rsp = Dataset()
    rsp.SpecificCharacterSet = "ISO_IR 192"
    rsp.QueryRetrieveLevel = record.level.value
    rsp.RetrieveAETitle = ae_title
    for element in identifier:
        keyword = element.keyword
        if keyword in _SKIP or element.tag.group == 2:
            continue
        value = _value(record.values, keyword)
        if value is None:
            rsp.add_new(element.tag, element.VR, Sequence() if element.VR == "SQ" else None)
        else:
            rsp.add_new(element.tag, element.VR, value)
    return rsp


def _value(values: Mapping[str, object], keyword: str) -> object:
    value = values.get(keyword) if keyword else None
    if isinstance(value, tuple):
        return list(value) if value else None
    return value
