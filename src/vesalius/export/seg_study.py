"""SEGs of a study: one per label map the pipeline kept, on its source series' slices.

:func:`export_segs` reads each stored segmentation (:mod:`vesalius.store.segmentations`),
the headers of its source series' instances from the blob store, puts the instances in the
label map's slice order by their positions (:func:`sources_on_grid`) and writes a BINARY
SEG with :func:`~vesalius.export.seg_writer.encode_seg`. UIDs are derived from the study,
the series and the label map's blob, so exporting the same segmentation again gives the
same SEG instance.

Examples
--------
>>> import numpy as np
>>> from vesalius.core import Volume
>>> from vesalius.export.seg_testing import tiny_sources
>>> sources = tiny_sources(3, 2, 8)
>>> grid = Volume.from_spacing(np.zeros((3, 2, 8), np.uint8), spacing=(2.5, 0.5, 0.5),
...                            origin=(0.0, 0.0, 0.0))
>>> ordered = sources_on_grid(list(reversed(sources)), grid)
>>> [int(ds.InstanceNumber) for ds in ordered]
[1, 2, 3]
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from pydicom import dcmread
from pydicom.dataset import Dataset

from vesalius.core import Volume
from vesalius.errors import InputError, StoreError
from vesalius.export.seg_header import SegIdentity
from vesalius.export.seg_writer import encode_seg
from vesalius.store import BlobStore, Store
from vesalius.store.findings import Algorithm
from vesalius.store.index import list_instances
from vesalius.store.segmentations import (
    Segmentation,
    SegmentInfo,
    load_label_map,
    segment_infos,
    segmentations_of_study,
)

log = logging.getLogger(__name__)

SEG_SERIES_NUMBER = 901
"""Series Number of the SEG series (AI results are numbered in the 900s)."""


@dataclass(frozen=True, eq=False)
class SegExport:
    """One SEG written for a stored segmentation.

    Attributes
    ----------
    data
        The DICOM Part 10 bytes.
    sop_instance_uid, series_uid
        UIDs of the SEG instance and series.
    source_series_uid
        The segmented series.
    segmentation_id
        Row of ``segmentations`` it was made from.
    segments
        The segment descriptions; segment number ``n`` is ``segments[n - 1]``.
    """

    data: bytes
    sop_instance_uid: str
    series_uid: str
    source_series_uid: str
    segmentation_id: int
    segments: tuple[SegmentInfo, ...] = field(default=())

    @property
    def segment_numbers(self) -> dict[int, int]:
        """Segment number of each label value."""
        return {s.label_value: n for n, s in enumerate(self.segments, start=1)}

    def dataset(self) -> Dataset:
        """The SEG parsed by pydicom."""
        return dcmread(io.BytesIO(self.data))


def sources_on_grid(sources: Sequence[Dataset], grid: Volume) -> list[Dataset]:
    """``sources`` in the slice order of ``grid``: source ``k`` lies on slice ``k``.

    Raises
    ------
    InputError
        A source off the grid's slices, two on one slice, or a slice with none.
    """
    slots: dict[int, Dataset] = {}
    for ds in sources:
        k, j, i = grid.lps_to_index([[float(v) for v in ds.ImagePositionPatient]])[0]
        slot = round(float(k))
        if abs(k - slot) > 1e-3 or abs(j) > 1e-3 or abs(i) > 1e-3 or not 0 <= slot < grid.shape[0]:
            raise InputError(None, f"source {ds.SOPInstanceUID} is not on the label map's grid")
        if slot in slots:
            raise InputError(None, f"two sources on slice {slot} of the label map")
        slots[slot] = ds
    missing = sorted(set(range(grid.shape[0])) - set(slots))
    if missing:
        raise InputError(None, f"slices {missing[:5]} of the label map have no source image")
    return [slots[k] for k in range(grid.shape[0])]


def source_headers(
    store: Store, blobs: BlobStore, study_uid: str, series_uid: str
) -> list[Dataset]:
    """The headers (no pixel data) of the stored instances of a series."""
    with store.read_session() as session:
        paths = [i.blob_path for i in list_instances(session, study_uid, series_uid=series_uid)]
    if not paths:
        raise StoreError(f"series {series_uid} of study {study_uid} has no stored instances")
    return [dcmread(blobs.locate(p), stop_before_pixels=True) for p in paths]


def series_description(algorithm_name: str) -> str:
    """What a viewer lists a SEG as: what it segments (the analysis), not reviewed.

    A study has one SEG per analysis, so that the lungs and the nodules are told apart.

    >>> series_description("vesalius.chest-ct.lungs")
    'AI segmentation: lungs (not reviewed)'
    """
    subject = algorithm_name.rsplit(".", 1)[-1].replace("-", " ").replace("_", " ")
    return f"AI segmentation: {subject} (not reviewed)"


def _export(store: Store, blobs: BlobStore, study_uid: str, row: Segmentation) -> SegExport:
    labels = load_label_map(blobs, row)
    sources = sources_on_grid(source_headers(store, blobs, study_uid, row.series_uid), labels)
    segments = segment_infos(row)
    identity = SegIdentity.derived(
        study_uid,
        row.series_uid,
        row.blob_path,
        series_number=SEG_SERIES_NUMBER,
        series_description=series_description(row.algorithm_name),
    )
    data = encode_seg(
        np.asarray(labels.array),
        sources,
        segments,
        algorithm=Algorithm(row.algorithm_name, row.algorithm_version),
        identity=identity,
    )
    return SegExport(
        data, identity.sop_instance_uid, identity.series_uid, row.series_uid, row.id, segments
    )


def export_segs(store: Store, blobs: BlobStore, study_uid: str) -> list[SegExport]:
    """One SEG per stored segmentation of the study (none when it has no segmentation).

    A label map with no segmented voxel is skipped (logged): a SEG needs a frame.

    Raises
    ------
    StoreError
        A segmentation whose blob or source instances are missing.
    InputError
        Source instances that are not on the label map's grid.
    """
    with store.read_session() as session:
        rows = segmentations_of_study(session, study_uid)
    exports = []
    for row in rows:
        try:
            exports.append(_export(store, blobs, study_uid, row))
        except InputError as err:
            if "no segmented voxel" not in err.problem:
                raise
            log.info("segmentation %d of study %s is empty: no SEG", row.id, study_uid)
    return exports
