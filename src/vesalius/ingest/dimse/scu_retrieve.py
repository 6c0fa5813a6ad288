"""Client side, querying and retrieving: C-FIND a peer, C-MOVE or C-GET studies from it.

C-MOVE asks the peer to send to an AE title it knows (ours, normally, with our listener
running); C-GET brings the instances back over the same association and stores each one
through the durable path, exactly as the listener does, before answering the peer.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from pydicom import Dataset
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian
from pynetdicom import build_role, evt
from pynetdicom.presentation import PresentationContext, build_context

from vesalius.ingest.dimse import status
from vesalius.ingest.dimse.catalog import Level
from vesalius.ingest.dimse.config import ListenerConfig
from vesalius.ingest.dimse.context import OnStored, ServiceContext
from vesalius.ingest.dimse.handlers import handle_store
from vesalius.ingest.dimse.scu import PeerError, associate
from vesalius.ingest.dimse.syntaxes import (
    MAX_CONTEXTS,
    TRANSFER_SYNTAXES,
    StudyRootFind,
    StudyRootGet,
    StudyRootMove,
    storage_sop_classes,
)
from vesalius.settings import DicomPeer
from vesalius.store import BlobStore, Store

log = logging.getLogger(__name__)

_RETURN_KEYS = {
    Level.STUDY: (
        "PatientID",
        "PatientName",
        "PatientBirthDate",
        "StudyInstanceUID",
        "StudyDate",
        "StudyTime",
        "AccessionNumber",
        "StudyDescription",
        "ModalitiesInStudy",
        "NumberOfStudyRelatedSeries",
        "NumberOfStudyRelatedInstances",
    ),
    Level.SERIES: (
        "StudyInstanceUID",
        "SeriesInstanceUID",
        "Modality",
        "SeriesNumber",
        "SeriesDescription",
        "NumberOfSeriesRelatedInstances",
    ),
    Level.IMAGE: (
        "StudyInstanceUID",
        "SeriesInstanceUID",
        "SOPInstanceUID",
        "SOPClassUID",
        "InstanceNumber",
    ),
}


@dataclass(frozen=True)
class PeerQuery:
    """What to ask a peer for (Study Root); empty fields match everything.

    ``patient_name`` and ``patient_id`` take DICOM wildcards; ``study_date`` is a date or
    a DICOM range (``"20240101-20240131"``). SERIES and IMAGE level need ``study_uid``.

    Examples
    --------
    >>> PeerQuery(patient_id="P*").identifier().PatientID
    'P*'
    """

    level: Level = Level.STUDY
    patient_id: str = ""
    patient_name: str = ""
    study_uid: str = ""
    study_date: str = ""
    accession_number: str = ""
    modality: str = ""
    series_uid: str = ""

    def identifier(self) -> Dataset:
        """The C-FIND identifier: the filters and the keys to return."""
        ds = Dataset()
        ds.QueryRetrieveLevel = self.level.value
        for keyword in _RETURN_KEYS[self.level]:
            setattr(ds, keyword, "")
        ds.PatientID, ds.StudyInstanceUID = self.patient_id, self.study_uid
        if self.level is Level.STUDY:
            ds.PatientName, ds.StudyDate = self.patient_name, self.study_date
            ds.AccessionNumber, ds.ModalitiesInStudy = self.accession_number, self.modality
        else:
            ds.SeriesInstanceUID = self.series_uid
            if self.level is Level.SERIES:
                ds.Modality = self.modality
        return ds


@dataclass(frozen=True)
class FindMatch:
    """One answer of a peer (fields of other levels stay ``None``)."""

    level: Level
    study_uid: str | None = None
    patient_id: str | None = None
    patient_name: str | None = None
    study_date: date | None = None
    accession_number: str | None = None
    description: str | None = None
    modalities: tuple[str, ...] = ()
    n_series: int | None = None
    n_instances: int | None = None
    series_uid: str | None = None
    series_number: int | None = None
    sop_instance_uid: str | None = None
    instance_number: int | None = None


def _str(ds: Dataset, keyword: str) -> str | None:
    value = ds.get(keyword)
    text = "" if value is None else str(value).strip()
    return text or None


def _int(ds: Dataset, keyword: str) -> int | None:
    try:
        return int(str(ds.get(keyword)).strip())
    except (TypeError, ValueError):
        return None


def _date(ds: Dataset, keyword: str) -> date | None:
    text = _str(ds, keyword)
    try:
        return None if text is None else date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None


def _match(level: Level, ds: Dataset) -> FindMatch:
    modalities = ds.get("ModalitiesInStudy") or ()
    mods = (modalities,) if isinstance(modalities, str) else tuple(str(m) for m in modalities)
    series_description = _str(ds, "SeriesDescription")
    return FindMatch(
        level=level,
        study_uid=_str(ds, "StudyInstanceUID"),
        patient_id=_str(ds, "PatientID"),
        patient_name=_str(ds, "PatientName"),
        study_date=_date(ds, "StudyDate"),
        accession_number=_str(ds, "AccessionNumber"),
        description=_str(ds, "StudyDescription") or series_description,
        modalities=tuple(m for m in mods if m) or tuple(filter(None, [_str(ds, "Modality")])),
        n_series=_int(ds, "NumberOfStudyRelatedSeries"),
        n_instances=_int(ds, "NumberOfStudyRelatedInstances")
        or _int(ds, "NumberOfSeriesRelatedInstances"),
        series_uid=_str(ds, "SeriesInstanceUID"),
        series_number=_int(ds, "SeriesNumber"),
        sop_instance_uid=_str(ds, "SOPInstanceUID"),
        instance_number=_int(ds, "InstanceNumber"),
    )


def find(peer: DicomPeer, query: PeerQuery, *, calling_ae: str) -> tuple[FindMatch, ...]:
    """C-FIND ``peer`` (Study Root) with ``query``.

    Raises
    ------
    PeerError
        When the peer cannot be reached or answers a failure.
    """
    model = StudyRootFind
    matches = []
    with associate(peer, calling_ae=calling_ae, contexts=[build_context(model)]) as assoc:
        for rsp, identifier in assoc.send_c_find(query.identifier(), model):
            code = int(getattr(rsp, "Status", -1))
            if code in (status.PENDING, 0xFF01) and identifier is not None:
                matches.append(_match(query.level, identifier))
            elif code != status.SUCCESS:
                raise PeerError(f"C-FIND on {peer.ae_title}: {status.describe(code)}")
    return tuple(matches)


@dataclass(frozen=True)
class RetrieveResult:
    """Sub-operation counts of a C-MOVE or C-GET, and its final status."""

    completed: int
    failed: int
    warning: int
    status: int


def _final(
    peer: DicomPeer, what: str, responses: Iterable[tuple[Dataset, object]]
) -> RetrieveResult:
    last = None
    for rsp, _ in responses:
        if getattr(rsp, "Status", None) is None:
            raise PeerError(f"{what} on {peer.ae_title}: no answer (timeout or aborted)")
        last = rsp
    if last is None:
        raise PeerError(f"{what} on {peer.ae_title}: no answer")
    code = int(last.Status)
    result = RetrieveResult(
        completed=int(last.get("NumberOfCompletedSuboperations", 0) or 0),
        failed=int(last.get("NumberOfFailedSuboperations", 0) or 0),
        warning=int(last.get("NumberOfWarningSuboperations", 0) or 0),
        status=code,
    )
    if code not in (status.SUCCESS, 0xB000):
        raise PeerError(f"{what} on {peer.ae_title}: {status.describe(code)}")
    return result


def _study_identifier(study_uid: str) -> Dataset:
    ds = Dataset()
    ds.QueryRetrieveLevel, ds.StudyInstanceUID = "STUDY", study_uid
    return ds


def move_study(
    peer: DicomPeer, study_uid: str, *, calling_ae: str, destination_ae: str
) -> RetrieveResult:
    """Ask ``peer`` to C-MOVE a study to ``destination_ae`` (which it must know).

    Raises
    ------
    PeerError
        When the peer cannot be reached, does not know the destination, or fails.
    """
    model = StudyRootMove
    with associate(peer, calling_ae=calling_ae, contexts=[build_context(model)]) as assoc:
        responses = assoc.send_c_move(_study_identifier(study_uid), destination_ae, model)
        return _final(peer, "C-MOVE", responses)


#: SOP classes for which C-GET also proposes the compressed syntaxes (in a context of their own).
COMMON_CLASSES = (
    "1.2.840.10008.5.1.4.1.1.2",  # CT
    "1.2.840.10008.5.1.4.1.1.4",  # MR
    "1.2.840.10008.5.1.4.1.1.128",  # PET
    "1.2.840.10008.5.1.4.1.1.7",  # Secondary Capture
    "1.2.840.10008.5.1.4.1.1.2.1",  # Enhanced CT
    "1.2.840.10008.5.1.4.1.1.4.1",  # Enhanced MR
    "1.2.840.10008.5.1.4.1.1.1",  # CR
    "1.2.840.10008.5.1.4.1.1.1.1",  # DX
    "1.2.840.10008.5.1.4.1.1.1.2",  # MG
    "1.2.840.10008.5.1.4.1.1.6.1",  # US
)


def get_contexts(classes: Iterable[str]) -> list[PresentationContext]:
    """Storage contexts a C-GET proposes (at most 127, beside the C-GET one).

    Each class gets a context of explicit and implicit little endian, so that a peer that
    prefers compressed syntaxes cannot pick one the instance is not in; the common image
    classes get a second context with the compressed syntaxes.
    """
    uncompressed = [ExplicitVRLittleEndian, ImplicitVRLittleEndian]
    compressed = [ts for ts in TRANSFER_SYNTAXES if ts not in uncompressed]
    contexts = [build_context(c, list(compressed)) for c in COMMON_CLASSES]
    contexts += [build_context(c, list(uncompressed)) for c in classes]
    return contexts[: MAX_CONTEXTS - 1]


def get_study(
    peer: DicomPeer,
    study_uid: str,
    *,
    calling_ae: str,
    store: Store,
    blobs: BlobStore,
    min_free_bytes: int = 0,
    on_stored: OnStored | None = None,
) -> RetrieveResult:
    """C-GET a study from ``peer`` into the store (each instance stored durably first).

    Raises
    ------
    PeerError
        When the peer cannot be reached or fails the retrieve.
    """
    model = StudyRootGet
    classes = storage_sop_classes(proposable=True)
    contexts = [build_context(model), *get_contexts(classes)]
    roles = [
        build_role(c, scp_role=True)
        for c in dict.fromkeys(str(cx.abstract_syntax) for cx in contexts[1:])
    ]
    config = ListenerConfig(ae_title=calling_ae, port=0, min_free_bytes=min_free_bytes)
    ctx = ServiceContext(config, store, blobs, on_stored)
    handlers = [(evt.EVT_C_STORE, handle_store, [ctx])]
    with associate(
        peer, calling_ae=calling_ae, contexts=contexts, ext_neg=roles, evt_handlers=handlers
    ) as assoc:
        return _final(peer, "C-GET", assoc.send_c_get(_study_identifier(study_uid), model))
