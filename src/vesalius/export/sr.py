"""DICOM Comprehensive 3D SR with a TID 1500 Measurement Report of a study's findings.

Public API (used by the other exports and the CLI):

- ``build_sr(findings, evidence, *, segs=(), identity) -> highdicom.sr.Comprehensive3DSR``:
  the report of ``findings`` (:class:`~vesalius.export.sr_content.StoredFinding`: a
  finding and its row id), whose groups reference the segments of ``segs``
  (:class:`~vesalius.export.seg.SegExport`) that name the finding; ``evidence`` is the
  headers of the source images (pixel data not needed).
- ``export_sr(store, blobs, study_uid, *, segs=None) -> SrExport``: the report of every
  finding of the study kept in the store; ``segs`` are the SEGs exported with it (by default
  :func:`~vesalius.export.seg.export_segs` is called).

The observer is a device (Vesalius; each group names its algorithm and version): the report
says the findings are AI-generated and unverified (Completion Flag PARTIAL, Verification
Flag UNVERIFIED). How each finding becomes a group, or derived measurements and qualitative
evaluations when it has no place on the images, is described in
:mod:`vesalius.export.sr_content`; IHE AI Results: the SR references the SEG and the source
images, and both are listed as evidence. :func:`read_derived_measurements` and
:func:`read_qualitative_evaluations` read back what highdicom has no reader for.

Examples
--------
>>> from vesalius.core import SeriesRef
>>> from vesalius.export.seg_testing import tiny_sources
>>> from vesalius.findings import codes
>>> from vesalius.findings.model import Finding, Measurement
>>> sources = tiny_sources(2, 4, 8)
>>> ref = SeriesRef(sources[0].StudyInstanceUID, sources[0].SeriesInstanceUID)
>>> lung = Finding(codes.LUNG, "vesalius.chest-ct.lungs", "0.1.0", ref,
...                measurements=(Measurement(codes.VOLUME, 2400.0, "mL"),))
>>> sr = build_sr([StoredFinding(1, lung)], sources, identity=SrIdentity.derived("doc"))
>>> report = read_report(sr_bytes(sr))
>>> report.get_planar_roi_measurement_groups()  # the lung has no place on the images
[]
>>> [m.value for m in read_derived_measurements(report)]
[2400.0]
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import highdicom as hd
from highdicom.sr.templates import DEFAULT_LANGUAGE
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes as dicom_codes

import vesalius
from vesalius.errors import InputError, StoreError
from vesalius.export.seg_study import SegExport, export_segs
from vesalius.export.sr_content import (
    DERIVED_IMAGING_MEASUREMENTS,
    QUALITATIVE_EVALUATIONS,
    ReportContent,
    SegmentRef,
    StoredFinding,
    report_content,
)
from vesalius.findings.model import Finding
from vesalius.findings.persist import PAYLOAD_KEY
from vesalius.io.dicom_write import derive_uid
from vesalius.store import BlobStore, Store
from vesalius.store.findings import findings_of_study
from vesalius.store.index import list_instances

__all__ = [
    "SrExport",
    "SrIdentity",
    "StoredFinding",
    "build_sr",
    "export_sr",
    "read_derived_measurements",
    "read_qualitative_evaluations",
    "read_report",
    "sr_bytes",
    "stored_findings",
]

log = logging.getLogger(__name__)

CT_CHEST = hd.sr.CodedConcept("24627-2", "LN", "CT Chest")
"""Procedure reported (LOINC) when none is given."""
SR_SERIES_NUMBER = 902


@dataclass(frozen=True)
class SrIdentity:
    """Identity of the new SR instance."""

    series_uid: str
    sop_instance_uid: str
    series_number: int = SR_SERIES_NUMBER
    instance_number: int = 1

    @classmethod
    def derived(cls, *parts: str) -> SrIdentity:
        """UIDs derived from ``parts``: the same content gives the same UIDs."""
        return cls(derive_uid(*parts, "sr-series"), derive_uid(*parts, "sr-instance"))


@dataclass(frozen=True, eq=False)
class SrExport:
    """An SR written for a study: its bytes and UIDs."""

    data: bytes
    sop_instance_uid: str
    series_uid: str

    def dataset(self) -> Dataset:
        """The SR parsed by pydicom."""
        return dcmread(io.BytesIO(self.data))


def sr_bytes(sr: hd.sr.Comprehensive3DSR) -> bytes:
    """The SR as DICOM Part 10 bytes."""
    out = io.BytesIO()
    sr.save_as(out, enforce_file_format=True)
    return out.getvalue()


def read_report(data: bytes) -> hd.sr.MeasurementReport:
    """The TID 1500 Measurement Report of an SR's bytes, read by highdicom."""
    content = hd.sr.srread(io.BytesIO(data)).content
    if not isinstance(content, hd.sr.MeasurementReport):
        raise InputError(None, "the SR holds no TID 1500 Measurement Report")
    return content


def _items_of(report: hd.sr.MeasurementReport, container: hd.sr.CodedConcept) -> list[Dataset]:
    found = hd.sr.utils.find_content_items(
        report[0], name=container, value_type=hd.sr.ValueTypeValues.CONTAINER
    )
    return [item for c in found for item in getattr(c, "ContentSequence", [])]


def read_derived_measurements(report: hd.sr.MeasurementReport) -> list[hd.sr.Measurement]:
    """The report's "Derived Imaging Measurements" (study-level values), in order."""
    return [
        hd.sr.Measurement.from_sequence([item])
        for item in _items_of(report, DERIVED_IMAGING_MEASUREMENTS)
        if item.ValueType == "NUM"
    ]


