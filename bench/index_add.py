"""Microbenchmark: ``store.index.add_instances`` per instance, batches of 1 and of 8.

Files ``N`` (default 1,000) CT instance headers of one patient, study and series into a
fresh SQLite index on disk opened with :func:`~vesalius.store.open_store` (WAL, the
store's pragmas), the way the C-STORE group committer does: one write session per batch,
one :class:`~vesalius.store.index.ParentCache` kept across batches. Blob references are
made up (no blob is written): only indexing is measured.

Figures per batch size, in milliseconds per instance:

- ``add``: CPU time (this thread's) inside ``add_instances``, the transaction already
  begun: the index's cost, what the C-STORE writer thread pays under the GIL, and a
  figure other processes on a shared machine disturb less than wall time;
- ``txn``: wall time of the whole transaction (begin, ``add_instances``, commit) with
  ``session(durable=False)``, so that the figure is not one fsync per commit.

A second pass re-sends every instance (duplicates, kept first) in the same batches:
``resent add``.

Measured on the 2-core development machine (shared, best of 3, ms per instance, add):
batch 1 0.70-0.75 before (ORM/Core statements compiled per call) and 0.22-0.24 after
(SQL run with ``exec_driver_sql``); batch 8 0.12-0.14 before, 0.06 after.
Run: ``.venv/bin/python bench/index_add.py [--n N] [--repeats R]``; the best of ``R``
repetitions is printed. The last line is ``RESULT index_add_ms <add ms/instance, batch 1>``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from pydicom import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

from vesalius.store import BlobRef, InstanceHeader, open_store, sqlite_url
from vesalius.store.index import ParentCache, add_instances


def headers(n: int) -> list[InstanceHeader]:
    """``n`` instance headers of one CT series, as a scanner would send them."""
    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    out = []
    for k in range(n):
        ds = Dataset()
        ds.PatientID, ds.PatientName, ds.PatientBirthDate, ds.PatientSex = (
            "BENCH1",
            "Doe^Jane",
            "19600101",
            "F",
        )
        ds.StudyInstanceUID, ds.StudyDate, ds.StudyTime = study, "20240115", "101500"
        ds.AccessionNumber, ds.StudyID, ds.StudyDescription = "ACC1", "1", "CT CHEST"
        ds.SeriesInstanceUID, ds.Modality, ds.SeriesNumber = series, "CT", 2
        ds.SeriesDescription, ds.BodyPartExamined, ds.FrameOfReferenceUID = (
            "AXIAL 1mm",
            "CHEST",
            frame,
        )
        ds.SOPInstanceUID, ds.SOPClassUID, ds.InstanceNumber = generate_uid(), CTImageStorage, k
        ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        out.append(InstanceHeader.from_dataset(ds))
    return out


def blob(k: int) -> BlobRef:
    """A made-up blob reference (content-addressed path shape of the blob store)."""
    digest = f"{k:064x}"
    return BlobRef(path=f"{digest[:2]}/{digest}.dcm", size=525_000, sha256=digest)


def run(
    items: list[tuple[InstanceHeader, BlobRef]], batch: int, folder: Path
) -> tuple[float, float, float]:
    """File ``items`` in batches of ``batch`` twice (fresh, then resent); ms per instance.

    Returns add and txn of the fresh pass, then add of the resent one.
    """
    store = open_store(sqlite_url(folder / f"index-{batch}.sqlite3"))
    parents = ParentCache()
    try:
        figures = []
        for label in ("fresh", "resent"):
            add = txn = 0.0
            for start in range(0, len(items), batch):
                chunk = items[start : start + batch]
                t0 = time.perf_counter()
                with store.session(durable=False) as session:
                    session.connection()  # BEGIN: the transaction's cost, not the index's
                    t1 = time.thread_time()
                    added = add_instances(session, chunk, parents=parents)
                    add += time.thread_time() - t1
                txn += time.perf_counter() - t0
                if any(a.created for a in added) != (label == "fresh"):
                    raise SystemExit(f"unexpected result in the {label} pass: {added}")
            figures.append((1000 * add / len(items), 1000 * txn / len(items)))
        return figures[0][0], figures[0][1], figures[1][0]
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    hs = headers(args.n)
    items = [(h, blob(k)) for k, h in enumerate(hs)]
    best: dict[int, tuple[float, float, float]] = {}
    for _ in range(args.repeats):
        for batch in (1, 8):
            with tempfile.TemporaryDirectory() as folder:
                got = run(items, batch, Path(folder))
            best[batch] = min(best.get(batch, got), got)
    for batch, (add, txn, dup) in best.items():
        print(
            f"batch {batch}: add {add:.3f} ms/instance, txn {txn:.3f} ms/instance, "
            f"resent add {dup:.3f} ms/instance"
        )
    print(f"RESULT index_add_ms {best[1][0]:.3f}")


if __name__ == "__main__":
    main()
