"""One analysed chest CT behind the whole web application, for the browser tests.

:func:`analysed_chest_ct` goes the way a study goes in production: a phantom chest CT is
imported, routed and analysed (findings, label maps), triaged with a draft report, and its
segmentations are exported as DICOM SEG and stored next to the CT, where DICOMweb (and so
OHIF) finds them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vesalius.export.dispatch import export_study
from vesalius.export.seg_study import export_segs
from vesalius.ingest.durable import store_instance
from vesalius.ingest.folder import import_files
from vesalius.pipeline.arrivals import analyse_study
from vesalius.reporting.drafts import refresh_study
from vesalius.simulate.chest_ct import ChestCTSpec, chest_ct, write_chest_ct
from vesalius.simulate.pet_ct import PetCTSpec, pet_ct, write_pet_ct
from vesalius.store import BlobStore, Store

PHANTOM_SHAPE = (60, 176, 176)


@dataclass(frozen=True)
class AnalysedStudy:
    """The study's UID, its CT series and the SEG series stored with it."""

    study_uid: str
    ct_series_uid: str
    seg_series_uids: tuple[str, ...]
    segment_labels: tuple[str, ...]


def analysed_chest_ct(store: Store, blobs: BlobStore, folder: Path) -> AnalysedStudy:
    """Import, analyse, triage a chest CT phantom; store its SEGs; return its UIDs."""
    written = write_chest_ct(chest_ct(ChestCTSpec(shape=PHANTOM_SHAPE), seed=4), folder)
    imported = import_files(sorted((folder / "ct").glob("*.dcm")), store=store, blobs=blobs)
    [study_uid] = imported.study_uids
    analysis = analyse_study(store, blobs, study_uid)
    if analysis.done == 0 or analysis.failed:
        raise RuntimeError(f"the phantom's analysis did not run: {analysis}")
    segs = export_segs(store, blobs, study_uid)
    for seg in segs:
        store_instance(seg.data, store=store, blobs=blobs)
    for sr in export_study(store, blobs, study_uid, "sr", folder / "sr"):
        store_instance(sr.path.read_bytes(), store=store, blobs=blobs)
    refresh_study(store, blobs, study_uid)
    labels = tuple(s.label for seg in segs for s in seg.segments)
    if not segs or written.manifest.study_uid != study_uid:
        raise RuntimeError(f"the phantom's analysis kept no segmentation to show: {analysis}")
    return AnalysedStudy(
        study_uid, segs[0].source_series_uid, tuple(seg.series_uid for seg in segs), labels
    )


def imported_pet_ct(store: Store, blobs: BlobStore, folder: Path) -> str:
    """Import a small PET/CT phantom (CT and FDG PET with SUV metadata); its study UID."""
    spec = PetCTSpec(ct_shape=(60, 128, 128), pet_shape=(40, 64, 64))
    write_pet_ct(pet_ct(spec, seed=1), folder)
    imported = import_files(sorted(folder.rglob("*.dcm")), store=store, blobs=blobs)
    [study_uid] = imported.study_uids
    return study_uid
