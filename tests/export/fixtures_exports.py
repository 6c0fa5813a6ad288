"""Shared test data of the FHIR, PDF, mesh, send and on-sign export tests.

- :func:`sample_content`: a chest CT study's content (lungs, calcium score with CAC-DRS, a
  Lung-RADS category-only finding), built in memory;
- :func:`indexed_study`: the same study filed in a store (instances, findings, a report);
- :class:`LoopbackServer`: an ASGI app served by uvicorn on 127.0.0.1 in a thread, the
  test double of a remote endpoint (a FHIR server, a DICOMweb server).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import numpy as np
import uvicorn
from pydicom import Dataset

from vesalius.core import SeriesRef, Volume
from vesalius.export.content import ReportSummary, SeriesSummary, StudyContent
from vesalius.findings import codes
from vesalius.findings.model import Category, CodedConcept, Finding, Location, Measurement
from vesalius.findings.persist import save_findings
from vesalius.store import BlobStore, InstanceHeader, Store, add_instance
from vesalius.store.findings import Code
from vesalius.store.reports import create_draft, finalize, mark_preliminary

STUDY_UID = "1.2.826.0.1.3680043.8.498.1"
SERIES_UID = STUDY_UID + ".1"
PATIENT_ID = "PAT-0042"
PATIENT_NAME = "Doe^Jane"
SOURCE = SeriesRef(STUDY_UID, SERIES_UID, (SERIES_UID + ".1",))
ALGORITHM = ("vesalius.chest-ct", "0.3.1")
REPORT_TEXT = (
    "CT CHEST\n\nFINDINGS:\nLungs: Left lung 2512.5 mL. [AI: vesalius.chest-ct 0.3.1]\n\n"
    "IMPRESSION:\nModerate coronary calcification.\n\n"
    "RECOMMENDATION:\nCardiology referral."
)
LUNG_RADS = CodedConcept.text("Lung nodule")


def sample_findings() -> tuple[Finding, ...]:
    """Left and right lungs, coronary calcium (score, CAC-DRS), a Lung-RADS category."""
    name, version = ALGORITHM
    lungs = tuple(
        Finding(
            codes.LUNG,
            name,
            version,
            SOURCE,
            measurements=(Measurement(codes.VOLUME, volume, "mL", method="voxel count"),),
            location=Location(codes.LUNG, laterality=side),
            description=f"{side.title()} lung {volume} mL",
        )
        for side, volume in (("left", 2512.5), ("right", 2790.25))
    )
    calcium = Finding(
        codes.CORONARY_CALCIFICATION,
        name,
        version,
        SOURCE,
        measurements=(
            Measurement(codes.CALCIUM_SCORE, 187.4, "1", method="Agatston"),
            Measurement(codes.CALCIUM_VOLUME, 151.0, "mm3"),
        ),
        categories=(Category("CAC-DRS", "A2/N2", "moderate"),),
        description="Agatston 187.4, CAC-DRS A2/N2",
    )
    nodule = Finding(
        LUNG_RADS,
        "vesalius.nodules",
        "0.1.0",
        SOURCE,
        categories=(Category("Lung-RADS", "2", "benign appearance"),),
        description="Lung-RADS 2",
    )
    return (*lungs, calcium, nodule)


def sample_content(state: str | None = "final") -> StudyContent:
    """The study's content with a report in ``state`` (``None``: no report)."""
    report = None
    if state is not None:
        signed = state in ("final", "amended")
        report = ReportSummary(
            7,
            state,
            REPORT_TEXT,
            2 if state == "amended" else 1,
            "Dr. Grey" if signed else None,
            None,
            "ai:chest-ct",
        )
    return StudyContent(
        study_uid=STUDY_UID,
        patient_id=PATIENT_ID,
        patient_name=PATIENT_NAME,
        patient_birth_date=date(1961, 4, 2),
        patient_sex="F",
        study_date=date(2026, 3, 14),
        accession_number="ACC123",
        description="CT CHEST WO CONTRAST",
        series=(SeriesSummary(SERIES_UID, "CT", 2, "Chest 1.0", 3),),
        findings=sample_findings(),
        report=report,
    )


def instance_header(k: int) -> InstanceHeader:
    """The header of instance ``k`` of the sample series."""
    ds = Dataset()
    ds.PatientID, ds.PatientName = PATIENT_ID, PATIENT_NAME
    ds.StudyInstanceUID, ds.SeriesInstanceUID = STUDY_UID, SERIES_UID
    ds.SOPInstanceUID, ds.SOPClassUID = f"{SERIES_UID}.{k}", "1.2.840.10008.5.1.4.1.1.2"
    ds.Modality, ds.SeriesNumber, ds.StudyDate = "CT", 2, "20260314"
    ds.AccessionNumber, ds.StudyDescription = "ACC123", "CT CHEST WO CONTRAST"
    return InstanceHeader.from_dataset(ds)


def indexed_study(store: Store, blobs: BlobStore, *, sign: bool = True) -> int:
    """File the sample study in ``store`` (3 instances, the findings, a report); its report id."""
    with store.session() as session:
        for k in range(1, 4):
            add_instance(session, instance_header(k), blobs.put(f"instance {k}".encode()))
        save_findings(session, sample_findings())
        report = create_draft(session, STUDY_UID, text=REPORT_TEXT, author="ai:chest-ct")
        if sign:
            mark_preliminary(session, report.id)
            finalize(session, report.id, signed_by="Dr. Grey")
        return report.id


LABEL_NAMES = {1: "Left lung", 2: "Right lung"}


def label_map() -> Volume:
    """Two boxes on a 2 x 1 x 1 mm grid: label 1 in the patient's left (x > 0), 2 right."""
    labels = np.zeros((8, 16, 32), np.uint8)
    labels[2:6, 4:12, 20:28] = 1
    labels[2:6, 4:12, 4:12] = 2
    return Volume.from_spacing(labels, spacing=(2.0, 1.0, 1.0), origin=(-16.0, -8.0, 0.0))


def add_label_map(store: Store, blobs: BlobStore) -> None:
    """File :func:`label_map` as a segmentation of the sample series."""
    from vesalius.store.segmentations import (
        LabelMapRecord,
        SegmentInfo,
        add_segmentation,
        encode_label_map,
    )

    anatomy = Code("SCT", "91723000", "Anatomical Structure")
    lung = Code("SCT", "39607008", "Lung")
    segments = tuple(SegmentInfo(k, name, anatomy, lung) for k, name in LABEL_NAMES.items())
    record = LabelMapRecord(STUDY_UID, SERIES_UID, "vesalius.chest-ct.lungs", "0.1.0", segments)
    blob = blobs.put(encode_label_map(label_map()), suffix=".npz")
    with store.session() as session:
        add_segmentation(session, record, blob.path)


class LoopbackServer:
    """Serve an ASGI ``app`` on 127.0.0.1 (a free port) in a daemon thread."""

    def __init__(self, app: Any) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        config = uvicorn.Config(app, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    @contextmanager
    def running(self) -> Iterator[LoopbackServer]:
        """Start the server, yield, then stop it."""
        self.thread.start()
        while not self.server.started and self.thread.is_alive():
            time.sleep(0.01)
        if not self.server.started:
            raise RuntimeError("the loopback server did not start")
        try:
            yield self
        finally:
            self.server.should_exit = True
            self.thread.join()
            self.sock.close()
