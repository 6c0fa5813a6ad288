"""QIDO-RS answers: index rows as DICOM JSON, with the PS3.18 required return attributes.

Study level (PS3.18 Table 10.6.3-3): StudyDate, StudyTime, AccessionNumber,
ModalitiesInStudy, ReferringPhysicianName, PatientName, PatientID, PatientBirthDate,
PatientSex, StudyInstanceUID, StudyID, NumberOfStudyRelatedSeries,
NumberOfStudyRelatedInstances, RetrieveURL. Series level: Modality, SeriesInstanceUID,
SeriesNumber, SeriesDescription, NumberOfSeriesRelatedInstances, RetrieveURL (plus the
study's attributes). Instance level: SOPClassUID, SOPInstanceUID, InstanceNumber, Rows,
Columns, BitsAllocated, NumberOfFrames, RetrieveURL (the last four from the stored header).

Examples
--------
>>> from vesalius.ingest.dicomweb.queries import StudyRow
>>> row = StudyRow("1.2.3", None, None, None, None, None, None, "P1", "", "Doe^J", None, None)
>>> answer = study_json(row, root="http://h/dicom-web")
>>> answer["00081190"]["Value"], answer["00100020"]["Value"]
(['http://h/dicom-web/studies/1.2.3'], ['P1'])
"""

from __future__ import annotations

from pydicom import Dataset

from vesalius.ingest.dicomweb.dicomjson import JsonDataset, put, tag_key
from vesalius.ingest.dicomweb.headers import HeaderCache
from vesalius.ingest.dicomweb.queries import InstanceRow, SeriesRow, StudyRow

_INSTANCE_HEADER = ("Rows", "Columns", "BitsAllocated", "NumberOfFrames")


def study_url(root: str, study_uid: str) -> str:
    """The WADO-RS URL of a study."""
    return f"{root}/studies/{study_uid}"


def study_json(row: StudyRow, *, root: str) -> JsonDataset:
    """The QIDO-RS study-level answer for one study."""
    out: JsonDataset = {}
    put(out, "StudyDate", row.study_date)
    put(out, "StudyTime", row.study_time)
    put(out, "AccessionNumber", row.accession_number)
    put(out, "ModalitiesInStudy", row.modalities)
    put(out, "ReferringPhysicianName", row.referring_physician)
    put(out, "StudyDescription", row.description)
    put(out, "PatientName", row.patient_name)
    put(out, "PatientID", row.patient_id)
    put(out, "IssuerOfPatientID", row.issuer or None)
    put(out, "PatientBirthDate", row.birth_date)
    put(out, "PatientSex", row.sex)
    put(out, "StudyInstanceUID", row.study_uid)
    put(out, "StudyID", row.study_id)
    put(out, "NumberOfStudyRelatedSeries", row.n_series)
    put(out, "NumberOfStudyRelatedInstances", row.n_instances)
    put(out, "RetrieveURL", study_url(root, row.study_uid))
    return out


def series_url(root: str, row: SeriesRow) -> str:
    """The WADO-RS URL of a series."""
    return f"{study_url(root, row.study.study_uid)}/series/{row.series_uid}"


def series_json(row: SeriesRow, *, root: str, with_study: bool) -> JsonDataset:
    """The QIDO-RS series-level answer; ``with_study`` adds the study's attributes."""
    out: JsonDataset = study_json(row.study, root=root) if with_study else {}
    put(out, "StudyInstanceUID", row.study.study_uid)
    put(out, "Modality", row.modality)
    put(out, "SeriesInstanceUID", row.series_uid)
    put(out, "SeriesNumber", row.series_number)
    put(out, "SeriesDescription", row.description)
    put(out, "BodyPartExamined", row.body_part)
    put(out, "FrameOfReferenceUID", row.frame_of_reference_uid)
    put(out, "NumberOfSeriesRelatedInstances", row.n_instances)
    put(out, "RetrieveURL", series_url(root, row))
    return out


def _header_json(header: Dataset, keywords: tuple[str, ...]) -> JsonDataset:
    """The ``keywords`` of ``header`` in DICOM JSON (absent ones left out)."""
    subset = Dataset()
    for keyword in keywords:
        if keyword in header:
            subset[keyword] = header[keyword]
    return subset.to_json_dict(bulk_data_threshold=1024, bulk_data_element_handler=lambda _: "")


def instance_json(
    row: InstanceRow,
    *,
    root: str,
    headers: HeaderCache,
    with_series: bool,
    include: tuple[str, ...] = (),
    include_all: bool = False,
) -> JsonDataset:
    """The QIDO-RS instance-level answer for one instance."""
    out = series_json(row.series, root=root, with_study=True) if with_series else {}
    header = headers.header(row.blob_path)
    if include_all:
        keywords = tuple(e.keyword for e in header if e.keyword and e.VR not in ("SQ", "OB", "OW"))
    else:
        keywords = _INSTANCE_HEADER + tuple(include)
    out |= _header_json(header, keywords)
    for keyword in _INSTANCE_HEADER:
        out.setdefault(tag_key(keyword), put_empty(keyword))
    put(out, "StudyInstanceUID", row.series.study.study_uid)
    put(out, "SeriesInstanceUID", row.series.series_uid)
    put(out, "SOPClassUID", row.sop_class_uid)
    put(out, "SOPInstanceUID", row.sop_instance_uid)
    put(out, "InstanceNumber", row.instance_number)
    put(out, "RetrieveURL", f"{series_url(root, row.series)}/instances/{row.sop_instance_uid}")
    return out


def put_empty(keyword: str) -> JsonDataset:
    """An attribute with no value, as DICOM JSON writes it (``{"vr": ...}``)."""
    out: JsonDataset = {}
    put(out, keyword, None)
    return dict(out[tag_key(keyword)])
