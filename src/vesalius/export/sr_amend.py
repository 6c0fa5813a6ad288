"""The SR of an amended report: a new instance that names the one it replaces.

A report signed once (final, version 1) is exported with the SR UIDs of
:func:`~vesalius.export.sr.export_sr`. Each amendment (version 2, 3 ...) is signed again and
exported again as a *new* SR instance: same series, Instance Number = the report's
version, a SOP Instance UID derived from the first one and the version
(:func:`version_uid`), and a Predecessor Documents Sequence naming the SR of the previous
version, as PS3.3 C.17.2 asks of a document that supersedes another. Since the UIDs are
derived, the predecessor's UID is known without keeping the earlier file.

Examples
--------
>>> base = "1.2.826.0.1.3680043.8.498.5"
>>> version_uid(base, 1) == base, version_uid(base, 2) == version_uid(base, 2) != base
(True, True)
"""

from __future__ import annotations

import io

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import UID

from vesalius.export.sr import SrExport
from vesalius.io.dicom_write import derive_uid

__all__ = ["amended_sr", "predecessor_uids", "version_uid"]


def version_uid(first_uid: str, version: int) -> str:
    """The SOP Instance UID of the SR of report version ``version`` (1: ``first_uid``)."""
    if version <= 1:
        return first_uid
    return derive_uid(first_uid, "report-version", str(version))


def _predecessor(study_uid: str, series_uid: str, sop_class: str, sop_uid: str) -> Dataset:
    ref = Dataset()
    ref.ReferencedSOPClassUID, ref.ReferencedSOPInstanceUID = sop_class, sop_uid
    series = Dataset()
    series.SeriesInstanceUID = series_uid
    series.ReferencedSOPSequence = Sequence([ref])
    study = Dataset()
    study.StudyInstanceUID = study_uid
    study.ReferencedSeriesSequence = Sequence([series])
    return study


def amended_sr(sr: SrExport, version: int) -> SrExport:
    """The SR ``sr`` (as first exported) re-issued for report version ``version``.

    Version 1 gives ``sr`` unchanged; a later version gives a new instance whose
    Predecessor Documents Sequence references the SR of version ``version - 1``.
    """
    if version <= 1:
        return sr
    ds = sr.dataset()
    first = str(ds.SOPInstanceUID)
    uid = version_uid(first, version)
    ds.SOPInstanceUID = uid
    ds.file_meta.MediaStorageSOPInstanceUID = UID(uid)
    ds.InstanceNumber = version
    previous = version_uid(first, version - 1)
    ds.PredecessorDocumentsSequence = Sequence(
        [_predecessor(str(ds.StudyInstanceUID), sr.series_uid, str(ds.SOPClassUID), previous)]
    )
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return SrExport(out.getvalue(), uid, sr.series_uid)


def predecessor_uids(data: bytes) -> list[str]:
    """The SOP Instance UIDs an SR's Predecessor Documents Sequence names (none: ``[]``)."""
    ds = dcmread(io.BytesIO(data), stop_before_pixels=True)
    return [
        str(sop.ReferencedSOPInstanceUID)
        for study in ds.get("PredecessorDocumentsSequence", [])
        for series in study.ReferencedSeriesSequence
        for sop in series.ReferencedSOPSequence
    ]
