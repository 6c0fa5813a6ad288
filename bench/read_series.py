"""Benchmark: read a CT series into an array, Vesalius vs SimpleITK's ImageSeriesReader.

Generates ``N`` files of ``S x S`` int16 CT (Rescale Intercept -1024) with pydicom in a
temporary folder, then reads them alternately with :func:`vesalius.io.read_dicom` (scan +
read) and SimpleITK (``GetGDCMSeriesFileNames`` ordering + ``ImageSeriesReader``), checks
both give the same voxels and geometry, measures the peak Python/numpy memory of our read
with tracemalloc (in a separate, untimed run), and prints medians.

Run: ``.venv/bin/python bench/read_series.py [--small] [--repeats N]``.
The last line is ``RATIO read_series <sitk_median / ours_median>`` (>1: we are ahead).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import SimpleITK as sitk  # noqa: N813
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

from vesalius.io import read_dicom


def write_series(folder: Path, n_slices: int, size: int) -> None:
    """Write ``n_slices`` axial CT files of ``size x size`` int16 into ``folder``."""
    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    rng = np.random.default_rng(0)
    for k in range(n_slices):
        uid = generate_uid()
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = CTImageStorage
        meta.MediaStorageSOPInstanceUID = uid
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, uid
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame
        ds.Modality, ds.PatientName, ds.PatientID = "CT", "Bench^Phantom", "BENCH1"
        ds.InstanceNumber = k + 1
        ds.ImagePositionPatient = [-250.0, -250.0, -300.0 + 1.25 * k]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing = [0.9765625, 0.9765625]
        ds.SliceThickness = 1.25
        ds.Rows = ds.Columns = size
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleSlope, ds.RescaleIntercept, ds.RescaleType = 1, -1024, "HU"
        ds.PixelData = rng.integers(0, 3000, (size, size), dtype=np.int16).tobytes()
        ds.save_as(folder / f"IM{k:04d}.dcm", enforce_file_format=True)


def read_ours(folder: Path) -> tuple[np.ndarray, tuple[float, ...], tuple[float, ...]]:
    vol = read_dicom(folder).volume
    return vol.array, vol.spacing, vol.origin


def read_sitk(folder: Path) -> tuple[np.ndarray, tuple[float, ...], tuple[float, ...]]:
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder)))
    image = reader.Execute()
    spacing = image.GetSpacing()
    return sitk.GetArrayFromImage(image), spacing[::-1], image.GetOrigin()


def peak_memory_ratio(folder: Path) -> tuple[float, int]:
    """Peak traced allocation during our read, divided by the volume's own size."""
    tracemalloc.start()
    array = read_ours(folder)[0]
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / array.nbytes, array.nbytes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", action="store_true", help="40 slices of 256x256")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    n_slices, size = (40, 256) if args.small else (300, 512)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_series(folder, n_slices, size)
        ours, peer = read_ours(folder), read_sitk(folder)
        assert np.array_equal(ours[0].astype(np.int32), peer[0].astype(np.int32)), "voxels differ"
        assert np.allclose(ours[1], peer[1], atol=1e-4), f"spacing {ours[1]} vs {peer[1]}"
        assert np.allclose(ours[2], peer[2], atol=1e-4), f"origin {ours[2]} vs {peer[2]}"
        t_ours, t_peer = [], []
        for _ in range(max(args.repeats, 3)):
            for reader, times in ((read_ours, t_ours), (read_sitk, t_peer)):
                start = time.perf_counter()
                reader(folder)
                times.append(time.perf_counter() - start)
        mem_ratio, nbytes = peak_memory_ratio(folder)
    ours_s, peer_s = statistics.median(t_ours), statistics.median(t_peer)
    print(f"series: {n_slices} slices of {size}x{size} int16, volume {nbytes / 2**20:.1f} MiB")
    print(
        f"vesalius read_dicom  median {ours_s * 1e3:8.1f} ms  runs {[round(t, 3) for t in t_ours]}"
    )
    print(
        f"SimpleITK reader     median {peer_s * 1e3:8.1f} ms  runs {[round(t, 3) for t in t_peer]}"
    )
    print(f"vesalius peak traced memory / volume size: {mem_ratio:.3f}")
    print("voxels and geometry identical: yes")
    print(f"RATIO read_series {peer_s / ours_s:.3f}")


if __name__ == "__main__":
    main()
