"""DICOM Segmentation (BINARY) from a label map on the grid of a source CT series.

Public API (used by the other exports and the CLI):

- ``encode_seg(labels, sources, segments, *, algorithm, identity) -> bytes``: a Part 10
  file of a BINARY SEG. ``labels`` is a ``(slices, rows, columns)`` unsigned array whose
  slice ``k`` lies on ``sources[k]`` (pydicom headers of the source slices, pixel data not
  needed); segment ``n`` is the voxels equal to ``segments[n - 1].label_value``.
- ``build_seg(...)`` (same arguments) ``-> pydicom.Dataset``: the same object, parsed.
- ``export_segs(store, blobs, study_uid) -> list[SegExport]``: one SEG per label map the
  pipeline kept for the study (:mod:`vesalius.store.segmentations`), each with its bytes,
  SOP Instance UID, the segmentation row it came from and its segment numbers by label
  value (what an SR needs to reference a segment).

The SEG follows what viewers such as OHIF load (dcmjs): per-frame functional groups with
Derivation Image (the source slice), Frame Content (Dimension Index Values: segment number,
position index), Plane Position and Segment Identification; shared Plane Orientation and
Pixel Measures; a Dimension Organization on (segment, position); a Segment Sequence with
SNOMED CT category and type codes, AUTOMATIC algorithm identification and a recommended
display CIELab colour. Frames are stored only where a segment has voxels, segment by segment
in slice order. A segment with no voxels stays in the Segment Sequence (an SR may cite it);
a label map with no voxels at all has no SEG (the standard needs at least one frame), so
:func:`encode_seg` raises :class:`~vesalius.errors.InputError`.

Speed: frames are found in one bounding-box pass and bit-packed row-wise with numpy; the
per-frame functional groups are assembled from byte strings encoded once per source slice
and per segment (:mod:`vesalius.export.seg_encode`) instead of one pydicom dataset per frame.

Examples
--------
>>> import numpy as np
>>> from vesalius.export.seg_testing import lung_segment, tiny_sources
>>> from vesalius.store.findings import Algorithm
>>> sources = tiny_sources(n_slices=3, rows=4, columns=8)
>>> labels = np.zeros((3, 4, 8), np.uint8)
>>> labels[1, 1:3, 2:5] = 1
>>> seg = build_seg(labels, sources, [lung_segment()], algorithm=Algorithm("demo", "1"),
...                 identity=SegIdentity.derived("doc"))
>>> seg.Modality, seg.SegmentationType, int(seg.NumberOfFrames)
('SEG', 'BINARY', 1)
>>> item = seg.PerFrameFunctionalGroupsSequence[0]
>>> item.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID == (
...     sources[1].SOPInstanceUID)
True
"""

from __future__ import annotations

from vesalius.export.seg_header import SegIdentity
from vesalius.export.seg_study import SegExport, export_segs, sources_on_grid
from vesalius.export.seg_writer import build_seg, encode_seg

__all__ = ["SegExport", "SegIdentity", "build_seg", "encode_seg", "export_segs", "sources_on_grid"]
