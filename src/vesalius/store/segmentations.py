"""Persisted label maps: the segmentations an analysis made, kept for exports and viewers.

A row of ``segmentations`` names the study and the source series whose grid the label map
is on, the algorithm (name and version) that made it, the label map's blob (a compressed
``.npz`` with the ``labels`` array indexed ``[k, j, i]`` and its LPS ``affine``, stored
content-addressed in the :class:`~vesalius.store.blobs.BlobStore`), and what each label
value means (:class:`SegmentInfo`: label, SNOMED CT category and type codes, the finding rows
it belongs to) as JSON.

Examples
--------
>>> import tempfile, pathlib
>>> import numpy as np
>>> from vesalius.core import Volume
>>> from vesalius.store import BlobStore, open_store, sqlite_url
>>> from vesalius.store.findings import Code
>>> from vesalius.store.header import PatientInfo, SeriesInfo, StudyInfo
>>> from vesalius.store.index import upsert_patient, upsert_series, upsert_study
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> store, blobs = open_store(sqlite_url(root / "i.sqlite3")), BlobStore(root / "blobs")
>>> labels = Volume.from_spacing(np.eye(3, dtype=np.uint8)[None], spacing=(1.0, 1.0, 1.0))
>>> lung = Code("SCT", "39607008", "Lung")
>>> anatomy = Code("SCT", "91723000", "Anatomical Structure")
>>> record = LabelMapRecord(
...     "1.2.3", "1.2.3.4", "vesalius.chest-ct.lungs", "0.1.0",
...     (SegmentInfo(1, "lung", anatomy, lung, finding_ids=(7,)),),
... )
>>> with store.session() as s:
...     study = upsert_study(s, StudyInfo("1.2.3"), patient=upsert_patient(s, PatientInfo("P1")))
...     _ = upsert_series(s, SeriesInfo("1.2.3.4", modality="CT"), study=study)
...     _ = add_segmentation(s, record, blobs.put(encode_label_map(labels), suffix=".npz").path)
>>> with store.read_session() as s:
...     (row,) = segmentations_of_study(s, "1.2.3")
>>> stored = load_label_map(blobs, row)
>>> np.array_equal(stored.array, labels.array), segment_infos(row)[0].finding_ids
(True, (7,))
>>> store.close()
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from vesalius.core import Volume
from vesalius.errors import StoreError
from vesalius.store.blobs import BlobStore
from vesalius.store.findings import Code
from vesalius.store.models import Base, Series, Study
from vesalius.store.types import JSONType, UTCDateTime, utc_now

LABEL_MAP_SUFFIX = ".npz"
"""Suffix of label map blobs (numpy ``savez_compressed``: ``labels`` and ``affine``)."""


class Segmentation(Base):
    """A label map on the grid of a source series, made by a named algorithm."""

    __tablename__ = "segmentations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_pk: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"), index=True)
    series_pk: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"), index=True)
    algorithm_name: Mapped[str] = mapped_column(String(128))
    algorithm_version: Mapped[str] = mapped_column(String(64))
    blob_path: Mapped[str] = mapped_column(String(255))
    segments: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)

    study: Mapped[Study] = relationship()
    series: Mapped[Series] = relationship()

    @property
    def series_uid(self) -> str:
        """The source series' UID."""
        return self.series.series_uid

    @property
    def frame_of_reference_uid(self) -> str | None:
        """The source series' frame of reference, as indexed."""
        return self.series.frame_of_reference_uid


def _code_json(code: Code) -> dict[str, str]:
    return {"scheme": code.scheme, "value": code.value, "meaning": code.meaning}


def _code(data: Mapping[str, Any]) -> Code:
    return Code(str(data["scheme"]), str(data["value"]), str(data["meaning"]))


