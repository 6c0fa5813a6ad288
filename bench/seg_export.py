"""Benchmark: DICOM SEG export of a 512x512x300 label map with 20 segments.

A phantom CT series grid (512x512x300, 0.7 x 0.7 x 1 mm) is written as DICOM (not timed)
and a seeded label map of 20 spheres of 8-20 voxel radius is drawn on it. Both writers get
the same source headers (read once, without pixel data) and the same label map and produce
the DICOM file bytes of a BINARY SEG with 20 described segments:

- ``highdicom``: a plain ``highdicom.seg.Segmentation(...)`` call (BINARY, empty frames
  omitted, its defaults otherwise) then ``save_as`` into memory;
- ``vesalius``: :func:`vesalius.export.seg.encode_seg`.

Each runs ``--reps`` times (at least 3), alternating; the medians are compared. Both
outputs are decoded with highdicom (``segread``, then ``get_pixels_by_source_instance``
for every source slice, segments combined) and the decoded label maps are asserted
identical to each other and to the input.
Prints a table and, last, ``RATIO seg_export <highdicom median / vesalius median>``.
Usage: ``.venv/bin/python bench/seg_export.py [--reps 3] [--small]``.
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import highdicom as hd
import numpy as np
import numpy.typing as npt
import pydicom
from pydicom.sr.codedict import codes

from vesalius.core import Volume
from vesalius.export.seg import SegIdentity, encode_seg
from vesalius.io.dicom_write import write_series
from vesalius.simulate.study import metadata
from vesalius.store.findings import Algorithm, Code
from vesalius.store.segmentations import SegmentInfo

FULL, SMALL = (300, 512, 512), (60, 128, 128)
N_SEGMENTS = 20
ALGORITHM = Algorithm("vesalius.bench.spheres", "1.0")


def _grid(shape: tuple[int, int, int], folder: Path) -> list[pydicom.Dataset]:
    volume = Volume.from_spacing(
        np.zeros(shape, np.int16),
        spacing=(1.0, 0.7, 0.7),
        origin=(-180.0, -180.0, -150.0),
        modality="CT",
        frame_of_reference_uid=hd.UID(),
    )
    written = write_series(
        volume, folder, meta=metadata("bench-seg", 1, number=1, description="CT")
    )
    return [pydicom.dcmread(f, stop_before_pixels=True) for f in written.files]


def _labels(shape: tuple[int, int, int], seed: int = 0) -> npt.NDArray[np.uint8]:
    rng = np.random.default_rng(seed)
    labels = np.zeros(shape, np.uint8)
    scale = shape[1] / 512
    for value in range(1, N_SEGMENTS + 1):
        radius = rng.uniform(8, 20) * max(scale, 0.3)
        centre = rng.uniform([radius] * 3, np.array(shape) - radius)
        lo = np.maximum(np.floor(centre - radius).astype(int), 0)
        hi = np.minimum(np.ceil(centre + radius).astype(int) + 1, shape)
        zz, yy, xx = np.ogrid[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]]
        ball = (zz - centre[0]) ** 2 + (yy - centre[1]) ** 2 + (xx - centre[2]) ** 2 <= radius**2
        labels[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]][ball] = value
    return labels


def _segments() -> list[SegmentInfo]:
    category = Code("SCT", "49755003", "Morphologically Abnormal Structure")
    nodule = Code("SCT", "27925004", "Nodule")
    return [SegmentInfo(n, f"Blob {n}", category, nodule) for n in range(1, N_SEGMENTS + 1)]


def _highdicom(sources: list[pydicom.Dataset], labels: npt.NDArray[np.uint8]) -> bytes:
    algorithm = hd.AlgorithmIdentificationSequence(
        ALGORITHM.name, codes.cid7162.MorphologicalOperations, ALGORITHM.version
    )
    descriptions = [
        hd.seg.SegmentDescription(
            n,
            f"Blob {n}",
            codes.SCT.MorphologicallyAbnormalStructure,
            codes.SCT.Nodule,
            "AUTOMATIC",
            algorithm_identification=algorithm,
        )
        for n in range(1, N_SEGMENTS + 1)
    ]
    seg = hd.seg.Segmentation(
        sources,
        labels,
        "BINARY",
        descriptions,
        hd.UID(),
        901,
        hd.UID(),
        1,
        "Vesalius",
        ALGORITHM.name,
        "1",
        "0",
    )
    out = io.BytesIO()
    seg.save_as(out)
    return out.getvalue()


def _ours(sources: list[pydicom.Dataset], labels: npt.NDArray[np.uint8]) -> bytes:
    return encode_seg(
        labels, sources, _segments(), algorithm=ALGORITHM, identity=SegIdentity.derived("bench")
    )


def _decoded(data: bytes, sources: list[pydicom.Dataset]) -> npt.NDArray[np.generic]:
    """The SEG decoded by highdicom as a label map, slice ``k`` on ``sources[k]``."""
    seg = hd.seg.segread(io.BytesIO(data))
    pixels = seg.get_pixels_by_source_instance(
        [str(ds.SOPInstanceUID) for ds in sources],
        combine_segments=True,
        assert_missing_frames_are_empty=True,
    )
    return np.asarray(pixels)


Writer = Callable[[list[pydicom.Dataset], npt.NDArray[np.uint8]], bytes]


def _time(
    fn: Writer, sources: list[pydicom.Dataset], labels: npt.NDArray[np.uint8]
) -> tuple[float, bytes]:
    start = time.perf_counter()
    data = fn(sources, labels)
    return time.perf_counter() - start, data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--small", action="store_true", help="60x128x128 (a quick check)")
    args = parser.parse_args()
    shape = SMALL if args.small else FULL
    reps = max(3, args.reps)
    with tempfile.TemporaryDirectory() as tmp:
        sources = _grid(shape, Path(tmp) / "ct")
    labels = _labels(shape)
    times: dict[str, list[float]] = {"highdicom": [], "vesalius": []}
    outputs: dict[str, bytes] = {}
    for _ in range(reps):
        writers: tuple[tuple[str, Writer], ...] = (("highdicom", _highdicom), ("vesalius", _ours))
        for name, fn in writers:
            seconds, outputs[name] = _time(fn, sources, labels)
            times[name].append(seconds)
    theirs = _decoded(outputs["highdicom"], sources)
    ours = _decoded(outputs["vesalius"], sources)
    assert np.array_equal(theirs, ours), "the decoded segmentations differ"
    assert np.array_equal(ours, labels), "the decoded segmentation is not the label map"
    n_frames = int(pydicom.dcmread(io.BytesIO(outputs["vesalius"])).NumberOfFrames)
    print(f"label map {shape}, {N_SEGMENTS} segments, {n_frames} frames, {reps} runs each")
    print(f"{'writer':<10} {'median s':>9} {'min s':>7} {'bytes':>11}")
    for name, values in times.items():
        size = len(outputs[name])
        print(f"{name:<10} {statistics.median(values):9.3f} {min(values):7.3f} {size:11d}")
    ratio = statistics.median(times["highdicom"]) / statistics.median(times["vesalius"])
    print("decoded results identical: yes")
    print(f"RATIO seg_export {ratio:.2f}")


if __name__ == "__main__":
    main()
