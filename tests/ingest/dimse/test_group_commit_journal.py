"""Group commit through the ingest journal: nothing answered before the journal flush,
nothing acknowledged lost when the process dies before a checkpoint."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from pydicom.data import get_testdata_file

from vesalius.errors import StoreError
from vesalius.ingest.dimse import group_commit
from vesalius.ingest.dimse.group_commit import GroupCommitter, replay_journal
from vesalius.ingest.durable import read_header
from vesalius.store import BlobStore, DuplicatePolicy, Store, open_store, sqlite_url
from vesalius.store import journal as journal_module
from vesalius.store.blobs import PendingBlob
from vesalius.store.index import find_instance
from vesalius.store.journal import BlobJournal, JournalTicket


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(sqlite_url(tmp_path / "index.sqlite3"))
    yield opened
    opened.close()


def _instances(n: int) -> list[bytes]:
    """``n`` distinct CT instances (the test file with new SOP Instance UIDs)."""
    from io import BytesIO

    from pydicom import dcmread

    source = dcmread(get_testdata_file("CT_small.dcm"))
    out = []
    for k in range(n):
        source.SOPInstanceUID = source.file_meta.MediaStorageSOPInstanceUID = f"1.9.77.{k + 1}"
        buffer = BytesIO()
        source.save_as(buffer, enforce_file_format=True)
        out.append(buffer.getvalue())
    return out


def _indexed(store: Store, sop: str) -> str | None:
    with store.read_session() as session:
        found = find_instance(session, sop)
        return None if found is None else found.blob_path


def test_no_answer_and_no_visible_row_before_the_journal_flush(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the journal's flush is held, the receiver waits and the row is not committed."""
    gate, flushing = threading.Event(), threading.Event()
    real = journal_module._datasync

    def held(fd: int) -> None:
        if (
            fd != -1
            and flushing.is_set() is False
            and threading.current_thread().name == ("ingest-journal")
        ):
            flushing.set()
            assert gate.wait(timeout=30)
        real(fd)

    data = _instances(1)[0]
    with GroupCommitter(store, BlobStore(tmp_path / "blobs")) as committer:
        monkeypatch.setattr(journal_module, "_datasync", held)
        with ThreadPoolExecutor(1) as pool:
            answer = pool.submit(committer.store, data, header=read_header(data))
            assert flushing.wait(timeout=30)
            time.sleep(0.2)  # room for a wrong commit or answer
            assert not answer.done()
            assert _indexed(store, "1.9.77.1") is None
            gate.set()
            assert answer.result(timeout=30).new
    assert _indexed(store, "1.9.77.1") is not None


