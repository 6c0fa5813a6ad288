"""Checkpoints of the ingest journal: retire a segment once what it holds is durable elsewhere.

An instance acknowledged on the strength of the journal (:mod:`vesalius.store.journal`) has
its blob file written and its index row committed, neither flushed. When the journal closes
a segment (it is full, or the listener stops) and every record of it has been applied
(committed to the index, or refused), a checkpoint fsyncs those blob files and their
folders, makes the index durable (:meth:`~vesalius.store.Store.sync_index`) and only then
retires the segment. A failed checkpoint keeps the segment: the next start replays it.

Examples
--------
>>> import pathlib, tempfile
>>> from vesalius.store import open_store, sqlite_url
>>> from vesalius.store.journal import BlobJournal
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> store = open_store(sqlite_url(root / "index.sqlite3"))
>>> journal = BlobJournal(root / "journal")
>>> checkpoints = Checkpoints(journal, store)
>>> journal.on_closed = checkpoints.closed
>>> journal.start()
>>> blob = root / "blob.bin"
>>> _ = blob.write_bytes(b"x")
>>> segment = journal.append(b"x", sha256="2d" + "0" * 62, suffix=".dcm").wait()
>>> checkpoints.applied(segment, blob)
>>> for segment, records in journal.stop():
...     checkpoints.closed(segment, records)
>>> checkpoints.run_ready()  # fsyncs blob.bin and the index, retires segment 1
[1]
>>> journal.segments()
[]
>>> store.close()
"""

from __future__ import annotations

import logging
import os
import threading
from collections import defaultdict
from pathlib import Path

from vesalius.errors import StoreError
from vesalius.store import Store
from vesalius.store.journal import BlobJournal
from vesalius.store.page_cache import drop_flushed

log = logging.getLogger(__name__)


class Checkpoints:
    """Track what each journal segment holds and retire segments whose content is durable.

    The writer thread of the index calls :meth:`applied` for every journaled record it is
    done with; the journal calls :meth:`closed` for every segment it leaves. A background
    thread (:meth:`start`) or an explicit :meth:`run_ready` does the checkpoints.
    """

    def __init__(self, journal: BlobJournal, store: Store) -> None:
        self._journal, self._store = journal, store
        self._cond = threading.Condition()
        self._files: defaultdict[int, set[Path]] = defaultdict(set)
        self._applied: defaultdict[int, int] = defaultdict(int)
        self._closed: dict[int, int] = {}  # segment -> records written to it
        self._thread: threading.Thread | None = None
        self._stopping = False

    def applied(self, segment: int, blob_file: Path | None) -> None:
        """The index writer is done with one record of ``segment`` (whose blob is there)."""
        with self._cond:
            self._applied[segment] += 1
            if blob_file is not None:
                self._files[segment].add(blob_file)
            self._cond.notify_all()

    def closed(self, segment: int, records: int) -> None:
        """No record will be added to ``segment``, which holds ``records`` flushed records."""
        with self._cond:
            self._closed[segment] = records
            self._cond.notify_all()

    def _ready(self) -> list[int]:
        return sorted(s for s, n in self._closed.items() if self._applied[s] >= n)

    def run_ready(self) -> list[int]:
        """Checkpoint every closed segment whose records are all applied; those retired."""
        with self._cond:
            ready = self._ready()
            work = [(s, self._files.pop(s, set())) for s in ready]
            for segment in ready:
                del self._closed[segment]
                self._applied.pop(segment, None)
        done = []
        for segment, files in work:
            if self._checkpoint(segment, files):
                done.append(segment)
        return done

    def _checkpoint(self, segment: int, files: set[Path]) -> bool:
        try:
            _fsync_files(files)
            self._store.sync_index()
        except (OSError, StoreError) as err:
            log.error("checkpoint of journal segment %d failed (kept for replay): %s", segment, err)
            return False
        self._journal.retire(segment)
        log.debug("journal segment %d retired (%d blobs)", segment, len(files))
        return True

    # -- background --------------------------------------------------------------------

    def start(self) -> None:
        """Run checkpoints in a background thread as segments become ready."""
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="journal-checkpoint", daemon=True)
        self._thread.start()

    def stop(self) -> list[int]:
        """Stop the thread, then checkpoint what is ready; the segments left (not retired)."""
        thread, self._thread = self._thread, None
        if thread is not None:
            with self._cond:
                self._stopping = True
                self._cond.notify_all()
            thread.join()
        self.run_ready()
        with self._cond:
            return sorted(self._closed)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopping and not self._ready():
                    self._cond.wait()
                if self._stopping:
                    return
            self.run_ready()


def _fsync_files(files: set[Path]) -> None:
    """fsync each file (a blob replaced meanwhile is skipped), then the folders above it."""
    folders: set[Path] = set()
    for path in files:
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            continue
        try:
            os.fsync(fd)
            drop_flushed(fd)
        finally:
            os.close(fd)
        folders.update(path.parents[:2])  # ab/ and the store (a new folder's name)
    for folder in folders:
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
