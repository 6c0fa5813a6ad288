"""Export one study in one form (``seg``, ``sr``, ``fhir``, ``pdf``, ``mesh``, ``pmap``) to files.

The one place the command line, the web service and the sign-off hook go through:
:func:`export_study` reads what it needs from the store, writes the files under a folder
(by default ``<exports dir>/<study UID>/``, see :func:`study_export_dir`) and returns them
with their media types. A study that is not in the store, that has nothing to export
(no findings and no report; no segmentation for ``seg`` and ``mesh``; no probability
map for ``pmap``) raises
:class:`~vesalius.errors.InputError` naming the study.

Examples
--------
>>> from vesalius.settings import Settings
>>> study_export_dir(Settings(data_dir=Path("/data")), "1.2.3").as_posix()
'/data/exports/1.2.3'
>>> MEDIA_TYPES["glb"], MEDIA_TYPES["pdf"]
('model/gltf-binary', 'application/pdf')
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from vesalius.errors import InputError
from vesalius.export.content import (
    NothingToExportError,
    StudyContent,
    UnknownStudyError,
    load_study_content,
)
from vesalius.export.fhir import fhir_bundle, write_fhir
from vesalius.export.mesh import Frame, MeshFormat, meshes_from_labels, write_meshes
from vesalius.export.pdf import pdf_report, write_pdf
from vesalius.io.atomic import write_bytes_atomic
from vesalius.settings import EXPORT_KINDS, Settings
from vesalius.store import BlobStore, Store

log = logging.getLogger(__name__)

Kind = Literal["seg", "sr", "fhir", "pdf", "mesh", "pmap"]
KINDS: tuple[str, ...] = EXPORT_KINDS

MEDIA_TYPES = {
    "dcm": "application/dicom",
    "json": "application/fhir+json",
    "pdf": "application/pdf",
    "stl": "model/stl",
    "obj": "model/obj",
    "glb": "model/gltf-binary",
}
"""Media type of each exported file, by suffix."""

_UID = re.compile(r"^[0-9]+(\.[0-9]+)*$")


@dataclass(frozen=True)
class ExportedFile:
    """A file an export wrote, and what it is."""

    path: Path
    media_type: str
    kind: str

    @property
    def name(self) -> str:
        """The file name (what the download route takes)."""
        return self.path.name


def exports_root(settings: Settings) -> Path:
    """Where exports go: ``[export] out_dir``, or ``data_dir / "exports"``."""
    return settings.export.out_dir or settings.data_dir / "exports"


def study_export_dir(settings: Settings, study_uid: str) -> Path:
    """The folder of one study's exports.

    Raises
    ------
    InputError
        ``study_uid`` is not a DICOM UID (so it can never name a folder elsewhere).
    """
    if not _UID.match(study_uid) or len(study_uid) > 64:
        raise InputError(None, f"{study_uid!r} is not a Study Instance UID")
    return exports_root(settings) / study_uid


def _file(path: Path, kind: str) -> ExportedFile:
    media_type = MEDIA_TYPES.get(path.suffix.lstrip("."), "application/octet-stream")
    return ExportedFile(path, media_type, kind)


def _content(store: Store, study_uid: str) -> StudyContent:
    with store.read_session() as session:
        content = load_study_content(session, study_uid)
    if not content.findings and content.report is None:
        raise NothingToExportError(
            None, f"study {study_uid} has no findings and no report to export"
        )
    return content


@dataclass(frozen=True)
class MeshOptions:
    """How meshes are made: file format, frame of STL/OBJ, Taubin smoothing passes."""

    fmt: MeshFormat = "stl"
    frame: Frame = "LPS"
    smooth_iterations: int = 0


def _meshes(
    store: Store, blobs: BlobStore, study_uid: str, out: Path, options: MeshOptions
) -> list[ExportedFile]:
    from vesalius.store.segmentations import (
        load_label_map,
        segment_infos,
        segmentations_of_study,
    )

    with store.read_session() as session:
        rows = segmentations_of_study(session, study_uid)
        maps = [(row.id, row.algorithm_name, segment_infos(row), row.blob_path) for row in rows]
        volumes = [load_label_map(blobs, row) for row in rows]
    if not maps:
        raise NothingToExportError(None, f"study {study_uid} has no segmentation to make meshes of")
    files = []
    for (row_id, _algorithm, segments, _blob), volume in zip(maps, volumes, strict=True):
        names = {s.label_value: s.label for s in segments}
        meshes = meshes_from_labels(
            volume.array,
            volume.affine,
            names=names,
            frame=options.frame,
            smooth_iterations=options.smooth_iterations,
        )
        written = write_meshes(meshes, out, fmt=options.fmt, stem=f"mesh-{row_id}")
        files += [_file(path, "mesh") for path in written]
    return files


def _segs(store: Store, blobs: BlobStore, study_uid: str, out: Path) -> list[ExportedFile]:
    from vesalius.export.seg import export_segs

    segs = export_segs(store, blobs, study_uid)
    if not segs:
        raise NothingToExportError(
            None, f"study {study_uid} has no segmentation to export as DICOM SEG"
        )
    return [
        _file(write_bytes_atomic(out / f"seg-{s.segmentation_id}.dcm", s.data), "seg") for s in segs
    ]


def _pmaps(store: Store, blobs: BlobStore, study_uid: str, out: Path) -> list[ExportedFile]:
    from vesalius.export.pmap_study import export_pmaps

    maps = export_pmaps(store, blobs, study_uid)
    if not maps:
        raise NothingToExportError(
            None, f"study {study_uid} has no probability map to export as a Parametric Map"
        )
    return [
        _file(write_bytes_atomic(out / f"pmap-{m.segmentation_id}.dcm", m.data), "pmap")
        for m in maps
    ]


def export_study(
    store: Store,
    blobs: BlobStore,
    study_uid: str,
    kind: str,
    out: Path,
    *,
    mesh: MeshOptions | None = None,
    patient_system: str | None = None,
) -> list[ExportedFile]:
    """Export study ``study_uid`` as ``kind`` into folder ``out``; the files written.

    Parameters
    ----------
    store, blobs
        The index and the blob store.
    study_uid
        The study.
    kind
        ``"seg"``, ``"sr"``, ``"fhir"``, ``"pdf"``, ``"mesh"`` or ``"pmap"`` (the AI's
        probability maps as DICOM Parametric Maps).
    out
        The folder the files go to (created if needed).
    mesh
        For meshes: the format (``"stl"``, one file per segment; ``"obj"`` or ``"glb"``),
        the frame of STL and OBJ (glTF has its own) and smoothing; STL, LPS, none by default.
    patient_system
        For FHIR: the identifier system of the PatientIDs.

    Raises
    ------
    InputError
        Unknown kind, unknown study, or nothing of that kind to export.
    """
    if kind not in KINDS:
        raise InputError(None, f"export kind must be one of {KINDS}, found {kind!r}")
    if out.exists() and not out.is_dir():
        raise InputError(out, "the output must be a folder, found a file")
    _known(store, study_uid)
    try:
        out.mkdir(parents=True, exist_ok=True)
        return _export(store, blobs, study_uid, kind, out, mesh or MeshOptions(), patient_system)
    except OSError as err:
        raise InputError(out, f"cannot write the export: {err.strerror or err}") from None


def _export(
    store: Store,
    blobs: BlobStore,
    study_uid: str,
    kind: str,
    out: Path,
    mesh: MeshOptions,
    patient_system: str | None,
) -> list[ExportedFile]:
    if kind == "pdf":
        return [_file(write_pdf(_content(store, study_uid), out), kind)]
    if kind == "fhir":
        content = _content(store, study_uid)
        bundle = fhir_bundle(content, pdf=pdf_report(content), patient_system=patient_system)
        return [_file(write_fhir(bundle, out), kind)]
    if kind == "mesh":
        return _meshes(store, blobs, study_uid, out, mesh)
    if kind == "seg":
        return _segs(store, blobs, study_uid, out)
    if kind == "pmap":
        return _pmaps(store, blobs, study_uid, out)
    return _srs(store, blobs, study_uid, out)


def _known(store: Store, study_uid: str) -> None:
    from sqlalchemy import select

    from vesalius.store.models import Study

    with store.read_session() as session:
        if session.scalar(select(Study.id).where(Study.study_uid == study_uid)) is None:
            raise UnknownStudyError(study_uid)


def _srs(store: Store, blobs: BlobStore, study_uid: str, out: Path) -> list[ExportedFile]:
    """The TID 1500 SR of the study's findings (referencing its SEGs, whose UIDs are stable).

    Once the report is amended, the SR is a new instance that names the previous one as its
    predecessor (:mod:`vesalius.export.sr_amend`).
    """
    from vesalius.export.sr import export_sr
    from vesalius.export.sr_amend import amended_sr
    from vesalius.findings.persist import load_findings

    with store.read_session() as session:
        if not load_findings(session, study_uid):
            raise NothingToExportError(
                None, f"study {study_uid} has no findings to export as DICOM SR"
            )
    sr = export_sr(store, blobs, study_uid)
    with store.read_session() as session:
        report = load_study_content(session, study_uid).report
    if report is not None and report.state == "amended":
        sr = amended_sr(sr, report.version)
    return [_file(write_bytes_atomic(out / "sr.dcm", sr.data), "sr")]
