"""Small source headers and segment descriptions for examples and tests of the SEG writer.

Examples
--------
>>> sources = tiny_sources(2, 4, 8)
>>> [float(ds.ImagePositionPatient[2]) for ds in sources], sources[0].Rows
([0.0, 2.5], 4)
"""

from __future__ import annotations

from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from vesalius.store.findings import Code
from vesalius.store.segmentations import SegmentInfo

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
ANATOMY = Code("SCT", "91723000", "Anatomical Structure")
LUNG = Code("SCT", "39607008", "Lung")


def tiny_sources(
    n_slices: int, rows: int, columns: int, *, spacing: float = 2.5, pixel: float = 0.5
) -> list[Dataset]:
    """Headers of an axial CT series (no pixel data) with slices ``spacing`` mm apart."""
    study, series, frame = (generate_uid(None, ["tiny", n, str(rows), str(columns)]) for n in "abc")
    sources = []
    for k in range(n_slices):
        ds = Dataset()
        ds.SOPClassUID, ds.SOPInstanceUID = CT_IMAGE_STORAGE, generate_uid(None, [series, str(k)])
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame
        ds.PatientName, ds.PatientID, ds.Modality = "TINY^PHANTOM", "TINY-1", "CT"
        ds.PatientBirthDate, ds.PatientSex, ds.ReferringPhysicianName = "", "O", ""
        ds.StudyDate, ds.StudyTime, ds.StudyID, ds.AccessionNumber = "20260101", "120000", "1", ""
        ds.InstanceNumber, ds.Rows, ds.Columns = k + 1, rows, columns
        ds.ImagePositionPatient = [0.0, 0.0, k * spacing]
        ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
        ds.PixelSpacing, ds.SliceThickness = [pixel, pixel], spacing
        sources.append(ds)
    return sources


def lung_segment(label_value: int = 1) -> SegmentInfo:
    """A segment description: the lung, anatomical structure."""
    return SegmentInfo(label_value, "Lung", ANATOMY, LUNG)