@dataclass(frozen=True)
class SegmentInfo:
    """What one label value of a label map is.

    Attributes
    ----------
    label_value
        The voxel value (1 or more).
    label
        A short name for people ("Left lung", "Nodule 2").
    category, type
        DICOM Segmented Property Category and Type codes (SNOMED CT).
    type_modifier
        Segmented Property Type Modifier (e.g. laterality ``Left``), or ``None``.
    finding_ids
        Rows of ``findings`` this segment belongs to (their measurements describe it).
    """

    label_value: int
    label: str
    category: Code
    type: Code
    type_modifier: Code | None = None
    finding_ids: tuple[int, ...] = field(default=())

    def __post_init__(self) -> None:
        if not 1 <= self.label_value <= 65535:
            raise ValueError(f"label value must be in 1..65535, found {self.label_value}")
        if not self.label.strip():
            raise ValueError("a segment needs a label, found empty text")

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "label_value": self.label_value,
            "label": self.label,
            "category": _code_json(self.category),
            "type": _code_json(self.type),
            "type_modifier": None if self.type_modifier is None else _code_json(self.type_modifier),
            "finding_ids": list(self.finding_ids),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SegmentInfo:
        """Inverse of :meth:`to_json`; ``StoreError`` when malformed."""
        try:
            modifier = data.get("type_modifier")
            return cls(
                int(data["label_value"]),
                str(data["label"]),
                _code(data["category"]),
                _code(data["type"]),
                None if modifier is None else _code(modifier),
                tuple(int(i) for i in data.get("finding_ids", ())),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise StoreError(f"malformed segment description {data!r}: {err}") from None


@dataclass(frozen=True)
class LabelMapRecord:
    """A label map to file: its study, source series, algorithm and segments."""

    study_uid: str
    series_uid: str
    algorithm_name: str
    algorithm_version: str
    segments: tuple[SegmentInfo, ...]


def encode_label_map(volume: Volume) -> bytes:
    """The blob bytes of a label map: compressed npz of ``labels`` and ``affine``.

    Raises
    ------
    StoreError
        When the voxels are not unsigned integers.
    """
    labels = np.asarray(volume.array)
    if labels.dtype.kind != "u":
        raise StoreError(f"a label map must hold unsigned integers, found {labels.dtype}")
    out = io.BytesIO()
    np.savez_compressed(out, labels=labels, affine=np.asarray(volume.affine))
    return out.getvalue()


def decode_label_map(data: bytes, *, frame_of_reference_uid: str | None = None) -> Volume:
    """Inverse of :func:`encode_label_map`.

    Raises
    ------
    StoreError
        When ``data`` is not a label map blob.
    """
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            labels, affine = npz["labels"], npz["affine"]
        return Volume(labels, affine, frame_of_reference_uid=frame_of_reference_uid)
    except (KeyError, ValueError, OSError, zipfile.BadZipFile) as err:
        raise StoreError(f"not a label map blob: {err}") from None


def _pk(session: Session, model: type[Study] | type[Series], column: Any, uid: str) -> int:
    pk = session.scalar(select(model.id).where(column == uid))
    if pk is None:
        raise StoreError(f"segmentation of unknown {model.__tablename__} {uid}")
    return pk


def add_segmentation(session: Session, record: LabelMapRecord, blob_path: str) -> Segmentation:
    """File a label map already put in the blob store at ``blob_path``.

    Raises
    ------
    StoreError
        Unknown study or series.
    """
    row = Segmentation(
        study_pk=_pk(session, Study, Study.study_uid, record.study_uid),
        series_pk=_pk(session, Series, Series.series_uid, record.series_uid),
        algorithm_name=record.algorithm_name,
        algorithm_version=record.algorithm_version,
        blob_path=blob_path,
        segments=[s.to_json() for s in record.segments],
    )
    session.add(row)
    session.flush()
    return row


def segmentations_of_study(session: Session, study_uid: str) -> list[Segmentation]:
    """The study's segmentations, oldest first (their series loaded)."""
    stmt = (
        select(Segmentation)
        .join(Study, Segmentation.study_pk == Study.id)
        .where(Study.study_uid == study_uid)
        .order_by(Segmentation.id)
    )
    rows = list(session.scalars(stmt))
    for row in rows:
        _ = row.series.series_uid  # load while the session is open
    return rows


def segment_infos(row: Segmentation) -> tuple[SegmentInfo, ...]:
    """The segment descriptions of a stored segmentation."""
    return tuple(SegmentInfo.from_json(s) for s in row.segments)


def load_label_map(blobs: BlobStore, row: Segmentation) -> Volume:
    """The label map of a stored segmentation (its frame of reference from the series).

    Raises
    ------
    StoreError
        Missing or corrupt blob.
    """
    return decode_label_map(
        blobs.get(row.blob_path), frame_of_reference_uid=row.series.frame_of_reference_uid
    )


def with_finding_ids(
    segments: Sequence[SegmentInfo], ids: Mapping[int, Sequence[int]]
) -> tuple[SegmentInfo, ...]:
    """``segments`` with ``finding_ids`` replaced by ``ids[label_value]`` where given."""
    return tuple(
        SegmentInfo(
            s.label_value,
            s.label,
            s.category,
            s.type,
            s.type_modifier,
            tuple(ids.get(s.label_value, s.finding_ids)),
        )
        for s in segments
    )


def dumps_segments(segments: Sequence[SegmentInfo]) -> str:
    """The segments as JSON text (what the ``segments`` column holds).

    >>> dumps_segments([])
    '[]'
    """
    return json.dumps([s.to_json() for s in segments])
