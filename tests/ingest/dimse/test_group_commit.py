"""Group commit: nothing is answered before its commit, batches form, a bad one fails alone."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
from pydicom import Dataset
from sqlalchemy.orm import Session

from vesalius.errors import StoreError
from vesalius.ingest.dimse.group_commit import GroupCommitter
from vesalius.ingest.durable import StoredInstance
from vesalius.store import BlobStore, InstanceHeader, Store, open_store, sqlite_url
from vesalius.store.blobs import PendingBlob
from vesalius.store.index import find_instance

CT = "1.2.840.10008.5.1.4.1.1.2"


class GatedStore(Store):
    """A store whose write sessions count themselves and can be held at the gate."""

    def __init__(self, store: Store) -> None:
        super().__init__(store.engine)
        self.sessions = 0
        self.gate = threading.Event()
        self.gate.set()
        self.waiting = threading.Event()

    @contextmanager
    def session(self, *, durable: bool = True) -> Iterator[Session]:
        self.sessions += 1
        self.waiting.set()
        assert self.gate.wait(timeout=30)
        with super().session(durable=durable) as session:
            yield session


@pytest.fixture
def gated(tmp_path: Path) -> Iterator[GatedStore]:
    store = open_store(sqlite_url(tmp_path / "index.sqlite3"))
    yield GatedStore(store)
    store.close()


def _header(sop: str, *, patient: str = "P1") -> InstanceHeader:
    ds = Dataset()
    ds.PatientID, ds.Modality, ds.SOPClassUID, ds.SOPInstanceUID = patient, "CT", CT, sop
    ds.StudyInstanceUID, ds.SeriesInstanceUID = "1.9.1", "1.9.1.1"
    return InstanceHeader.from_dataset(ds)


def _indexed(store: Store, sop: str) -> bool:
    with store.read_session() as s:
        return find_instance(s, sop) is not None


def test_an_instance_is_not_answered_before_its_index_commit(
    gated: GatedStore, tmp_path: Path
) -> None:
    """The receiver's future stays pending while the commit is held; then it is indexed."""
    blobs = BlobStore(tmp_path / "blobs")
    with GroupCommitter(gated, blobs) as committer:
        gated.gate.clear()
        future = committer.submit(_header("1.9.1.1.1"), blobs.put(b"one"))
        assert gated.waiting.wait(timeout=30)
        assert not future.done()
        assert not _indexed(gated, "1.9.1.1.1")
        gated.gate.set()
        stored = future.result(timeout=30)
    assert stored.new
    assert _indexed(gated, "1.9.1.1.1")


def test_instances_arriving_during_a_commit_share_the_next_one(
    gated: GatedStore, tmp_path: Path
) -> None:
    """Ten instances queued behind a held commit are committed in one more transaction."""
    blobs = BlobStore(tmp_path / "blobs")
    with GroupCommitter(gated, blobs) as committer:
        gated.gate.clear()
        first = committer.submit(_header("1.9.1.1.0"), blobs.put(b"0"))
        assert gated.waiting.wait(timeout=30)
        rest = [
            committer.submit(_header(f"1.9.1.1.{k}"), blobs.put(bytes([k]))) for k in range(1, 11)
        ]
        gated.gate.set()
        results = [f.result(timeout=30) for f in [first, *rest]]
    assert all(r.new for r in results)
    assert gated.sessions == 2


def test_one_bad_instance_in_a_group_fails_alone(gated: GatedStore, tmp_path: Path) -> None:
    """A study sent under a second patient is refused; the rest of its group is stored."""
    blobs = BlobStore(tmp_path / "blobs")
    with GroupCommitter(gated, blobs) as committer:
        committer.submit(_header("1.9.1.1.0"), blobs.put(b"0")).result(timeout=30)
        gated.gate.clear()
        gated.waiting.clear()
        blocker = committer.submit(_header("1.9.1.1.1"), blobs.put(b"1"))
        assert gated.waiting.wait(timeout=30)
        good = committer.submit(_header("1.9.1.1.2"), blobs.put(b"2"))
        bad = committer.submit(_header("1.9.1.1.3", patient="P2"), blobs.put(b"3"))
        also_good = committer.submit(_header("1.9.1.1.4"), blobs.put(b"4"))
        gated.gate.set()
        assert [f.result(timeout=30).new for f in (blocker, good, also_good)] == [True] * 3
        with pytest.raises(StoreError, match="belongs to another patient"):
            bad.result(timeout=30)
    assert [_indexed(gated, f"1.9.1.1.{k}") for k in range(5)] == [True, True, True, False, True]


