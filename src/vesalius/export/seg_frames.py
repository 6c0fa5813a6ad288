"""The frames of a BINARY DICOM Segmentation from a label map, bit-packed with numpy.

A BINARY SEG stores one 1-bit frame per (segment, source slice) where the segment has
voxels; frames are packed one after the other, least significant bit first (PS3.5 8.1.1),
without padding between frames. :func:`seg_frames` finds those frames with one bounding-box
pass (:func:`scipy.ndimage.find_objects`) over the rows that hold a label, and
:func:`pack_frames` packs them, writing only the rows of each segment's bounding box when
rows fall on byte boundaries.

Examples
--------
>>> import numpy as np
>>> labels = np.zeros((3, 2, 8), np.uint8)
>>> labels[1, 0, :2] = 1
>>> labels[2, 1, 7] = 2
>>> frames = seg_frames(labels, (1, 2))
>>> [(f.segment_number, f.slice_index) for f in frames]
[(1, 1), (2, 2)]
>>> pack_frames(labels, frames).hex()
'03000080'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import ndimage


@dataclass(frozen=True)
class SegFrame:
    """One frame: segment ``segment_number`` (1-based) on slice ``slice_index`` (0-based).

    ``rows`` is the half-open row range of the segment's bounding box on the volume, which
    holds every set pixel of the frame.
    """

    segment_number: int
    label_value: int
    slice_index: int
    rows: tuple[int, int]


def check_labels(labels: npt.NDArray[np.generic]) -> None:
    """Raise ``ValueError`` unless ``labels`` is a 3-D unsigned integer array.

    >>> check_labels(np.zeros((1, 2, 2), np.float32))
    Traceback (most recent call last):
    ...
    ValueError: a label map must hold unsigned integers, found float32
    """
    if labels.ndim != 3:
        raise ValueError(f"a label map must be 3-D (slices, rows, columns), found {labels.shape}")
    if labels.dtype.kind != "u":
        raise ValueError(f"a label map must hold unsigned integers, found {labels.dtype}")


def _rows_with_labels(
    labels: npt.NDArray[np.generic],
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.generic]]:
    """The (slice, row) pairs that hold a label, and those rows gathered ``(m, columns)``."""
    if labels.dtype.itemsize > 2:
        top = int(labels.max(initial=0))
        if top > 65535:
            raise ValueError(f"label values must be at most 65535, found {top}")
    ks, js = np.nonzero(labels.any(axis=2))
    return ks, js, labels[ks, js]


def seg_frames(labels: npt.NDArray[np.generic], label_values: Sequence[int]) -> list[SegFrame]:
    """The frames to store: for each segment in order, the slices where it has voxels.

    Segment ``n`` (1-based) is the voxels equal to ``label_values[n - 1]``. The label map is
    scanned once for the rows that hold any label; only those rows are searched further.

    Raises
    ------
    ValueError
        A label value present in ``labels`` but not in ``label_values``, or a bad array.
    """
    check_labels(labels)
    ks, js, rows = _rows_with_labels(labels)
    boxes: list[tuple[slice, ...] | None] = ndimage.find_objects(rows) if rows.size else []
    present = {value for value, box in enumerate(boxes, start=1) if box is not None}
    unknown = sorted(present - set(label_values))
    if unknown:
        raise ValueError(f"label values {unknown[:10]} are in the label map but not described")
    frames: list[SegFrame] = []
    for number, value in enumerate(label_values, start=1):
        box = boxes[value - 1] if 0 < value <= len(boxes) else None
        if box is None:
            continue
        first = int(box[0].start)
        hit = np.flatnonzero(np.asarray(rows[box] == value).any(axis=1)) + first
        extent = (int(js[hit].min()), int(js[hit].max()) + 1)
        frames += [SegFrame(number, value, int(k), extent) for k in np.unique(ks[hit])]
    return frames


def pack_frames(labels: npt.NDArray[np.generic], frames: Sequence[SegFrame]) -> bytes:
    """The frames' bits, packed little-endian bit order, padded to an even length."""
    _, n_rows, n_cols = labels.shape
    if n_cols % 8:
        masks = np.stack([labels[f.slice_index] == f.label_value for f in frames])
        packed = np.packbits(masks.ravel(), bitorder="little").tobytes()
        return packed + b"\0" * (len(packed) % 2)
    row_bytes = n_cols // 8
    frame_bytes = row_bytes * n_rows
    out = np.zeros(len(frames) * frame_bytes + (len(frames) * frame_bytes) % 2, np.uint8)
    for n, frame in enumerate(frames):
        top, bottom = frame.rows
        mask = labels[frame.slice_index, top:bottom] == frame.label_value
        start = n * frame_bytes + top * row_bytes
        out[start : start + (bottom - top) * row_bytes] = np.packbits(mask, bitorder="little")
    return out.tobytes()