def read_qualitative_evaluations(report: hd.sr.MeasurementReport) -> list[hd.sr.CodeContentItem]:
    """The report's document-level "Qualitative Evaluations" (study-level categories)."""
    return [
        hd.sr.CodeContentItem.from_dataset(item)
        for item in _items_of(report, QUALITATIVE_EVALUATIONS)
        if item.ValueType == "CODE"
    ]


def _segment_refs(segs: Sequence[SegExport]) -> dict[int, SegmentRef]:
    refs: dict[int, SegmentRef] = {}
    for seg in segs:
        for number, info in enumerate(seg.segments, start=1):
            for finding_id in info.finding_ids:
                refs[finding_id] = SegmentRef(seg.sop_instance_uid, number, seg.source_series_uid)
    return refs


def _observer() -> hd.sr.ObservationContext:
    device = hd.sr.DeviceObserverIdentifyingAttributes(
        uid=derive_uid("vesalius", vesalius.__version__, "device"),
        name="Vesalius",
        manufacturer_name="Vesalius",
        model_name=f"vesalius {vesalius.__version__}",
    )
    context = hd.sr.ObserverContext(dicom_codes.DCM.Device, device)
    return hd.sr.ObservationContext(observer_device_context=context)


def _report(content: ReportContent, procedure: hd.sr.CodedConcept) -> hd.sr.MeasurementReport:
    """The TID 1500 root: Imaging Measurements when there are groups, then the containers.

    highdicom requires Imaging Measurements; TID 1500 does not when derived measurements or
    qualitative evaluations are present, so without groups the root is built here the way
    highdicom builds it (language, observation context, procedure reported).
    """
    if content.groups:
        report = hd.sr.MeasurementReport(_observer(), procedure, content.groups)
    else:
        root = hd.sr.ContainerContentItem(
            name=dicom_codes.DCM.ImagingMeasurementReport, template_id="1500"
        )
        root.ContentSequence = hd.sr.ContentSequence(
            [
                *hd.sr.LanguageOfContentItemAndDescendants(DEFAULT_LANGUAGE),
                *_observer(),
                hd.sr.CodeContentItem(
                    dicom_codes.DCM.ProcedureReported,
                    procedure,
                    relationship_type=hd.sr.RelationshipTypeValues.HAS_CONCEPT_MOD,
                ),
            ]
        )
        report = hd.sr.MeasurementReport.from_sequence([root], copy=False)
    report[0].ContentSequence.extend(content.containers())
    return report


def build_sr(
    findings: Sequence[StoredFinding],
    evidence: Sequence[Dataset],
    *,
    segs: Sequence[SegExport] = (),
    identity: SrIdentity,
    procedure: hd.sr.CodedConcept = CT_CHEST,
) -> hd.sr.Comprehensive3DSR:
    """A TID 1500 Measurement Report of ``findings`` (see the module doc).

    Raises
    ------
    InputError
        No finding, or no evidence image.
    """
    if not findings:
        raise InputError(None, "no finding to report: there is no SR to write")
    if not evidence:
        raise InputError(None, "an SR needs the headers of the images its findings cite")
    content = report_content(findings, _segment_refs(segs), evidence)
    return hd.sr.Comprehensive3DSR(
        evidence=[*evidence, *(seg.dataset() for seg in segs)],
        content=_report(content, procedure),
        series_instance_uid=identity.series_uid,
        series_number=identity.series_number,
        sop_instance_uid=identity.sop_instance_uid,
        instance_number=identity.instance_number,
        manufacturer="Vesalius",
        is_complete=False,
        is_final=False,
        is_verified=False,
        series_description="AI measurements (not reviewed)",
    )


def stored_findings(store: Store, study_uid: str) -> list[StoredFinding]:
    """The study's findings with their row ids, oldest first.

    Raises
    ------
    StoreError
        A finding row whose payload is not a valid finding.
    """
    with store.read_session() as session:
        rows = [(r.id, r.payload) for r in findings_of_study(session, study_uid)]
    found = []
    for row_id, payload in rows:
        if PAYLOAD_KEY not in payload:
            continue
        try:
            found.append(StoredFinding(row_id, Finding.from_json(payload)))
        except InputError as err:
            raise StoreError(f"finding row {row_id} of study {study_uid}: {err}") from None
    return found


def _evidence(store: Store, blobs: BlobStore, study_uid: str, series: set[str]) -> list[Dataset]:
    with store.read_session() as session:
        paths = [
            i.blob_path
            for uid in sorted(series)
            for i in list_instances(session, study_uid, series_uid=uid)
        ]
    return [dcmread(blobs.locate(p), stop_before_pixels=True) for p in paths]


def export_sr(
    store: Store, blobs: BlobStore, study_uid: str, *, segs: Sequence[SegExport] | None = None
) -> SrExport:
    """The Measurement Report of the study's stored findings, referencing its SEGs.

    Raises
    ------
    InputError
        The study has no finding, or none of its findings' images is stored.
    StoreError
        Unreadable findings or blobs.
    """
    findings = stored_findings(store, study_uid)
    if not findings:
        raise InputError(None, f"study {study_uid} has no finding: there is no SR to write")
    if segs is None:
        segs = export_segs(store, blobs, study_uid)
    evidence = _evidence(store, blobs, study_uid, {f.finding.source.series_uid for f in findings})
    parts = [study_uid, *(str(f.id) for f in findings), *(s.sop_instance_uid for s in segs)]
    identity = SrIdentity.derived(*parts)
    sr = build_sr(findings, evidence, segs=segs, identity=identity)
    log.info("SR %s of study %s: %d findings", identity.sop_instance_uid, study_uid, len(findings))
    return SrExport(sr_bytes(sr), identity.sop_instance_uid, identity.series_uid)
