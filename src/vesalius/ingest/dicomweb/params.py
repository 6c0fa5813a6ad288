"""QIDO-RS query parameters (PS3.18 §8.3.4) parsed into a typed :class:`QidoQuery`.

Matching keys may be given by keyword (``PatientID``) or by tag (``00100020``). Supported:
``PatientName``, ``PatientID``, ``AccessionNumber``, ``StudyDescription`` (wildcards ``*``
and ``?``, case-insensitive), ``StudyDate`` (a date or a range ``from-to``, either end
open), ``StudyInstanceUID``, ``SeriesInstanceUID``, ``SOPInstanceUID``, ``SOPClassUID``,
``ModalitiesInStudy`` and ``Modality`` (lists, comma-separated or repeated), ``SeriesNumber``
and ``InstanceNumber``. ``limit`` and ``offset`` page; ``includefield`` is accepted (the
answer always carries every attribute the index holds; ``all`` also adds instance headers);
``fuzzymatching`` is ignored. Other keys are listed in :attr:`QidoQuery.ignored` so that the
service can warn about them.

Examples
--------
>>> q = parse_qido([("PatientName", "doe*"), ("StudyDate", "20240101-"), ("limit", "10")])
>>> q.patient_name, q.study_dates, q.limit
('doe*', DateRange(start=datetime.date(2024, 1, 1), end=None), 10)
>>> parse_qido([("00080061", "CT,MR"), ("Foo", "1")]).modalities_in_study
('CT', 'MR')
>>> parse_qido([("StudyDate", "2024-13-01")])
Traceback (most recent call last):
...
vesalius.errors.InputError: StudyDate: '2024-13-01' is not a date or date range (YYYYMMDD-YYYYMMDD)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from vesalius.errors import InputError
from vesalius.ingest.dicomweb.dicomjson import keyword_of

#: The most results one QIDO-RS answer carries.
MAX_LIMIT = 1000
_TEXT = {
    "PatientName": "patient_name",
    "PatientID": "patient_id",
    "AccessionNumber": "accession_number",
    "StudyDescription": "study_description",
}
_LISTS = {
    "StudyInstanceUID": "study_uids",
    "SeriesInstanceUID": "series_uids",
    "SOPInstanceUID": "sop_uids",
    "SOPClassUID": "sop_class_uids",
    "ModalitiesInStudy": "modalities_in_study",
    "Modality": "modalities",
}
_INTS = {"SeriesNumber": "series_number", "InstanceNumber": "instance_number"}
_CONTROL = {"limit", "offset", "includefield", "fuzzymatching"}


@dataclass(frozen=True)
class DateRange:
    """Inclusive date bounds; ``None`` leaves that end open."""

    start: date | None
    end: date | None


@dataclass(frozen=True)
class QidoQuery:
    """The matching keys and paging of one QIDO-RS request."""

    patient_name: str | None = None
    patient_id: str | None = None
    accession_number: str | None = None
    study_description: str | None = None
    study_dates: DateRange | None = None
    study_uids: tuple[str, ...] = ()
    series_uids: tuple[str, ...] = ()
    sop_uids: tuple[str, ...] = ()
    sop_class_uids: tuple[str, ...] = ()
    modalities_in_study: tuple[str, ...] = ()
    modalities: tuple[str, ...] = ()
    series_number: int | None = None
    instance_number: int | None = None
    limit: int | None = None
    offset: int = 0
    include_all: bool = False
    include: tuple[str, ...] = ()
    ignored: tuple[str, ...] = field(default=())

    def scoped(self, *, study_uid: str | None = None, series_uid: str | None = None) -> QidoQuery:
        """This query narrowed to the study and series named in the URL path."""
        from dataclasses import replace

        out = self
        if study_uid is not None:
            out = replace(out, study_uids=(study_uid,))
        if series_uid is not None:
            out = replace(out, series_uids=(series_uid,))
        return out


def _parse_date(text: str) -> date:
    return datetime.strptime(text.strip().replace(".", ""), "%Y%m%d").date()


def parse_date_range(text: str) -> DateRange:
    """``20240101``, ``20240101-20241231``, ``-20241231`` or ``20240101-``.

    Examples
    --------
    >>> parse_date_range("-20241231")
    DateRange(start=None, end=datetime.date(2024, 12, 31))
    """
    try:
        if "-" not in text:
            day = _parse_date(text)
            return DateRange(day, day)
        first, _, last = text.partition("-")
        bounds = DateRange(
            _parse_date(first) if first else None, _parse_date(last) if last else None
        )
    except ValueError:
        raise InputError(
            None, f"StudyDate: {text!r} is not a date or date range (YYYYMMDD-YYYYMMDD)"
        ) from None
    if bounds.start and bounds.end and bounds.start > bounds.end:
        raise InputError(None, f"StudyDate: range {text!r} is empty")
    return bounds


def _non_negative(key: str, text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise InputError(None, f"{key}: {text!r} is not a whole number") from None
    if value < 0:
        raise InputError(None, f"{key}: must not be negative, got {value}")
    return value


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def parse_qido(items: Iterable[tuple[str, str]]) -> QidoQuery:
    """Parse the query string pairs of a QIDO-RS request.

    Raises
    ------
    InputError
        A malformed value (date, number, limit out of range).
    """
    values: dict[str, object] = {}
    lists: dict[str, list[str]] = {}
    include: list[str] = []
    ignored: list[str] = []
    for key, raw in items:
        if key in _CONTROL:
            _control(key, raw, values, include)
            continue
        keyword = keyword_of(key)
        if keyword is None or not raw.strip():
            ignored.extend([] if keyword else [key])
            continue
        if keyword in _TEXT:
            values[_TEXT[keyword]] = raw.strip()
        elif keyword in _LISTS:
            lists.setdefault(_LISTS[keyword], []).extend(_split(raw))
        elif keyword in _INTS:
            values[_INTS[keyword]] = _non_negative(keyword, raw)
        elif keyword == "StudyDate":
            values["study_dates"] = parse_date_range(raw.strip())
        else:
            ignored.append(keyword)
    return QidoQuery(
        **values,  # type: ignore[arg-type]
        **{name: tuple(dict.fromkeys(v)) for name, v in lists.items()},  # type: ignore[arg-type]
        include_all="all" in include,
        include=tuple(i for i in include if i != "all"),
        ignored=tuple(ignored),
    )


def _control(key: str, raw: str, values: dict[str, object], include: list[str]) -> None:
    if key == "limit":
        limit = _non_negative("limit", raw)
        if not 1 <= limit <= MAX_LIMIT:
            raise InputError(None, f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
        values["limit"] = limit
    elif key == "offset":
        values["offset"] = _non_negative("offset", raw)
    elif key == "includefield":
        for part in _split(raw):
            keyword = "all" if part == "all" else keyword_of(part)
            if keyword is None:
                raise InputError(None, f"includefield: {part!r} is not a DICOM keyword or tag")
            include.append(keyword)
