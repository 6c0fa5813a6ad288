"""Group commit: one index writer thread commits the instances of many receivers at once.

Each receiver (a C-STORE handler, in its association's thread) writes its blob, hands the
parsed header and the blob reference to :class:`GroupCommitter`, fsyncs the blob, and
waits. The writer thread takes everything waiting in its queue and indexes it with
:func:`~vesalius.store.index.add_instances` in ONE transaction while the receivers' fsyncs
run; it commits (one ``synchronous=FULL`` commit for the whole group) only once every blob
of the group is synced, and only then wakes each receiver with its result. The durability
order of :mod:`vesalius.ingest.durable` holds for every instance: blob fsynced, index
committed, then acknowledged; the index work merely overlaps the blob's fsync.

If the batch transaction fails, its instances are retried one by one, each in its own
transaction, so that one bad instance (a study claimed by another patient...) fails alone.
A committer that is not running commits in the caller's thread instead, so a late receiver
still gets a correct answer while the listener stops.

Examples
--------
>>> import pathlib, tempfile
>>> from pydicom.data import get_testdata_file
>>> from vesalius.ingest.durable import read_header
>>> from vesalius.store import BlobStore, open_store, sqlite_url
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> store = open_store(sqlite_url(root / "index.sqlite3"))
>>> data = pathlib.Path(get_testdata_file("CT_small.dcm")).read_bytes()
>>> with GroupCommitter(store, BlobStore(root / "blobs")) as committer:
...     stored = committer.store(data, header=read_header(data))
>>> stored.new, stored.header.series.modality
(True, 'CT')
>>> store.close()
"""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from types import TracebackType
from typing import cast

from vesalius.ingest.durable import StoredInstance
from vesalius.store import (
    AddedInstance,
    BlobRef,
    BlobStore,
    DuplicatePolicy,
    InstanceHeader,
    Store,
    add_instance,
)
from vesalius.store.index import ParentCache, add_instances

log = logging.getLogger(__name__)

#: The most instances committed in one transaction.
MAX_BATCH = 256


@dataclass(frozen=True)
class _Pending:
    """An instance waiting for its index commit, and where its answer goes."""

    header: InstanceHeader
    blob: BlobRef
    #: Set once the blob is durable (at once for a blob stored already).
    synced: Future[None] = field(default_factory=Future)
    future: Future[StoredInstance] = field(default_factory=Future)

    def wait_synced(self) -> None:
        """Return once the blob is durable; raise what its sync raised."""
        self.synced.result()


_STOP = object()


class GroupCommitter:
    """Index instances from many threads with one writer thread and batched commits.

    Parameters
    ----------
    store, blobs
        Where instances are indexed and kept.
    on_duplicate
        What to do with an instance whose SOP Instance UID is already indexed.
    max_batch
        The most instances in one transaction.
    """

    def __init__(
        self,
        store: Store,
        blobs: BlobStore,
        *,
        on_duplicate: DuplicatePolicy = DuplicatePolicy.KEEP_FIRST,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self._index, self._blobs = store, blobs
        self.on_duplicate, self.max_batch = on_duplicate, max(1, max_batch)
        self._queue: queue.SimpleQueue[_Pending | object] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._parents = ParentCache()  # used by the writer thread only

    # -- life cycle --------------------------------------------------------------------

    def start(self) -> None:
        """Start the writer thread (nothing happens if it runs already)."""
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name="index-writer", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Commit what is queued, then end the writer thread; later work commits inline."""
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is not None:
                self._queue.put(_STOP)
        if thread is not None:
            thread.join()

    def __enter__(self) -> GroupCommitter:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- receivers ---------------------------------------------------------------------

    def store(self, data: bytes, *, header: InstanceHeader) -> StoredInstance:
        """Write ``data`` durably (blob fsynced) and index it; return once committed.

        ``header`` is :func:`~vesalius.ingest.durable.read_header` of ``data``. Raises what
        indexing raised for this instance (:class:`~vesalius.errors.StoreError`...).
        """
        written = self._blobs.write(data)
        pending = _Pending(header, written.ref)
        queued = self._enqueue(pending)  # indexed while the blob is synced below
        try:
            self._blobs.sync([written])
        except BaseException as err:  # the writer must not commit it: it waits for this
            pending.synced.set_exception(err)
        else:
            pending.synced.set_result(None)
        if not queued:
            self._commit_one(pending)
        return pending.future.result()

    def submit(self, header: InstanceHeader, blob: BlobRef) -> Future[StoredInstance]:
        """Queue an instance whose blob is stored; the future is set once it is committed."""
        pending = _Pending(header, blob)
        pending.synced.set_result(None)
        if not self._enqueue(pending):
            self._commit_one(pending)
        return pending.future

    def _enqueue(self, pending: _Pending) -> bool:
        """Hand ``pending`` to the writer thread; False when it is not running."""
        with self._lock:
            if self._thread is None:
                return False
            self._queue.put(pending)
            return True

    # -- the writer thread -------------------------------------------------------------

    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch: list[_Pending] = []
            item = self._queue.get()
            while item is not _STOP:
                batch.append(cast(_Pending, item))
                if len(batch) >= self.max_batch:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            stopping = item is _STOP
            try:
                self._commit(batch)
            except Exception as err:  # never leave a receiver waiting forever
                log.exception("index writer failed")
                for pending in batch:
                    if not pending.future.done():
                        pending.future.set_exception(err)

    def _commit(self, batch: list[_Pending]) -> None:
        """Commit ``batch`` in one transaction, or one by one if that fails."""
        if not batch:
            return
        try:
            with self._index.session() as session:
                added = add_instances(
                    session,
                    [(p.header, p.blob) for p in batch],
                    on_duplicate=self.on_duplicate,
                    parents=self._parents,
                )
                for pending in batch:  # commit only once every blob is durable
                    pending.wait_synced()
        except Exception as err:
            self._parents.clear()
            if len(batch) > 1:
                log.warning("group commit of %d instances failed (%s); one by one", len(batch), err)
            for pending in batch:
                self._commit_one(pending)
            return
        log.debug("committed %d instances in one transaction", len(batch))
        for pending, result in zip(batch, added, strict=True):
            self._resolve(pending, result)

    def _commit_one(self, pending: _Pending) -> None:
        try:
            with self._index.session() as session:
                added = add_instance(
                    session, pending.header, pending.blob, on_duplicate=self.on_duplicate
                )
                pending.wait_synced()
        except BaseException as err:  # handed to the waiting receiver, who answers a failure
            pending.future.set_exception(err)
            return
        self._resolve(pending, added)

    def _resolve(self, pending: _Pending, added: AddedInstance) -> None:
        if added.orphaned_blob is not None:
            try:
                self._blobs.delete(added.orphaned_blob)
            except Exception:  # the instance is committed; a stale blob is only wasted space
                log.exception("cannot delete replaced blob %s", added.orphaned_blob)
        stored = StoredInstance(pending.header, pending.blob, added.created or added.replaced)
        pending.future.set_result(stored)