def test_many_receivers_at_once_all_get_their_own_answer(tmp_path: Path) -> None:
    """Eight threads storing 20 instances each (and resending one): every answer is right."""
    store = open_store(sqlite_url(tmp_path / "index.sqlite3"))
    blobs = BlobStore(tmp_path / "blobs")

    def receive(worker: int) -> list[StoredInstance]:
        out = []
        for k in range(20):
            sop = f"1.9.1.1.{worker}.{k}"
            out.append(committer.store(sop.encode(), header=_header(sop)))
        out.append(committer.store(b"again", header=_header(f"1.9.1.1.{worker}.0")))
        return out

    with GroupCommitter(store, blobs) as committer, ThreadPoolExecutor(8) as pool:
        futures: list[Future[list[StoredInstance]]] = [pool.submit(receive, w) for w in range(8)]
        answers = [f.result(timeout=120) for f in futures]
    for worker, stored in enumerate(answers):
        assert [s.new for s in stored] == [True] * 20 + [False]
        assert [s.header.instance.sop_instance_uid for s in stored[:20]] == [
            f"1.9.1.1.{worker}.{k}" for k in range(20)
        ]
    assert all(_indexed(store, f"1.9.1.1.{w}.{k}") for w in range(8) for k in range(20))
    store.close()


def test_a_late_receiver_after_stop_is_still_committed(tmp_path: Path) -> None:
    """An association finishing while the listener stops still gets a committed answer."""
    store = open_store(sqlite_url(tmp_path / "index.sqlite3"))
    committer = GroupCommitter(store, BlobStore(tmp_path / "blobs"))
    committer.start()
    committer.stop()
    stored = committer.store(b"late", header=_header("1.9.1.1.9"))
    assert stored.new
    assert _indexed(store, "1.9.1.1.9")
    store.close()


class _HeldSync(BlobStore):
    """A blob store whose fsyncs wait at a gate, or fail."""

    def __init__(self, root: Path, *, fail: bool = False) -> None:
        super().__init__(root)
        self.gate, self.syncing, self.fail = threading.Event(), threading.Event(), fail

    def sync(self, pending: Sequence[PendingBlob]) -> None:
        self.syncing.set()
        assert self.gate.wait(timeout=30)
        if self.fail:
            raise StoreError("disk gone")
        super().sync(pending)


def test_the_index_is_not_committed_before_the_blob_is_synced(tmp_path: Path) -> None:
    """Without the journal: while a blob is being fsynced, no commit and no answer."""
    store = open_store(sqlite_url(tmp_path / "index.sqlite3"))
    blobs = _HeldSync(tmp_path / "blobs")
    with GroupCommitter(store, blobs, journal=False) as committer, ThreadPoolExecutor(1) as pool:
        answer = pool.submit(committer.store, b"one", header=_header("1.9.1.1.1"))
        assert blobs.syncing.wait(timeout=30)
        time.sleep(0.2)  # room for a wrong commit to happen
        assert not answer.done()
        assert not _indexed(store, "1.9.1.1.1")
        blobs.gate.set()
        assert answer.result(timeout=30).new
    assert _indexed(store, "1.9.1.1.1")
    store.close()


def test_a_blob_that_cannot_be_synced_is_neither_indexed_nor_acknowledged(
    tmp_path: Path,
) -> None:
    store = open_store(sqlite_url(tmp_path / "index.sqlite3"))
    blobs = _HeldSync(tmp_path / "blobs", fail=True)
    blobs.gate.set()
    committer = GroupCommitter(store, blobs, journal=False)
    with committer, pytest.raises(StoreError, match="disk gone"):
        committer.store(b"one", header=_header("1.9.1.1.1"))
    assert not _indexed(store, "1.9.1.1.1")
    store.close()
