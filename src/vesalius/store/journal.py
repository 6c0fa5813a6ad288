"""A write-ahead journal of blobs: many received instances made durable by one flush.

Why: acknowledging a C-STORE only after its bytes are durable costs a disk flush per
instance. A new file's fsync flushes its data and then the file system's metadata journal
(two cache flushes); an index commit flushes again. The journal turns this into ONE
``fdatasync`` of blocks written over a preallocated file: the bytes of every instance
received meanwhile, each in a record with its SHA-256. After that flush an instance may be
acknowledged even though its blob file and its index row are not yet flushed themselves:
a *checkpoint* later fsyncs the blob files and the index (:class:`Checkpoints`), and only
then is the journal segment that holds them retired. After a crash, :meth:`BlobJournal.leftovers`
gives back every record of the segments not retired, to be stored and indexed again
(idempotent: a blob is content-addressed, an instance found in the index is skipped).

Layout: ``seg-<number>.vjl`` files in one folder, each ``segment_bytes`` long (allocated
ahead of use with ``posix_fallocate``, so that a flush allocates no blocks; a retired
segment is reused as it is) plus a ``lock`` file held while a process owns the journal. A
record is a 76-byte head (magic, segment and record numbers, payload length, SHA-256, blob
suffix, CRC-32 of the head) followed by the payload. Reading stops at the first record whose
head, segment number or SHA-256 does not match: a torn write is always the last record,
never acknowledged (records are written in order, and a batch is flushed before the next is
written). A retired segment is recycled as a spare: its stale records carry an older segment
number, so they never read as current.

Examples
--------
>>> import hashlib, tempfile
>>> folder = tempfile.mkdtemp()
>>> journal = BlobJournal(folder, segment_bytes=1 << 16)
>>> journal.start()
>>> ticket = journal.append(b"hello", sha256=hashlib.sha256(b"hello").hexdigest(), suffix=".dcm")
>>> ticket.wait()  # durable now: the segment it went to
1
>>> journal.stop()  # closes segment 1 (1 record): a checkpoint may retire it
[(1, 1)]
>>> journal.close()  # gives up the lock: another process may own the journal now
>>> [(r.number, r.data) for r in BlobJournal(folder).leftovers()]
[(1, b'hello')]
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import queue
import re
import struct
import threading
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

from vesalius.errors import StoreError
from vesalius.store.page_cache import drop_flushed

log = logging.getLogger(__name__)

MAGIC = b"VJL1"
#: A segment's size: its records are retired together by one checkpoint.
DEFAULT_SEGMENT_BYTES = 64 << 20
_HEAD = struct.Struct("<4sQQQ32s8s")  # magic, segment, record number, length, sha256, suffix
_CRC = struct.Struct("<I")
HEAD_BYTES = _HEAD.size + _CRC.size
_SEGMENT = re.compile(r"^seg-(\d{12})\.vjl$")
_SPARE = "spare.vjl"
_MAX_BATCH_BYTES = 256 << 20
_STOP = object()
_datasync = getattr(os, "fdatasync", os.fsync)


@dataclass(frozen=True)
class JournalRecord:
    """One instance's bytes as the journal holds them."""

    segment: int
    number: int
    sha256: str
    suffix: str
    data: bytes


@dataclass
class JournalTicket:
    """An appended record: :meth:`wait` returns its segment once it is durable."""

    data: bytes
    sha256: str
    suffix: str
    done: Future[int] = field(default_factory=Future)

    def wait(self, timeout: float | None = None) -> int:
        """Block until the record is flushed; its segment number (raises if the write failed)."""
        return self.done.result(timeout)


def encode_head(segment: int, number: int, length: int, sha256: str, suffix: str) -> bytes:
    """The head of a record (see the module docstring).

    Examples
    --------
    >>> len(encode_head(1, 1, 5, "ab" * 32, ".dcm")) == HEAD_BYTES
    True
    """
    head = _HEAD.pack(MAGIC, segment, number, length, bytes.fromhex(sha256), suffix.encode())
    return head + _CRC.pack(zlib.crc32(head))


def decode_head(raw: bytes, segment: int) -> tuple[int, int, str, str] | None:
    """Record number, payload length, SHA-256 and suffix of a head of ``segment``; else None.

    Examples
    --------
    >>> decode_head(encode_head(3, 7, 5, "ab" * 32, ".dcm"), 3)[:2]
    (7, 5)
    >>> decode_head(encode_head(3, 7, 5, "ab" * 32, ".dcm"), 4) is None  # a stale record
    True
    """
    if len(raw) < HEAD_BYTES:
        return None
    head, (crc,) = raw[: _HEAD.size], _CRC.unpack(raw[_HEAD.size : HEAD_BYTES])
    if zlib.crc32(head) != crc:
        return None
    magic, seg, number, length, digest, suffix = _HEAD.unpack(head)
    if magic != MAGIC or seg != segment:
        return None
    return number, length, digest.hex(), suffix.rstrip(b"\0").decode("ascii", "replace")


