"""STOW-RS: store the parts of a request durably and build the PS3.18 store response.

Every part goes through :func:`~vesalius.ingest.durable.store_instance` (blob fsynced, index
committed) before the answer is built, so a 200 means every instance is durable. A part
that is not DICOM, lacks its UIDs, or belongs to another study than the one in the URL,
gets an item in FailedSOPSequence with a FailureReason; it never makes the request fail.

Examples
--------
>>> import pathlib, tempfile
>>> from pydicom.data import get_testdata_file
>>> from vesalius.store import BlobStore, open_store, sqlite_url
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> store, blobs = open_store(sqlite_url(root / "i.sqlite3")), BlobStore(root / "b")
>>> ct = pathlib.Path(get_testdata_file("CT_small.dcm")).read_bytes()
>>> outcome = store_parts([ct, b"not dicom"], store=store, blobs=blobs)
>>> outcome.status, len(outcome.stored), outcome.failed[0].reason == CANNOT_UNDERSTAND
(202, 1, True)
>>> store.close()
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from pydicom import Dataset

from vesalius.errors import DicomReadError, StoreError
from vesalius.ingest.dicomweb.dicomjson import JsonDataset
from vesalius.ingest.durable import read_header, store_instance
from vesalius.store import BlobStore, DuplicatePolicy, Store

log = logging.getLogger(__name__)

#: FailureReason values (PS3.4 Annex GG / PS3.18 §10.5).
OUT_OF_RESOURCES = 0xA700
PROCESSING_FAILURE = 0x0110
DOES_NOT_MATCH = 0xA900
CANNOT_UNDERSTAND = 0xC000


@dataclass(frozen=True)
class Stored:
    """An instance that is durable and indexed."""

    study_uid: str
    series_uid: str
    sop_class_uid: str
    sop_instance_uid: str


@dataclass(frozen=True)
class Failed:
    """A part that was not stored, with its FailureReason and the reason in words."""

    sop_class_uid: str | None
    sop_instance_uid: str | None
    reason: int
    problem: str


@dataclass(frozen=True)
class StowOutcome:
    """What a STOW-RS request stored and what it refused."""

    stored: tuple[Stored, ...]
    failed: tuple[Failed, ...]

    @property
    def status(self) -> int:
        """200 when all were stored, 409 when none were, 202 otherwise."""
        if not self.failed:
            return 200
        return 409 if not self.stored else 202

    def to_json(self, *, root: str, study_uid: str | None = None) -> JsonDataset:
        """The store response dataset (PS3.18 Table 10.5.3-3) in DICOM JSON."""
        ds = Dataset()
        uid = study_uid or (self.stored[0].study_uid if self.stored else None)
        if uid:
            ds.RetrieveURL = f"{root}/studies/{uid}"
        if self.stored:
            ds.ReferencedSOPSequence = [_referenced(s, root) for s in self.stored]
        if self.failed:
            ds.FailedSOPSequence = [_failed(f) for f in self.failed]
        out: JsonDataset = ds.to_json_dict()
        return out


def _referenced(item: Stored, root: str) -> Dataset:
    ds = Dataset()
    ds.ReferencedSOPClassUID = item.sop_class_uid
    ds.ReferencedSOPInstanceUID = item.sop_instance_uid
    ds.RetrieveURL = (
        f"{root}/studies/{item.study_uid}/series/{item.series_uid}"
        f"/instances/{item.sop_instance_uid}"
    )
    return ds


def _failed(item: Failed) -> Dataset:
    ds = Dataset()
    ds.ReferencedSOPClassUID = item.sop_class_uid or ""
    ds.ReferencedSOPInstanceUID = item.sop_instance_uid or ""
    ds.FailureReason = item.reason
    return ds


def store_part(
    data: bytes,
    *,
    store: Store,
    blobs: BlobStore,
    study_uid: str | None = None,
    on_duplicate: DuplicatePolicy = DuplicatePolicy.KEEP_FIRST,
) -> Stored | Failed:
    """Store one part; a refusal is returned as :class:`Failed`, never raised."""
    try:
        header = read_header(data)
    except DicomReadError as err:
        return Failed(None, None, CANNOT_UNDERSTAND, err.problem)
    sop_class, sop_uid = header.instance.sop_class_uid, header.instance.sop_instance_uid
    if study_uid is not None and header.study.study_uid != study_uid:
        problem = f"instance is in study {header.study.study_uid}, not {study_uid}"
        return Failed(sop_class, sop_uid, DOES_NOT_MATCH, problem)
    try:
        store_instance(data, store=store, blobs=blobs, header=header, on_duplicate=on_duplicate)
    except DicomReadError as err:
        return Failed(sop_class, sop_uid, CANNOT_UNDERSTAND, err.problem)
    except StoreError as err:
        log.error("STOW-RS: instance %s not stored: %s", sop_uid, err)
        return Failed(sop_class, sop_uid, PROCESSING_FAILURE, str(err))
    return Stored(header.study.study_uid, header.series.series_uid, sop_class, sop_uid)


def store_parts(
    parts: Iterable[bytes],
    *,
    store: Store,
    blobs: BlobStore,
    study_uid: str | None = None,
    on_duplicate: DuplicatePolicy = DuplicatePolicy.KEEP_FIRST,
) -> StowOutcome:
    """Store each part in turn and collect the outcome."""
    stored: list[Stored] = []
    failed: list[Failed] = []
    for data in parts:
        result = store_part(
            data, store=store, blobs=blobs, study_uid=study_uid, on_duplicate=on_duplicate
        )
        if isinstance(result, Stored):
            stored.append(result)
        else:
            log.warning("STOW-RS part refused: %s", result.problem)
            failed.append(result)
    return StowOutcome(tuple(stored), tuple(failed))
