"""Parametric Maps of a study: the AI's probability of each finding, voxel by voxel.

The analyses keep label maps (:mod:`vesalius.store.segmentations`) whose segments name the
findings they belong to, and a finding may carry the algorithm's confidence (a nodule's
classifier probability). :func:`confidence_map` paints each segment with the highest
confidence of its findings (0 elsewhere): the probability map a reader overlays to see
how sure the AI was of each lesion. :func:`export_pmaps` writes one Parametric Map
(:mod:`vesalius.export.pmap`) per label map that has such a segment; UIDs are derived from
the study, the series, the label map's blob and the confidences, so exporting the same
results again gives the same instance.

Examples
--------
>>> import numpy as np
>>> from vesalius.store.findings import Code
>>> from vesalius.store.segmentations import SegmentInfo
>>> nodule = Code("SCT", "27925004", "Nodule")
>>> segments = (SegmentInfo(1, "Nodule 1", nodule, nodule, finding_ids=(10,)),
...             SegmentInfo(2, "Nodule 2", nodule, nodule, finding_ids=(11,)))
>>> labels = np.array([[[0, 1, 1, 2]]], np.uint8)
>>> confidence_map(labels, segments, {10: 0.75, 11: None}).tolist()
[[[0.0, 0.75, 0.75, 0.0]]]
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from vesalius.export.pmap import PROBABILITY, PmapIdentity, encode_parametric_map
from vesalius.export.seg_study import source_headers, sources_on_grid
from vesalius.store import BlobStore, Store
from vesalius.store.findings import Algorithm, findings_of_study
from vesalius.store.segmentations import (
    Segmentation,
    SegmentInfo,
    load_label_map,
    segment_infos,
    segmentations_of_study,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class PmapExport:
    """One Parametric Map written for a stored label map: bytes, UIDs, where it came from."""

    data: bytes
    sop_instance_uid: str
    series_uid: str
    source_series_uid: str
    segmentation_id: int


def confidence_map(
    labels: npt.NDArray[np.integer],
    segments: Sequence[SegmentInfo],
    confidences: Mapping[int, float | None],
) -> npt.NDArray[np.float32]:
    """Each segment's voxels set to the highest confidence of its findings (else 0)."""
    values = np.zeros(labels.shape, np.float32)
    for segment in segments:
        known = [confidences.get(i) for i in segment.finding_ids]
        found = [c for c in known if c is not None]
        if found:
            values[labels == segment.label_value] = max(found)
    return values


def _confidences(store: Store, study_uid: str) -> dict[int, float | None]:
    with store.read_session() as session:
        return {row.id: row.confidence for row in findings_of_study(session, study_uid)}


def _export(
    store: Store,
    blobs: BlobStore,
    study_uid: str,
    row: Segmentation,
    confidences: Mapping[int, float | None],
) -> PmapExport | None:
    segments = segment_infos(row)
    used = sorted({i for s in segments for i in s.finding_ids if confidences.get(i) is not None})
    if not used:
        return None
    labels = load_label_map(blobs, row)
    values = confidence_map(np.asarray(labels.array), segments, confidences)
    if not values.any():
        return None
    sources = sources_on_grid(source_headers(store, blobs, study_uid, row.series_uid), labels)
    stamp = ",".join(f"{i}={confidences[i]}" for i in used)
    identity = PmapIdentity.derived(study_uid, row.series_uid, row.blob_path, stamp)
    data = encode_parametric_map(
        values,
        sources,
        PROBABILITY,
        algorithm=Algorithm(row.algorithm_name, row.algorithm_version),
        identity=identity,
    )
    return PmapExport(data, identity.sop_instance_uid, identity.series_uid, row.series_uid, row.id)


def export_pmaps(store: Store, blobs: BlobStore, study_uid: str) -> list[PmapExport]:
    """One Parametric Map per stored label map with a finding that has a confidence.

    Raises
    ------
    StoreError
        A label map whose blob or source instances are missing.
    InputError
        Source instances that are not on the label map's grid.
    """
    with store.read_session() as session:
        rows = segmentations_of_study(session, study_uid)
    confidences = _confidences(store, study_uid)
    exports = []
    for row in rows:
        made = _export(store, blobs, study_uid, row, confidences)
        if made is None:
            log.debug("segmentation %d of study %s has no confidence: no map", row.id, study_uid)
        else:
            exports.append(made)
    return exports
