"""FRACTIONAL DICOM Segmentation of a probability map (heat maps, uncertainty) in [0, 1].

A viewer that overlays SEGs (OHIF) shows a FRACTIONAL SEG as a graded overlay: each voxel
stores ``round(p * 255)`` in 8 bits with Maximum Fractional Value 255 and Segmentation
Fractional Type PROBABILITY. Frames are kept only on the slices where the quantized map is
not zero. The rest of the object (geometry, references, segment description, per-frame
functional groups) is the BINARY writer's (:mod:`vesalius.export.seg_writer`).

Examples
--------
>>> import numpy as np
>>> from vesalius.export.seg_testing import lung_segment, tiny_sources
>>> from vesalius.store.findings import Algorithm
>>> probability = np.zeros((3, 4, 8), np.float32)
>>> probability[1, 1:3, 2:5] = 0.8
>>> data = encode_fractional_seg(
...     probability, tiny_sources(3, 4, 8), lung_segment(),
...     algorithm=Algorithm("demo", "1"), identity=SegIdentity.derived("f"),
... )
>>> from pydicom import dcmread; import io
>>> seg = dcmread(io.BytesIO(data))
>>> seg.SegmentationType, seg.SegmentationFractionalType, int(seg.NumberOfFrames)
('FRACTIONAL', 'PROBABILITY', 1)
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from pydicom.dataset import Dataset

from vesalius.errors import InputError
from vesalius.export.seg_encode import element
from vesalius.export.seg_frames import SegFrame
from vesalius.export.seg_header import SegIdentity, referenced_series, seg_header, source_grid
from vesalius.export.seg_writer import header_bytes, per_frame_groups
from vesalius.store.findings import Algorithm
from vesalius.store.segmentations import SegmentInfo

__all__ = ["MAX_FRACTIONAL_VALUE", "SegIdentity", "encode_fractional_seg", "quantize"]

MAX_FRACTIONAL_VALUE = 255


def quantize(probability: npt.NDArray[np.floating]) -> npt.NDArray[np.uint8]:
    """``round(p * 255)`` as uint8; ``ValueError`` unless every value is in [0, 1].

    >>> quantize(np.array([0.0, 0.5, 1.0])).tolist()
    [0, 128, 255]
    """
    values = np.asarray(probability, dtype=np.float64)
    if (
        not np.all(np.isfinite(values))
        or values.min(initial=0.0) < 0
        or values.max(initial=0.0) > 1
    ):
        raise ValueError("a probability map must hold finite values in [0, 1]")
    return np.rint(values * MAX_FRACTIONAL_VALUE).astype(np.uint8)


def _fractional(header: Dataset) -> None:
    header.BitsAllocated, header.BitsStored, header.HighBit = 8, 8, 7
    header.SegmentationType = "FRACTIONAL"
    header.SegmentationFractionalType = "PROBABILITY"
    header.MaximumFractionalValue = MAX_FRACTIONAL_VALUE


def encode_fractional_seg(
    probability: npt.NDArray[np.floating],
    sources: Sequence[Dataset],
    segment: SegmentInfo,
    *,
    algorithm: Algorithm,
    identity: SegIdentity,
) -> bytes:
    """A FRACTIONAL (probability) SEG of one segment as Part 10 bytes.

    ``probability[k]`` lies on ``sources[k]``, as for
    :func:`~vesalius.export.seg_writer.encode_seg`.

    Raises
    ------
    InputError
        The map is zero everywhere (after quantization): a SEG needs a frame.
    ValueError
        Values outside [0, 1], a map not on the sources' grid, or unusable sources.
    """
    grid = source_grid(sources)
    expected = (len(grid.headers), grid.rows, grid.columns)
    if probability.shape != expected:
        raise ValueError(f"map shape {probability.shape} is not the sources' grid {expected}")
    levels = quantize(probability)
    slices = np.flatnonzero(levels.reshape(len(levels), -1).any(axis=1))
    if not len(slices):
        raise InputError(None, "the probability map is zero everywhere: there is no SEG to write")
    frames = [SegFrame(1, segment.label_value, int(k), (0, grid.rows)) for k in slices]
    header = seg_header(
        grid, [segment], algorithm=algorithm, identity=identity, n_frames=len(frames)
    )
    _fractional(header)
    pixels = levels[slices].tobytes()
    out = io.BytesIO()
    out.write(header_bytes(header, referenced_series(grid)))
    out.write(per_frame_groups(grid, frames))
    out.write(element(0x7FE00010, "OB", pixels + b"\0" * (len(pixels) % 2)))
    return out.getvalue()
