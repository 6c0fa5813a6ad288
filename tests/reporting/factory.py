"""Studies and findings for the worklist and report tests: small, made here, no pixels."""

from __future__ import annotations

from datetime import UTC, date, datetime
from io import BytesIO

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian
from sqlalchemy import update

from vesalius.core import SeriesRef
from vesalius.findings import codes
from vesalius.findings.model import Category, CodedConcept, Finding, Location, Measurement
from vesalius.findings.persist import save_findings
from vesalius.store import BlobStore, InstanceHeader, Store, add_instance
from vesalius.store.models import Study

CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
NODULES = "vesalius.chest-ct.nodules"
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def series_uid(study_uid: str) -> str:
    return f"{study_uid}.1"


def header(
    study_uid: str,
    *,
    patient_id: str = "P1",
    name: str = "Doe^Jane",
    modality: str = "CT",
    description: str = "CT CHEST",
    priority: str | None = None,
    location: str | None = None,
    study_date: date | None = None,
) -> Dataset:
    ds = Dataset()
    ds.PatientID, ds.PatientName = patient_id, name
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study_uid, series_uid(study_uid)
    ds.SOPInstanceUID, ds.SOPClassUID = f"{study_uid}.1.1", CT_IMAGE
    ds.Modality, ds.StudyDescription = modality, description
    ds.AccessionNumber = f"ACC{study_uid.rsplit('.', 1)[-1]}"
    ds.StudyDate = (study_date or date(2026, 3, 1)).strftime("%Y%m%d")
    if priority is not None:
        item = Dataset()
        item.RequestedProcedurePriority = priority
        ds.RequestAttributesSequence = [item]
    if location is not None:
        ds.CurrentPatientLocation = location
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    return ds


def add_study(
    store: Store, blobs: BlobStore, study_uid: str, *, arrived_at: datetime = T0, **attrs: object
) -> None:
    """Store one instance of a new study (its header only) that arrived at ``arrived_at``."""
    ds = header(study_uid, **attrs)  # type: ignore[arg-type]
    out = BytesIO()
    ds.save_as(out, enforce_file_format=True)
    with store.session() as session:
        add_instance(session, InstanceHeader.from_dataset(ds), blobs.put(out.getvalue()))
        session.execute(
            update(Study).where(Study.study_uid == study_uid).values(created_at=arrived_at)
        )


def source(study_uid: str) -> SeriesRef:
    return SeriesRef(study_uid, series_uid(study_uid))


def nodule(study_uid: str, category: str, *, size_mm: float = 9.0) -> Finding:
    return Finding(
        CodedConcept.text("Lung nodule"),
        NODULES,
        "0.3.0",
        source(study_uid),
        measurements=(Measurement(CodedConcept.text("Mean diameter"), size_mm, "mm"),),
        categories=(Category("Lung-RADS", category),),
        location=Location(codes.LUNG, laterality="right"),
        description=f"Solid nodule, mean diameter {size_mm:.1f} mm, right lung",
    )


def calcium(study_uid: str, agatston: float, *, label: str = "A3/N2") -> list[Finding]:
    total = Finding(
        codes.CORONARY_CALCIFICATION,
        "vesalius.cardiac-ct.calcium",
        "0.1.0",
        source(study_uid),
        measurements=(
            Measurement(codes.CALCIUM_SCORE, agatston, "1", method="Agatston"),
            Measurement(codes.CALCIUM_VOLUME, agatston * 0.8, "mm3"),
        ),
        categories=(Category("CAC-DRS", label),),
        location=Location(codes.CORONARY_ARTERY),
        description=f"Coronary artery calcium: Agatston {agatston:.1f}",
    )
    lesion = Finding(
        codes.CALCIFIED_PLAQUE,
        "vesalius.cardiac-ct.calcium",
        "0.1.0",
        source(study_uid),
        measurements=(Measurement(codes.CALCIUM_SCORE, agatston, "1"),),
        location=Location(codes.LAD),
        description="Calcified lesion 1, LAD territory",
    )
    return [total, lesion]


def lungs(study_uid: str, *, laa: float = 2.0) -> list[Finding]:
    out = []
    for side, volume in (("left", 2400.0), ("right", 2700.0)):
        out.append(
            Finding(
                codes.LUNG,
                "vesalius.chest-ct.lungs",
                "0.1.0",
                source(study_uid),
                measurements=(
                    Measurement(codes.VOLUME, volume, "mL"),
                    Measurement(codes.LAA_PERCENT, laa, "%"),
                ),
                location=Location(codes.LUNG, laterality=side),
                description=f"{side.capitalize()} lung: {volume:.0f} mL, %LAA-950 {laa:.1f}%",
            )
        )
    return out


def save(store: Store, findings: list[Finding]) -> None:
    with store.session() as session:
        save_findings(session, findings)