def read_segment(path: Path, segment: int) -> Iterator[JournalRecord]:
    """The intact records of one segment file, in order, up to the first torn or stale one."""
    with path.open("rb") as handle:
        while True:
            decoded = decode_head(handle.read(HEAD_BYTES), segment)
            if decoded is None:
                return
            number, length, sha256, suffix = decoded
            data = handle.read(length)
            if len(data) != length or hashlib.sha256(data).hexdigest() != sha256:
                log.warning("journal %s: record %d is torn; the segment ends there", path, number)
                return
            yield JournalRecord(segment, number, sha256, suffix, data)


class BlobJournal:
    """Append blobs from many threads; one writer thread flushes them in groups.

    Parameters
    ----------
    folder
        The journal's folder (created; best on the blob store's disk).
    segment_bytes
        Size of a segment file; a record larger than that gets a segment of its own.
    on_closed
        Called (in the writer thread) with a segment's number and how many records were
        flushed to it, once no record will be added to it: the cue for a checkpoint.

    Raises
    ------
    StoreError
        When the folder cannot be used, or another process holds the journal.
    """

    def __init__(
        self,
        folder: str | os.PathLike[str],
        *,
        segment_bytes: int = DEFAULT_SEGMENT_BYTES,
        on_closed: Callable[[int, int], None] | None = None,
    ) -> None:
        self.folder, self.segment_bytes = Path(folder), max(segment_bytes, HEAD_BYTES)
        self.on_closed = on_closed
        self._lock_fd = self._take_lock()
        self._queue: queue.SimpleQueue[JournalTicket | object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._fd, self._segment, self._offset, self._number, self._records = -1, 0, 0, 0, 0
        self._filler: threading.Thread | None = None

    # -- ownership ---------------------------------------------------------------------

    def _take_lock(self) -> int:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.folder / "lock", os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise StoreError(f"{self.folder}: cannot open the ingest journal: {err}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise StoreError(
                f"{self.folder}: the ingest journal is in use by another Vesalius process "
                "(one listener per store)"
            ) from None
        return fd

    def close(self) -> None:
        """Stop if running and give up the journal's lock."""
        self.stop()
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1

    # -- recovery ----------------------------------------------------------------------

    def segments(self) -> list[int]:
        """Numbers of the segment files present (not retired), oldest first."""
        found = (_SEGMENT.match(p.name) for p in self.folder.iterdir())
        return sorted(int(m.group(1)) for m in found if m)

    def path(self, segment: int) -> Path:
        """The file of segment ``segment``."""
        return self.folder / f"seg-{segment:012d}.vjl"

    def leftovers(self) -> Iterator[JournalRecord]:
        """Every intact record of the segments not retired (left by a crash), in order."""
        for segment in self.segments():
            yield from read_segment(self.path(segment), segment)

    def retire(self, segment: int) -> None:
        """Drop a segment whose blobs and index rows are durable: it becomes the spare."""
        path, spare = self.path(segment), self.folder / _SPARE
        try:
            if spare.exists() or path.stat().st_size < self.segment_bytes:
                path.unlink()
            else:
                os.replace(path, spare)
        except FileNotFoundError:
            return
        _fsync_folder(self.folder)

    # -- writing -----------------------------------------------------------------------

    def start(self) -> None:
        """Open a new segment after the existing ones and start the writer thread."""
        if self._thread is not None:
            return
        existing = self.segments()
        self._segment = existing[-1] if existing else 0
        self._open_next()
        self._thread = threading.Thread(target=self._run, name="ingest-journal", daemon=True)
        self._thread.start()

    def append(self, data: bytes, *, sha256: str, suffix: str) -> JournalTicket:
        """Queue ``data`` (whose SHA-256 is ``sha256``); the ticket says when it is durable."""
        ticket = JournalTicket(data, sha256, suffix)
        if self._thread is None:
            ticket.done.set_exception(StoreError(f"{self.folder}: the journal is not running"))
        else:
            self._queue.put(ticket)
        return ticket

    def stop(self) -> list[tuple[int, int]]:
        """Flush what is queued, close the current segment: its number and record count."""
        thread, self._thread = self._thread, None
        if thread is None:
            return []
        self._queue.put(_STOP)
        thread.join()
        if self._filler is not None:
            self._filler.join()
        return self._close_current()

    def _run(self) -> None:
        while True:
            batch, stopping = self._take_batch()
            if batch:
                self._write(batch)
            if stopping:
                return

    def _take_batch(self) -> tuple[list[JournalTicket], bool]:
        item, batch, size = self._queue.get(), [], 0
        while item is not _STOP:
            assert isinstance(item, JournalTicket)
            batch.append(item)
            size += len(item.data)
            if size >= _MAX_BATCH_BYTES:
                return batch, False
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return batch, False
        return batch, True

    def _write(self, batch: list[JournalTicket]) -> None:
        """Write ``batch`` with one flush per segment it spans; resolve each flushed record."""
        tickets: list[JournalTicket] = []
        chunk: list[bytes] = []
        start = self._offset
        try:
            for ticket in batch:
                size = HEAD_BYTES + len(ticket.data)
                if self._offset > 0 and self._offset + size > self.segment_bytes:
                    self._flush(chunk, start, tickets)
                    tickets, chunk, start = [], [], 0
                    self._rotate()
                self._number += 1
                head = encode_head(
                    self._segment, self._number, len(ticket.data), ticket.sha256, ticket.suffix
                )
                chunk += [head, ticket.data]
                tickets.append(ticket)
                self._offset += size
            self._flush(chunk, start, tickets)
        except OSError as err:
            failure = StoreError(f"{self.folder}: cannot write the ingest journal: {err}")
            for ticket in batch:
                if not ticket.done.done():
                    ticket.done.set_exception(failure)
            self._rotate_after_failure()
            return
        self._maybe_prepare_spare()

    def _flush(self, chunk: list[bytes], offset: int, tickets: list[JournalTicket]) -> None:
        """Write ``chunk`` at ``offset`` of the current segment, flush, resolve ``tickets``."""
        if not chunk:
            return
        start = offset
        for k in range(0, len(chunk), 512):  # below IOV_MAX
            part = chunk[k : k + 512]
            written = os.pwritev(self._fd, part, offset)
            if written != sum(len(b) for b in part):
                raise OSError(f"short write to segment {self._segment}")
            offset += written
        _datasync(self._fd)
        drop_flushed(self._fd, start, offset - start)  # written once, read only on replay
        self._records += len(tickets)
        for ticket in tickets:
            ticket.done.set_result(self._segment)

    def _rotate(self) -> None:
        for closed, records in self._close_current():
            if self.on_closed is not None:
                self.on_closed(closed, records)
        self._open_next()

    def _rotate_after_failure(self) -> None:
        """After a failed write the segment's tail is unknown: continue in a new one."""
        try:
            self._rotate()
        except OSError:
            log.exception("journal %s: cannot open a new segment", self.folder)

    def _close_current(self) -> list[tuple[int, int]]:
        if self._fd < 0:
            return []
        os.close(self._fd)
        self._fd = -1
        return [(self._segment, self._records)]

    def _open_next(self) -> None:
        """Segment ``self._segment + 1``: the spare (allocated ahead) if there is one."""
        self._segment += 1
        path, spare = self.path(self._segment), self.folder / _SPARE
        if self._filler is not None:
            self._filler.join()
            self._filler = None
        try:
            os.replace(spare, path)
        except FileNotFoundError:
            with path.open("wb") as handle:  # sparse: flushes allocate until a spare is ready
                handle.truncate(self.segment_bytes)
        self._fd = os.open(path, os.O_RDWR)
        os.pwrite(self._fd, b"\0" * HEAD_BYTES, 0)  # a recycled file must not read as current
        _datasync(self._fd)
        _fsync_folder(self.folder)
        self._offset = self._records = 0

    def _maybe_prepare_spare(self) -> None:
        """Allocate the next segment in the background once this one is a quarter used."""
        if self._filler is not None or self._offset < self.segment_bytes // 4:
            return
        if (self.folder / _SPARE).exists():
            return
        self._filler = threading.Thread(target=self._fill_spare, name="journal-spare", daemon=True)
        self._filler.start()

    def _fill_spare(self) -> None:
        """Allocate a spare segment: blocks reserved and reading as zeros, none written.

        Writing zeros instead would spare each flush a small metadata update (the blocks
        becoming "written"), but it writes every byte of the journal twice, and ingest is
        limited by the disk's write bandwidth long before its flushes (C-STORE of 1,000 CT
        instances, ``bench/cstore_ingest.py``: about 1.4 times as fast this way, on one
        association and on four).
        """
        tmp = self.folder / "spare.tmp"
        try:
            with tmp.open("wb") as handle:
                os.posix_fallocate(handle.fileno(), 0, self.segment_bytes)
                os.fsync(handle.fileno())
            os.replace(tmp, self.folder / _SPARE)
        except OSError:
            log.exception("journal %s: cannot prepare a spare segment", self.folder)


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
