"""The ingest journal: records read back intact, stale and torn ones never do."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from vesalius.errors import StoreError
from vesalius.store.journal import HEAD_BYTES, BlobJournal


def _append(journal: BlobJournal, data: bytes) -> int:
    return journal.append(data, sha256=hashlib.sha256(data).hexdigest(), suffix=".dcm").wait()


def test_records_come_back_in_order_across_segments(tmp_path: Path) -> None:
    closed: list[tuple[int, int]] = []
    journal = BlobJournal(tmp_path, segment_bytes=4 * (HEAD_BYTES + 100))
    journal.on_closed = lambda segment, records: closed.append((segment, records))
    journal.start()
    datas = [bytes([k]) * 100 for k in range(10)]
    segments = [_append(journal, data) for data in datas]
    closed += journal.stop()
    assert segments == [1] * 4 + [2] * 4 + [3] * 2
    assert closed == [(1, 4), (2, 4), (3, 2)]
    assert [r.data for r in journal.leftovers()] == datas
    journal.close()


def test_a_recycled_segment_does_not_replay_its_old_records(tmp_path: Path) -> None:
    """After a checkpoint the segment file is reused; its stale records must stay dead."""
    size = 4 * (HEAD_BYTES + 100)
    journal = BlobJournal(tmp_path, segment_bytes=size)
    journal.start()
    for k in range(4):
        _append(journal, bytes([k]) * 100)
    for segment, _ in journal.stop():
        journal.retire(segment)
    assert (tmp_path / "spare.vjl").stat().st_size == size
    journal.start()  # opens segment 2 over the recycled file
    _append(journal, b"new" * 10)
    journal.stop()
    assert [r.data for r in journal.leftovers()] == [b"new" * 10]
    journal.close()


def test_a_spare_is_allocated_ahead_and_holds_no_record(tmp_path: Path) -> None:
    """The next segment is made while the current one fills: full size, on disk, empty."""
    size = 1 << 20
    journal = BlobJournal(tmp_path, segment_bytes=size)
    journal.start()
    while not (tmp_path / "spare.vjl").exists():  # made once a quarter of segment 1 is used
        _append(journal, b"x" * (size // 8))
    spare = tmp_path / "spare.vjl"
    assert spare.stat().st_size == size
    assert spare.stat().st_blocks * 512 >= size  # blocks reserved: a flush allocates none
    assert spare.read_bytes() == bytes(size)
    for segment, _ in journal.stop():
        journal.retire(segment)
    journal.start()  # segment 2 is the spare
    assert list(journal.leftovers()) == []
    journal.close()


def test_a_record_larger_than_a_segment_gets_one_of_its_own(tmp_path: Path) -> None:
    journal = BlobJournal(tmp_path, segment_bytes=1024)
    journal.start()
    big = b"x" * 5000
    assert (_append(journal, b"a"), _append(journal, big), _append(journal, b"b")) == (1, 2, 3)
    journal.stop()
    assert [r.data for r in journal.leftovers()] == [b"a", big, b"b"]
    journal.close()


def test_a_wrong_checksum_ends_the_segment(tmp_path: Path) -> None:
    journal = BlobJournal(tmp_path)
    journal.start()
    _append(journal, b"good")
    journal.append(b"bad", sha256="0" * 64, suffix=".dcm").wait()
    _append(journal, b"after")  # written after a record that does not check: unreachable
    journal.stop()
    assert [r.data for r in journal.leftovers()] == [b"good"]
    journal.close()


def test_append_when_not_running_fails_clearly(tmp_path: Path) -> None:
    journal = BlobJournal(tmp_path)
    with pytest.raises(StoreError, match="not running"):
        journal.append(b"x", sha256="0" * 64, suffix=".dcm").wait()
    journal.close()
