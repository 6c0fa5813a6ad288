"""Benchmark: de-identify N generated CT instances, Vesalius vs dicognito, side by side.

Input: N single-slice CT instances, 512x512 16-bit (``--small``: 200 of 64x64), one patient
per 50 instances, PHI in ~30 tags, private tags, and nested reference sequences, written once
to a temporary folder. Each repetition de-identifies the whole folder into a fresh output
folder, from disk to disk:

- ours: ``vesalius.ingest.deid.deidentify_paths`` (Basic Profile + modified dates), 2 worker
  processes, atomic writes with fsync, plus the JSON report;
- peer: dicognito 0.19 ``Anonymizer.anonymize`` with pydicom read/write, in a 2-process pool
  (one Anonymizer per process, seeded; no fsync), and also in 1 process as its CLI runs.

Prints medians of the repetitions (instances/s and CPU ms per instance, this process and its
children), whether ours reaches 200 instances/s, and, last, ``RATIO deid <ours/best peer>``.
Run: ``.venv/bin/python bench/deid.py [--small] [--reps N]``.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian

TABLE = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "deid" / "annex_e.csv"


def _instance(n: int, size: int) -> Dataset:
    patient, study = n // 50, f"1.2.826.0.1.3680043.9.7.{n // 50}"
    ds = Dataset()
    ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, f"{study}.1.{n}"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study, f"{study}.1"
    ds.FrameOfReferenceUID, ds.Modality = f"{study}.2", "CT"
    ds.PatientName, ds.PatientID = f"PATIENT^NUMBER{patient}", f"MRN{100000 + patient}"
    ds.PatientBirthDate, ds.PatientSex, ds.PatientAge = "19600101", "M", "064Y"
    ds.PatientAddress, ds.OtherPatientIDs = "12 High Street", f"OLD{patient}"
    ds.StudyDate = ds.SeriesDate = ds.AcquisitionDate = ds.ContentDate = "20240301"
    ds.StudyTime = ds.SeriesTime = ds.AcquisitionTime = ds.ContentTime = "101500"
    ds.AccessionNumber, ds.StudyID = f"ACC{n // 50}", "1"
    ds.ReferringPhysicianName, ds.PerformingPhysicianName = "WHO^DOCTOR", "HOUSE^G"
    ds.OperatorsName, ds.InstitutionName = "OPERATOR^ONE", "General Hospital"
    ds.InstitutionAddress, ds.StationName = "1 Hospital Road", "CT01"
    ds.DeviceSerialNumber, ds.Manufacturer = "SN12345", "ACME"
    ds.StudyDescription, ds.SeriesDescription = "CT CHEST", "Axial 1mm for Dr Smith"
    ds.ImageComments, ds.BurnedInAnnotation = "called patient at 555-1234", "NO"
    ds.InstanceNumber, ds.SliceLocation = n % 50 + 1, float(n % 50)
    ds.ImagePositionPatient = [0.0, 0.0, float(n % 50)]
    ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    ds.PixelSpacing, ds.SliceThickness = [0.7, 0.7], 1.0
    ref = Dataset()
    ref.ReferencedSOPClassUID = CTImageStorage
    ref.ReferencedSOPInstanceUID = f"{study}.1.{n - 1 if n % 50 else n + 1}"
    ds.ReferencedImageSequence = Sequence([ref])
    ds.add_new(0x00090010, "LO", "ACME 1.0")
    ds.add_new(0x00091001, "LO", f"private MRN{100000 + patient}")
    ds.add_new(0x00091002, "DS", "1.5")
    ds.Rows = ds.Columns = size
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.RescaleIntercept, ds.RescaleSlope = -1024.0, 1.0
    rng = np.random.default_rng(n)
    ds.PixelData = rng.integers(0, 4096, (size, size), dtype=np.uint16).tobytes()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = (
        CTImageStorage,
        ds.SOPInstanceUID,
    )
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta = meta
    return ds


def generate(folder: Path, count: int, size: int) -> list[Path]:
    """Write ``count`` CT instances of ``size`` x ``size`` into ``folder``."""
    folder.mkdir(parents=True)
    paths = []
    for n in range(count):
        path = folder / f"img{n:05d}.dcm"
        _instance(n, size).save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def run_ours(source: Path, out: Path) -> int:
    """De-identify with Vesalius, 2 workers; return the instances written."""
    from vesalius.ingest.deid import DeidKeys, Option, deidentify_paths, load_profile_table

    profile = load_profile_table(TABLE).compile({Option.RETAIN_LONG_MODIFIED_DATES})
    report = deidentify_paths(source, out, profile=profile, keys=DeidKeys(b"bench"), workers=2)
    return report.written


_PEER = None


def _peer_init() -> None:
    global _PEER
    from dicognito.anonymizer import Anonymizer

    _PEER = Anonymizer(seed="bench")


def _peer_one(job: tuple[Path, Path]) -> None:
    from pydicom import dcmread

    source, target = job
    ds = dcmread(source)
    assert _PEER is not None
    _PEER.anonymize(ds)
    ds.save_as(target, enforce_file_format=True)


def run_peer(source: Path, out: Path, workers: int) -> int:
    """De-identify with dicognito (pydicom read/write) in ``workers`` processes."""
    out.mkdir(parents=True)
    jobs = [(p, out / p.name) for p in sorted(source.iterdir())]
    if workers == 1:
        _peer_init()
        for job in jobs:
            _peer_one(job)
    else:
        with ProcessPoolExecutor(workers, initializer=_peer_init) as pool:
            list(pool.map(_peer_one, jobs, chunksize=16))
    return len(jobs)


def _time_interleaved(
    sides: dict[str, Callable[[Path], int]], scratch: Path, reps: int
) -> dict[str, tuple[float, float]]:
    """Run each side once per repetition, interleaved so that machine load hits all alike.

    Returns, per side, the median instances/s and the median CPU ms per instance (this
    process and its children, user + system).
    """
    rates: dict[str, list[float]] = {name: [] for name in sides}
    cpu: dict[str, list[float]] = {name: [] for name in sides}
    for rep in range(reps):
        for name, func in sides.items():
            out = scratch / f"{name}-{rep}"
            before, start = _cpu_seconds(), time.perf_counter()
            count = func(out)
            rates[name].append(count / (time.perf_counter() - start))
            cpu[name].append((_cpu_seconds() - before) / count * 1000)
            shutil.rmtree(out)
    return {n: (statistics.median(rates[n]), statistics.median(cpu[n])) for n in sides}


def _cpu_seconds() -> float:
    me, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    """Generate the input, time both sides, print the numbers and the RATIO line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="200 instances of 64x64")
    parser.add_argument("--reps", type=int, default=3, help="repetitions per side")
    args = parser.parse_args()
    count, size = (200, 64) if args.small else (1000, 512)
    with tempfile.TemporaryDirectory(prefix="bench-deid-") as tmp:
        scratch = Path(tmp)
        generate(scratch / "in", count, size)
        source = scratch / "in"
        print(f"input: {count} CT instances {size}x{size}, {args.reps} repetitions, medians")
        sides: dict[str, Callable[[Path], int]] = {
            "ours": lambda out: run_ours(source, out),
            "peer2": lambda out: run_peer(source, out, 2),
            "peer1": lambda out: run_peer(source, out, 1),
        }
        results = _time_interleaved(sides, scratch, args.reps)
    labels = {
        "ours": "vesalius deid (2 processes, fsync, report)",
        "peer2": "dicognito     (2 processes, no fsync)    ",
        "peer1": "dicognito     (1 process, as its CLI)    ",
    }
    for name, (rate, cpu_ms) in results.items():
        print(f"{labels[name]}: {rate:8.1f} instances/s  {cpu_ms:6.2f} CPU ms/instance")
    best_peer = max(results["peer1"][0], results["peer2"][0])
    ours_rate, ours_cpu = results["ours"]
    print(f"ours instances/s: {ours_rate:.1f}  CPU ms/instance: {ours_cpu:.2f}")
    print(f"ours instances/s >= 200: {'yes' if ours_rate >= 200 else 'no'}")
    print(f"RATIO deid {ours_rate / best_peer:.2f}")


if __name__ == "__main__":
    main()
