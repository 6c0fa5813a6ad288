"""Folder import: bring the DICOM files of a folder (or a list of files) into the store.

Each file is stored durably and indexed in the order the design requires: its bytes go to
the blob store (fsynced), then its index row is committed. Files that are not DICOM, or
that lack the identifying UIDs, are listed as problems naming the file; the rest still go
in. Pixel data is never decoded, and stored paths come from content hashes, never from
DICOM values.

Examples
--------
>>> import pathlib, tempfile
>>> from pydicom.data import get_testdata_file
>>> from vesalius.store import BlobStore, open_store, sqlite_url
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> store = open_store(sqlite_url(root / "index.sqlite3"))
>>> result = import_files([pathlib.Path(get_testdata_file("CT_small.dcm"))],
...                       store=store, blobs=BlobStore(root / "blobs"))
>>> result.stored, result.duplicates, result.problems
(1, 0, ())
>>> store.close()
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from vesalius.errors import InputError
from vesalius.ingest.durable import StoredInstance, store_instance
from vesalius.store import BlobStore, DuplicatePolicy, Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImportProblem:
    """A file that was not imported, and why."""

    path: str
    problem: str


@dataclass(frozen=True)
class ImportResult:
    """What an import did: counts, the studies touched, and the files left out."""

    stored: int
    duplicates: int
    study_uids: tuple[str, ...]
    problems: tuple[ImportProblem, ...]


def iter_files(source: Path) -> Iterator[Path]:
    """The files under ``source`` (itself, if it is a file), in a stable order.

    Raises
    ------
    InputError
        When ``source`` does not exist.
    """
    if source.is_file():
        yield source
    elif source.is_dir():
        yield from sorted(p for p in source.rglob("*") if p.is_file())
    else:
        raise InputError(source, "no such file or folder")


def import_file(
    path: Path,
    *,
    store: Store,
    blobs: BlobStore,
    on_duplicate: DuplicatePolicy = DuplicatePolicy.KEEP_FIRST,
) -> StoredInstance:
    """Store and index one file durably (see :func:`~vesalius.ingest.durable.store_instance`).

    Raises
    ------
    DicomReadError
        When the file is not DICOM or cannot be indexed; nothing is stored then.
    """
    return store_instance(
        path.read_bytes(), store=store, blobs=blobs, on_duplicate=on_duplicate, source=path
    )


def import_files(
    paths: Iterable[Path],
    *,
    store: Store,
    blobs: BlobStore,
    on_duplicate: DuplicatePolicy = DuplicatePolicy.KEEP_FIRST,
) -> ImportResult:
    """Import every file of ``paths``; a bad file is listed and the rest go on."""
    stored = duplicates = 0
    studies: dict[str, None] = {}
    problems: list[ImportProblem] = []
    for path in paths:
        try:
            stored_instance = import_file(path, store=store, blobs=blobs, on_duplicate=on_duplicate)
        except (InputError, OSError) as err:
            log.warning("not imported: %s", err)
            problems.append(ImportProblem(str(path), getattr(err, "problem", str(err))))
            continue
        new = stored_instance.new
        stored, duplicates = stored + new, duplicates + (not new)
        studies[stored_instance.header.study.study_uid] = None
    return ImportResult(stored, duplicates, tuple(studies), tuple(problems))
