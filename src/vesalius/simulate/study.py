"""Writing a phantom to disk: DICOM series, ``ground_truth.json`` and label maps.

Layout of the output folder (names are ours, never taken from DICOM values)::

    OUT/ct/IMG00001.dcm ...           one folder per series, one file per slice
    OUT/labels_<name>.nii.gz          label maps, gzipped NIfTI-1 (see truth.py)
    OUT/ground_truth.json             the manifest: UIDs, series, label files, truth

UIDs derive from the phantom kind and seed under the 2.25 root, and dates are fixed, so
the same seed writes byte-identical files.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from vesalius.core import Volume
from vesalius.io.dicom_write import (
    PatientInfo,
    SeriesInfo,
    SeriesMetadata,
    StoredPixels,
    StudyInfo,
    WrittenSeries,
    derive_uid,
    write_series,
)
from vesalius.simulate.truth import write_label_nifti, write_truth_json

log = logging.getLogger(__name__)

STUDY_DATE, STUDY_TIME = "20240315", "093000"
TRUTH_FILE = "ground_truth.json"


@dataclass(frozen=True, eq=False)
class SeriesToWrite:
    """One series of a phantom: its folder name, volume, metadata and stored pixels."""

    folder: str
    volume: Volume
    meta: SeriesMetadata
    pixels: StoredPixels | None = None


@dataclass(frozen=True, eq=False)
class LabelMap:
    """A label map to write as ``labels_<name>.nii.gz`` on the grid of ``affine``."""

    name: str
    array: npt.NDArray[np.uint8]
    affine: npt.NDArray[np.float64]
    description: str


@dataclass(frozen=True)
class SeriesEntry:
    """A written series, as listed in the manifest."""

    folder: str
    modality: str
    series_uid: str
    frame_of_reference_uid: str
    n_instances: int
    rescale_slope: float
    rescale_intercept: float


@dataclass(frozen=True)
class LabelFile:
    """A written label map, as listed in the manifest."""

    file: str
    description: str


@dataclass(frozen=True)
class Manifest:
    """The content of ``ground_truth.json``."""

    kind: str
    seed: int
    study_uid: str
    series: tuple[SeriesEntry, ...]
    label_maps: tuple[LabelFile, ...]
    label_format: str
    truth: Any


@dataclass(frozen=True)
class WrittenPhantom:
    """Paths of what was written."""

    folder: Path
    series: tuple[WrittenSeries, ...]
    truth_path: Path
    label_paths: tuple[Path, ...]
    manifest: Manifest


def shape_variant(shape: tuple[int, ...]) -> str:
    """The size variant of a phantom, part of its UIDs: ``(60, 176, 176)`` -> ``"60x176x176"``."""
    return "x".join(str(n) for n in shape)


def study_uid(kind: str, seed: int, variant: str = "") -> str:
    """The Study Instance UID of phantom ``kind`` with ``seed`` (and size ``variant``).

    Phantoms of one seed but different sizes are different images, so their UIDs differ:
    ``variant`` is the shape (``"60x176x176"``), part of every UID derived for the phantom.
    """
    return derive_uid("vesalius.simulate", kind, seed, "study", variant)


def metadata(
    kind: str,
    seed: int,
    *,
    number: int,
    description: str,
    slice_thickness_mm: float | None = None,
    weight_kg: float | None = None,
    time: str = STUDY_TIME,
    body_part: str = "",
    variant: str = "",
) -> SeriesMetadata:
    """Patient, study and series values of series ``number`` of a phantom."""
    return SeriesMetadata(
        patient=PatientInfo(
            name=f"PHANTOM^{kind.upper().replace('-', '')}",
            patient_id=f"VSIM-{kind}-{seed}",
            birth_date="19600101",
            sex="O",
            weight_kg=weight_kg,
        ),
        study=StudyInfo(
            study_uid=study_uid(kind, seed, variant),
            date=STUDY_DATE,
            time=STUDY_TIME,
            study_id="1",
            accession_number=f"VSIM{seed % 10**8:08d}",
            description=f"Vesalius phantom {kind}",
        ),
        series=SeriesInfo(
            series_uid=derive_uid("vesalius.simulate", kind, seed, "series", number, variant),
            number=number,
            description=description,
            date=STUDY_DATE,
            time=time,
            slice_thickness_mm=slice_thickness_mm,
            body_part=body_part,
        ),
    )


def write_phantom(
    out: str | os.PathLike[str],
    *,
    kind: str,
    seed: int,
    series: tuple[SeriesToWrite, ...],
    labels: tuple[LabelMap, ...],
    truth: object,
) -> WrittenPhantom:
    """Write the series, label maps and the manifest with ``truth`` into ``out``."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    written = tuple(
        write_series(s.volume, folder / s.folder, meta=s.meta, pixels=s.pixels) for s in series
    )
    label_paths = []
    for label in labels:
        path = folder / f"labels_{label.name}.nii.gz"
        write_label_nifti(label.array, label.affine, path)
        label_paths.append(path)
    manifest = Manifest(
        kind=kind,
        seed=seed,
        study_uid=series[0].meta.study.study_uid,
        series=tuple(
            SeriesEntry(
                s.folder,
                s.volume.modality,
                w.series_uid,
                s.volume.frame_of_reference_uid or "",
                len(w.files),
                w.rescale_slope,
                w.rescale_intercept,
            )
            for s, w in zip(series, written, strict=True)
        ),
        label_maps=tuple(
            LabelFile(p.name, lab.description) for p, lab in zip(label_paths, labels, strict=True)
        ),
        label_format="gzipped NIfTI-1 (nibabel), array (i, j, k), affine to RAS mm",
        truth=truth,
    )
    truth_path = folder / TRUTH_FILE
    write_truth_json(manifest, truth_path)
    log.info("wrote %s phantom (seed %d) to %s", kind, seed, folder)
    return WrittenPhantom(folder, written, truth_path, tuple(label_paths), manifest)
