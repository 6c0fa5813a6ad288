"""The fast BINARY SEG writer: header with pydicom, per-frame groups and pixels as bytes.

See :mod:`vesalius.export.seg` for the contract and an example.

Examples
--------
>>> import numpy as np
>>> from vesalius.export.seg_testing import lung_segment, tiny_sources
>>> labels = np.zeros((2, 2, 8), np.uint8)
>>> labels[0, 0, 0] = 1
>>> data = encode_seg(labels, tiny_sources(2, 2, 8), [lung_segment()],
...                   algorithm=Algorithm("demo", "1"), identity=SegIdentity.derived("w"))
>>> data[128:132]
b'DICM'
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from pydicom import dcmread
from pydicom.charset import convert_encodings
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import dcmwrite, write_dataset

from vesalius.errors import InputError
from vesalius.export.seg_encode import code_item, element, item, sequence, ul_values, us_value
from vesalius.export.seg_frames import SegFrame, check_labels, pack_frames, seg_frames
from vesalius.export.seg_header import (
    REFERENCED_SERIES,
    SegIdentity,
    SourceGrid,
    referenced_series,
    seg_header,
    source_grid,
)
from vesalius.store.findings import Algorithm
from vesalius.store.segmentations import SegmentInfo

log = logging.getLogger(__name__)

SOURCE_PURPOSE = ("121322", "DCM", "Source image for image processing operation")
DERIVATION = ("113076", "DCM", "Segmentation")


def _per_frame_parts(grid: SourceGrid) -> list[bytes]:
    """The encoded Derivation Image Sequence of each source slice (its frames share it)."""
    derivation_code = sequence(0x00089215, [code_item(*DERIVATION)])
    parts = []
    for ds in grid.headers:
        source = item(
            element(0x00081150, "UI", str(ds.SOPClassUID))
            + element(0x00081155, "UI", str(ds.SOPInstanceUID))
            + element(0x0028135A, "CS", "YES")
            + sequence(0x0040A170, [code_item(*SOURCE_PURPOSE)])
        )
        derivation = sequence(0x00089124, [item(sequence(0x00082112, [source]) + derivation_code)])
        parts.append(derivation)
    return parts


def per_frame_groups(grid: SourceGrid, frames: Sequence[SegFrame]) -> bytes:
    """The encoded Per-Frame Functional Groups Sequence (5200,9230) of ``frames``."""
    derivations = _per_frame_parts(grid)
    positions = [sequence(0x00209113, [item(element(0x00200032, "DS", p))]) for p in grid.positions]
    segment_ids: dict[int, bytes] = {}
    items = []
    for frame in frames:
        k = frame.slice_index
        ident = segment_ids.get(frame.segment_number)
        if ident is None:
            ident = sequence(
                0x0062000A, [item(element(0x0062000B, "US", us_value(frame.segment_number)))]
            )
            segment_ids[frame.segment_number] = ident
        index = ul_values(frame.segment_number, grid.position_index[k])
        content = sequence(0x00209111, [item(element(0x00209157, "UL", index))])
        items.append(item(derivations[k] + content + positions[k] + ident))
    return sequence(0x52009230, items)


def header_bytes(header: Dataset, references: bytes) -> bytes:
    """The Part 10 file up to the per-frame groups, with ``references`` spliced in order."""
    before, after = Dataset(), Dataset()
    for elem in header:
        (before if elem.tag < REFERENCED_SERIES else after).add(elem)
    before.file_meta = header.file_meta
    first = io.BytesIO()
    dcmwrite(first, before, enforce_file_format=True)
    rest = DicomBytesIO()
    rest.is_little_endian, rest.is_implicit_VR = True, False
    encodings = convert_encodings(header.get("SpecificCharacterSet", "ISO_IR 6"))
    write_dataset(rest, after, parent_encoding=encodings)
    return first.getvalue() + references + rest.getvalue()


def _check(
    labels: npt.NDArray[np.generic], grid: SourceGrid, segments: Sequence[SegmentInfo]
) -> None:
    check_labels(labels)
    expected = (len(grid.headers), grid.rows, grid.columns)
    if labels.shape != expected:
        raise ValueError(f"label map shape {labels.shape} is not the sources' grid {expected}")
    values = [s.label_value for s in segments]
    if not segments or len(set(values)) != len(values):
        raise ValueError(f"segments must be given once each, found label values {values}")


def encode_seg(
    labels: npt.NDArray[np.generic],
    sources: Sequence[Dataset],
    segments: Sequence[SegmentInfo],
    *,
    algorithm: Algorithm,
    identity: SegIdentity,
) -> bytes:
    """A BINARY DICOM Segmentation of ``labels`` as Part 10 bytes (see the module doc).

    Raises
    ------
    InputError
        The label map has no segmented voxel.
    ValueError
        Sources that are not one single-frame series, a label map not on their grid, label
        values without a segment description, or segments described twice.
    """
    grid = source_grid(sources)
    _check(labels, grid, segments)
    frames = seg_frames(labels, [s.label_value for s in segments])
    if not frames:
        raise InputError(None, "the label map has no segmented voxel: there is no SEG to write")
    header = seg_header(
        grid, segments, algorithm=algorithm, identity=identity, n_frames=len(frames)
    )
    out = io.BytesIO()
    out.write(header_bytes(header, referenced_series(grid)))
    out.write(per_frame_groups(grid, frames))
    out.write(element(0x7FE00010, "OB", pack_frames(labels, frames)))
    log.debug(
        "SEG %s: %d segments, %d frames", identity.sop_instance_uid, len(segments), len(frames)
    )
    return out.getvalue()


def build_seg(
    labels: npt.NDArray[np.generic],
    sources: Sequence[Dataset],
    segments: Sequence[SegmentInfo],
    *,
    algorithm: Algorithm,
    identity: SegIdentity,
) -> Dataset:
    """:func:`encode_seg`, parsed back into a pydicom dataset."""
    data = encode_seg(labels, sources, segments, algorithm=algorithm, identity=identity)
    return dcmread(io.BytesIO(data))
