"""The identifying attributes of a DICOM instance, read from a pydicom header.

:class:`InstanceHeader` is what the index needs to file an instance under its patient,
study and series. Reading is tolerant (a malformed date becomes ``None`` with a log line);
the UIDs the index is keyed on are required. Warnings pydicom gives about malformed values while
the header is read are logged instead of being raised.

Examples
--------
>>> from pydicom import Dataset
>>> ds = Dataset()
>>> ds.PatientID, ds.PatientName, ds.StudyDate = "P1", "Doe^Jane", "20240131"
>>> ds.StudyInstanceUID, ds.SeriesInstanceUID = "1.2.3", "1.2.3.4"
>>> ds.SOPInstanceUID, ds.SOPClassUID, ds.Modality = "1.2.3.4.5", "1.2.840.10008.5.1.4.1.1.2", "CT"
>>> header = InstanceHeader.from_dataset(ds)
>>> header.patient.name, header.study.study_date, header.series.modality
('Doe^Jane', datetime.date(2024, 1, 31), 'CT')
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from datetime import date, datetime
from os import PathLike
from typing import Any, Protocol

from pydicom import Dataset

from vesalius.errors import DicomReadError
from vesalius.io._fastheader import RawHeader

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PatientInfo:
    """Patient identity: PatientID within IssuerOfPatientID, plus demographics."""

    patient_id: str
    issuer: str = ""
    name: str | None = None
    birth_date: date | None = None
    sex: str | None = None


@dataclass(frozen=True)
class StudyInfo:
    """Study-level attributes the worklist and QIDO filter on."""

    study_uid: str
    study_date: date | None = None
    study_time: str | None = None
    accession_number: str | None = None
    study_id: str | None = None
    description: str | None = None
    referring_physician: str | None = None


@dataclass(frozen=True)
class SeriesInfo:
    """Series-level attributes."""

    series_uid: str
    modality: str | None = None
    series_number: int | None = None
    description: str | None = None
    body_part: str | None = None
    frame_of_reference_uid: str | None = None


@dataclass(frozen=True)
class InstanceInfo:
    """Instance-level attributes (SOP class and instance, transfer syntax)."""

    sop_instance_uid: str
    sop_class_uid: str
    transfer_syntax_uid: str | None = None
    instance_number: int | None = None


@dataclass(frozen=True)
class InstanceHeader:
    """Everything the index files an instance under."""

    patient: PatientInfo
    study: StudyInfo
    series: SeriesInfo
    instance: InstanceInfo

    @classmethod
    def from_dataset(
        cls, ds: Dataset, *, source: str | PathLike[str] | None = None
    ) -> InstanceHeader:
        """Read the identifying attributes of ``ds``.

        Parameters
        ----------
        ds
            A pydicom dataset (only the header is used).
        source
            The file it came from, named in errors.

        Raises
        ------
        DicomReadError
            When StudyInstanceUID, SeriesInstanceUID, SOPInstanceUID or SOPClassUID is
            missing or empty.
        """
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            header = cls._read(ds, source, _transfer_syntax(ds))
        for warning in caught:  # pydicom's value checks: logged, since reading is tolerant
            log.warning("%s: %s", source or "dataset", warning.message)
        return header

    @classmethod
    def from_raw(
        cls, raw: RawHeader, *, source: str | PathLike[str] | None = None
    ) -> InstanceHeader | None:
        """The same as :meth:`from_dataset` from a scanned header, or ``None`` to use pydicom.

        ``None`` when the text needs more than the plain decoding this path does: a
        character set other than the default, Latin-1 or UTF-8, a multi-valued attribute or
        a name with component groups (pydicom renders those its own way).

        Examples
        --------
        >>> from pathlib import Path
        >>> from pydicom import dcmread
        >>> from pydicom.data import get_testdata_file
        >>> from vesalius.io._fastheader import scan_header_bytes
        >>> path = get_testdata_file("CT_small.dcm")
        >>> raw = scan_header_bytes(Path(path).read_bytes())
        >>> InstanceHeader.from_raw(raw) == InstanceHeader.from_dataset(dcmread(path))
        True
        """
        values = _RawValues.of(raw)
        return None if values is None else cls._read(values, source, raw.transfer_syntax or None)

    @classmethod
    def _read(
        cls, ds: _Values, source: str | PathLike[str] | None, syntax: str | None
    ) -> InstanceHeader:
        uids = {k: _text(ds, k) for k in _REQUIRED}
        missing = [k for k, v in uids.items() if not v]
        if missing:
            raise DicomReadError(source, f"missing {', '.join(missing)}; cannot index it")
        return cls(
            patient=_patient(ds, source),
            study=_study(ds, uids["StudyInstanceUID"] or "", source),
            series=_series(ds, uids["SeriesInstanceUID"] or ""),
            instance=InstanceInfo(
                sop_instance_uid=uids["SOPInstanceUID"] or "",
                sop_class_uid=uids["SOPClassUID"] or "",
                transfer_syntax_uid=syntax,
                instance_number=_int(ds, "InstanceNumber"),
            ),
        )


_REQUIRED = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "SOPClassUID")
_TEXT_KEYWORDS = frozenset(
    {
        *_REQUIRED,
        *("PatientID", "IssuerOfPatientID", "PatientName", "PatientBirthDate", "PatientSex"),
        *("StudyDate", "StudyTime", "AccessionNumber", "StudyID", "StudyDescription"),
        *("ReferringPhysicianName", "Modality", "SeriesNumber", "SeriesDescription"),
        *("BodyPartExamined", "FrameOfReferenceUID", "InstanceNumber"),
    }
)
_PERSON_NAMES = frozenset({"PatientName", "ReferringPhysicianName"})
_CHARSETS = {"": "latin-1", "ISO_IR 6": "latin-1", "ISO_IR 100": "latin-1", "ISO_IR 192": "utf-8"}


class _Values(Protocol):
    """What the readers below need: a value (or ``None``) by keyword."""

    def get(self, keyword: str) -> Any: ...


class _RawValues:
    """The values of a scanned header, decoded as pydicom would in the simple cases."""

    def __init__(self, texts: dict[str, str]) -> None:
        self._texts = texts

    def get(self, keyword: str) -> str | None:
        return self._texts.get(keyword)

    @classmethod
    def of(cls, raw: RawHeader) -> _RawValues | None:
        """Decoded values, or ``None`` when only pydicom decodes them faithfully."""
        encoding = _CHARSETS.get(raw.text("SpecificCharacterSet"))
        if encoding is None:
            return None
        texts = {}
        for keyword, value in raw.values.items():
            if keyword not in _TEXT_KEYWORDS:
                continue
            try:
                text = value.decode(encoding)
            except UnicodeDecodeError:
                return None
            if "\\" in text or (keyword in _PERSON_NAMES and "=" in text):
                return None  # multi-values, name component groups: as pydicom renders them
            texts[keyword] = text.strip(" \x00")
        return cls(texts)


def _text(ds: _Values, keyword: str) -> str | None:
    value = ds.get(keyword)
    if value is None:
        return None
    text = str(value).strip().rstrip("\x00")
    return text or None


def _int(ds: _Values, keyword: str) -> int | None:
    value = ds.get(keyword)
    try:
        return None if value in (None, "") else int(value)
    except (TypeError, ValueError):
        return None


def _date(ds: _Values, keyword: str, source: str | PathLike[str] | None) -> date | None:
    raw = _text(ds, keyword)
    if raw is None:
        return None
    try:
        return datetime.strptime(raw.replace(".", "")[:8], "%Y%m%d").date()
    except ValueError:
        log.warning("%s: ignoring malformed %s %r", source or "dataset", keyword, raw)
        return None


def _transfer_syntax(ds: Dataset) -> str | None:
    meta = getattr(ds, "file_meta", None)
    value = None if meta is None else meta.get("TransferSyntaxUID")
    return None if value is None else str(value)


def _patient(ds: _Values, source: str | PathLike[str] | None) -> PatientInfo:
    return PatientInfo(
        patient_id=_text(ds, "PatientID") or "",
        issuer=_text(ds, "IssuerOfPatientID") or "",
        name=_text(ds, "PatientName"),
        birth_date=_date(ds, "PatientBirthDate", source),
        sex=_text(ds, "PatientSex"),
    )


def _study(ds: _Values, uid: str, source: str | PathLike[str] | None) -> StudyInfo:
    return StudyInfo(
        study_uid=uid,
        study_date=_date(ds, "StudyDate", source),
        study_time=_text(ds, "StudyTime"),
        accession_number=_text(ds, "AccessionNumber"),
        study_id=_text(ds, "StudyID"),
        description=_text(ds, "StudyDescription"),
        referring_physician=_text(ds, "ReferringPhysicianName"),
    )


def _series(ds: _Values, uid: str) -> SeriesInfo:
    return SeriesInfo(
        series_uid=uid,
        modality=_text(ds, "Modality"),
        series_number=_int(ds, "SeriesNumber"),
        description=_text(ds, "SeriesDescription"),
        body_part=_text(ds, "BodyPartExamined"),
        frame_of_reference_uid=_text(ds, "FrameOfReferenceUID"),
    )