def test_a_failed_journal_write_is_neither_indexed_nor_acknowledged(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(fd: int) -> None:
        raise OSError(5, "Input/output error")

    data = _instances(1)[0]
    with GroupCommitter(store, BlobStore(tmp_path / "blobs")) as committer:
        monkeypatch.setattr(journal_module, "_datasync", broken)
        with pytest.raises(StoreError, match="ingest journal"):
            committer.store(data, header=read_header(data))
        monkeypatch.undo()
    assert _indexed(store, "1.9.77.1") is None


def test_a_clean_stop_leaves_an_empty_journal(store: Store, tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path / "blobs")
    with GroupCommitter(store, blobs) as committer:
        for data in _instances(5):
            committer.store(data, header=read_header(data))
    journal = BlobJournal(blobs.root / "journal")
    assert journal.segments() == []
    journal.close()


def test_acknowledged_instances_are_recovered_from_the_journal_alone(
    store: Store, tmp_path: Path
) -> None:
    """A crash after the journal flush, before the blob files and the index: all come back.

    The journal is written as the listener writes it; the blob files and index rows are
    never made (as after a power cut that lost everything not flushed).
    """
    blobs = BlobStore(tmp_path / "blobs")
    datas = _instances(4)
    journal = BlobJournal(blobs.root / "journal", segment_bytes=8 << 10)  # several segments
    journal.start()
    for data in datas:
        import hashlib

        journal.append(data, sha256=hashlib.sha256(data).hexdigest(), suffix=".dcm").wait()
    journal.stop()
    journal.close()
    with GroupCommitter(store, blobs):  # start replays
        pass
    for k, data in enumerate(datas, start=1):
        path = _indexed(store, f"1.9.77.{k}")
        assert path is not None
        assert blobs.get(path) == data
    leftover = BlobJournal(blobs.root / "journal")
    assert leftover.segments() == []
    leftover.close()


def test_replay_is_idempotent_and_never_replaces_twice(store: Store, tmp_path: Path) -> None:
    """Replaying records already indexed changes nothing, even with REPLACE duplicates."""
    import hashlib

    blobs = BlobStore(tmp_path / "blobs")
    data = _instances(1)[0]
    with GroupCommitter(store, blobs, on_duplicate=DuplicatePolicy.REPLACE) as committer:
        committer.store(data, header=read_header(data))
    before = _indexed(store, "1.9.77.1")
    journal = BlobJournal(blobs.root / "journal")
    journal.start()
    journal.append(data, sha256=hashlib.sha256(data).hexdigest(), suffix=".dcm").wait()
    journal.stop()
    assert replay_journal(journal, store, blobs, DuplicatePolicy.REPLACE) == 0
    assert _indexed(store, "1.9.77.1") == before
    assert blobs.get(before or "") == data
    journal.close()


def test_a_torn_last_record_is_dropped_and_the_rest_recovered(store: Store, tmp_path: Path) -> None:
    import hashlib

    blobs = BlobStore(tmp_path / "blobs")
    datas = _instances(2)
    journal = BlobJournal(blobs.root / "journal")
    journal.start()
    for data in datas:
        journal.append(data, sha256=hashlib.sha256(data).hexdigest(), suffix=".dcm").wait()
    journal.stop()
    segment = journal.path(journal.segments()[-1])
    raw = bytearray(segment.read_bytes())
    second = journal_module.HEAD_BYTES + len(datas[0]) + journal_module.HEAD_BYTES
    raw[second + 100] ^= 0xFF  # the second record's bytes were never fully written
    segment.write_bytes(bytes(raw))
    assert replay_journal(journal, store, blobs, DuplicatePolicy.KEEP_FIRST) == 1
    assert _indexed(store, "1.9.77.1") is not None
    assert _indexed(store, "1.9.77.2") is None
    journal.close()


def test_a_second_listener_on_the_same_store_is_refused(store: Store, tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path / "blobs")
    with GroupCommitter(store, blobs), pytest.raises(StoreError, match="in use by another"):
        GroupCommitter(store, blobs).start()


class _Clock:
    """A ``time`` stand-in for the group committer: ``monotonic()`` moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


def test_instances_received_at_once_are_fsynced_not_journaled_for_a_while(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two associations at once: the second instance's blob is written once and fsynced
    before its answer, without waiting for the first; the next instances skip the journal
    too for SHARED_HOLD_S, then a lone association gets the journal again."""
    holding, release = threading.Event(), threading.Event()
    journaled: list[bytes] = []
    synced: list[str] = []
    real_write, real_sync = BlobStore.write, BlobStore.sync
    real_append = journal_module.BlobJournal.append

    def held_write(self: BlobStore, data: bytes, **kwargs: Any) -> PendingBlob:
        if not holding.is_set():  # the first receiver stops inside store()
            holding.set()
            assert release.wait(timeout=30)
        return real_write(self, data, **kwargs)

    def spy_sync(self: BlobStore, pending: Sequence[PendingBlob]) -> None:
        real_sync(self, pending)
        synced.extend(p.ref.path for p in pending)

    def spy_append(self: BlobJournal, data: bytes, **kwargs: str) -> JournalTicket:
        journaled.append(data)
        return real_append(self, data, **kwargs)

    clock = _Clock()
    monkeypatch.setattr(group_commit, "time", clock)
    monkeypatch.setattr(BlobStore, "write", held_write)
    monkeypatch.setattr(BlobStore, "sync", spy_sync)
    monkeypatch.setattr(journal_module.BlobJournal, "append", spy_append)
    first, second, third, fourth = _instances(4)
    blobs = BlobStore(tmp_path / "blobs")
    with GroupCommitter(store, blobs) as committer, ThreadPoolExecutor(1) as pool:
        answer = pool.submit(committer.store, first, header=read_header(first))
        assert holding.wait(timeout=30)
        stored = committer.store(second, header=read_header(second))
        assert synced == [stored.blob.path]  # fsynced before the answer
        assert _indexed(store, "1.9.77.2") == stored.blob.path
        assert not answer.done()
        release.set()
        assert answer.result(timeout=30).new
        assert journaled == [first]
        clock.now += group_commit.SHARED_HOLD_S * 0.9
        committer.store(third, header=read_header(third))
        assert journaled == [first]
        clock.now += group_commit.SHARED_HOLD_S * 0.2
        committer.store(fourth, header=read_header(fourth))
        assert journaled == [first, fourth]
    for k in range(1, 5):
        assert _indexed(store, f"1.9.77.{k}") is not None
