"""Benchmark: build the full chest CT phantom, then write it as DICOM, ours vs SimpleITK.

The peer is SimpleITK (GDCM) writing the same int16 volume as one file per slice with
the same geometry (ImageSeriesWriter-style: one WriteImage per slice). Phantom generation
has no peer; its time is printed for reference.

Usage: .venv/bin/python bench/phantom.py [--small]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import SimpleITK as sitk  # noqa: N813

from vesalius.io.dicom_write import write_series
from vesalius.simulate.chest_ct import (
    FULL_SHAPE,
    SMALL_SHAPE,
    ChestCTSpec,
    chest_ct,
    write_chest_ct,
)
from vesalius.simulate.study import metadata


def _sitk_write(
    array: np.ndarray,
    spacing: tuple[float, float, float],
    origin: tuple[float, float, float],
    folder: Path,
) -> None:
    image = sitk.GetImageFromArray(array)
    image.SetSpacing((spacing[2], spacing[1], spacing[0]))
    image.SetOrigin(origin)
    writer = sitk.ImageFileWriter()
    writer.KeepOriginalImageUIDOn()
    for k in range(array.shape[0]):
        sl = image[:, :, k]
        sl.SetMetaData("0008|0060", "CT")
        sl.SetMetaData("0020|0013", str(k + 1))
        sl.SetMetaData(
            "0020|0032", "\\".join(map(str, image.TransformIndexToPhysicalPoint((0, 0, k))))
        )
        writer.SetFileName(str(folder / f"IMG{k + 1:05d}.dcm"))
        writer.Execute(sl)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", action="store_true")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    shape = SMALL_SHAPE if args.small else FULL_SHAPE
    t0 = time.perf_counter()
    ct = chest_ct(ChestCTSpec(shape=shape), seed=0)
    build = time.perf_counter() - t0
    print(f"chest CT phantom {shape}: built in {build:.2f} s")
    meta = metadata("chest-ct", 0, number=1, description="bench")
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        write_chest_ct(ct, tmp)
        print(f"full study (series + 2 NIfTI label maps + truth): {time.perf_counter() - t0:.2f} s")
    ours, peer = [], []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            write_series(ct.volume, Path(tmp) / "ours", meta=meta)
            ours.append(time.perf_counter() - t0)
            (Path(tmp) / "peer").mkdir()
            t0 = time.perf_counter()
            _sitk_write(ct.volume.array, ct.volume.spacing, ct.volume.origin, Path(tmp) / "peer")
            peer.append(time.perf_counter() - t0)
    m_ours, m_peer = statistics.median(ours), statistics.median(peer)
    print(f"write DICOM series (ours, vesalius):       median {m_ours:.3f} s of {ours}")
    print(f"write series only (peer, SimpleITK/GDCM):       median {m_peer:.3f} s of {peer}")
    print(f"RATIO phantom_write {m_peer / m_ours:.3f}")


if __name__ == "__main__":
    main()
