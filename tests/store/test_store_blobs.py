"""The content-addressed blob store: durable writes, checksums, safe paths."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest

from vesalius.errors import StoreError
from vesalius.store import BlobStore
from vesalius.store.blobs import TEMP_PREFIX


def _temporaries(root: Path) -> list[Path]:
    return list(root.rglob(f"{TEMP_PREFIX}*"))


def test_put_names_the_blob_by_its_sha256(tmp_path: Path) -> None:
    """The path comes from the bytes' checksum only, in one of 256 folders made ahead."""
    data = b"DICM" + bytes(range(256))
    ref = BlobStore(tmp_path).put(data)
    digest = hashlib.sha256(data).hexdigest()
    assert ref.path == f"{digest[:2]}/{digest}.dcm"
    assert (ref.size, ref.sha256) == (len(data), digest)
    assert (tmp_path / ref.path).read_bytes() == data


def test_blobs_of_the_earlier_two_level_layout_still_read(tmp_path: Path) -> None:
    """A store made before the one-level layout serves its ab/cd/ blobs, checksum checked."""
    data = b"an instance stored by an earlier version"
    digest = hashlib.sha256(data).hexdigest()
    legacy = tmp_path / digest[:2] / digest[2:4] / f"{digest}.dcm"
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes(data)
    blobs = BlobStore(tmp_path)
    assert blobs.get(f"{digest[:2]}/{digest[2:4]}/{digest}.dcm") == data
    legacy.write_bytes(data.upper())
    with pytest.raises(StoreError, match="corrupt blob"):
        blobs.get(f"{digest[:2]}/{digest[2:4]}/{digest}.dcm")


def test_a_missing_blob_folder_is_made_again(tmp_path: Path) -> None:
    """Storing works even where someone removed the blob's folder after the store was made."""
    blobs = BlobStore(tmp_path)
    data = b"bytes whose folder is gone"
    folder = tmp_path / hashlib.sha256(data).hexdigest()[:2]
    folder.rmdir()
    for direct in (False, True):
        written = blobs.write(data, direct=direct)
        assert written.folders == (tmp_path,)
        blobs.sync([written])
        assert blobs.get(written.ref.path) == data
        blobs.delete(written.ref.path)
        folder.rmdir()


def test_stream_and_bytes_give_the_same_blob(tmp_path: Path) -> None:
    """A streamed upload lands at the same place as the same bytes, with nothing left over."""
    blobs = BlobStore(tmp_path)
    data = os.urandom(3 * 1024 * 1024 + 17)  # more than one chunk
    from_stream = blobs.put(io.BytesIO(data))
    from_bytes = blobs.put(data)
    assert from_stream == from_bytes
    assert blobs.get(from_stream.path) == data
    assert _temporaries(tmp_path) == []


def test_corrupt_blob_is_refused_on_read(tmp_path: Path) -> None:
    """A flipped byte on disk raises StoreError instead of serving wrong pixels."""
    blobs = BlobStore(tmp_path)
    ref = blobs.put(b"original bytes of an instance")
    file = tmp_path / ref.path
    file.write_bytes(b"Original bytes of an instance")
    with pytest.raises(StoreError, match="corrupt blob"):
        blobs.get(ref.path)
    with pytest.raises(StoreError, match="corrupt blob"):
        blobs.verify(ref.path)


def test_putting_again_repairs_a_corrupt_blob(tmp_path: Path) -> None:
    """Storing the same bytes again rewrites a blob that rotted on disk."""
    blobs = BlobStore(tmp_path)
    ref = blobs.put(b"twelve bytes")
    (tmp_path / ref.path).write_bytes(b"TWELVE BYTES")
    assert blobs.put(b"twelve bytes") == ref
    assert blobs.get(ref.path) == b"twelve bytes"


def test_missing_blob_is_a_store_error(tmp_path: Path) -> None:
    """Reading a blob that is gone says so (StoreError), not FileNotFoundError."""
    blobs = BlobStore(tmp_path)
    with pytest.raises(StoreError, match="cannot read blob"):
        blobs.get(BlobStore.path_for("0" * 64))


@pytest.mark.parametrize(
    "path",
    ["../etc/passwd", "/etc/passwd", "ab/cd/../../x.dcm", "ab/cd/" + "g" * 64 + ".dcm", ""],
)
def test_paths_not_made_by_the_store_are_refused(tmp_path: Path, path: str) -> None:
    """A crafted path can never read outside the store root."""
    with pytest.raises(StoreError, match="not a blob path"):
        BlobStore(tmp_path).get(path)


def test_bad_suffix_is_refused(tmp_path: Path) -> None:
    """The suffix cannot smuggle a folder in."""
    with pytest.raises(StoreError, match="suffix"):
        BlobStore(tmp_path).put(b"x", suffix="/../../x")


class _BrokenStream(io.RawIOBase):
    """A stream that fails after some bytes, like a dropped network connection."""

    def __init__(self) -> None:
        self.calls = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        self.calls += 1
        if self.calls > 2:
            raise OSError("connection reset")
        return b"x" * 1000


def test_interrupted_write_leaves_no_blob_and_no_temporary(tmp_path: Path) -> None:
    """A write that fails half-way leaves nothing behind: no half blob, no temp file."""
    blobs = BlobStore(tmp_path)
    with pytest.raises(StoreError, match="connection reset"):
        blobs.put(_BrokenStream())  # type: ignore[arg-type]
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert files == []


def test_sweep_removes_only_old_temporaries(tmp_path: Path) -> None:
    """Temp files from a crash are swept once old; a write in progress is left alone."""
    blobs = BlobStore(tmp_path)
    old = tmp_path / "ab" / f"{TEMP_PREFIX}old"
    assert old.parent.is_dir()  # made with the store
    old.write_bytes(b"half")
    os.utime(old, (1, 1))
    fresh = tmp_path / "ab" / f"{TEMP_PREFIX}fresh"
    fresh.write_bytes(b"in progress")
    assert blobs.sweep_temporaries(older_than_s=60) == 1
    assert not old.exists()
    assert fresh.exists()


def test_delete_and_exists(tmp_path: Path) -> None:
    """A deleted blob is gone; deleting twice reports False."""
    blobs = BlobStore(tmp_path)
    ref = blobs.put(b"to delete")
    assert blobs.exists(ref.path)
    assert blobs.delete(ref.path) is True
    assert not blobs.exists(ref.path)
    assert blobs.delete(ref.path) is False


def test_free_space_check(tmp_path: Path) -> None:
    """The free-space helper reports bytes and refuses an impossible request."""
    blobs = BlobStore(tmp_path)
    free = blobs.free_bytes()
    assert free > 0
    blobs.ensure_free(1)
    with pytest.raises(StoreError, match="bytes free"):
        blobs.ensure_free(free * 1000 + 1)


def test_unusable_root_is_a_store_error(tmp_path: Path) -> None:
    """A root that is a file gives StoreError naming it."""
    file = tmp_path / "file"
    file.write_bytes(b"")
    with pytest.raises(StoreError, match="cannot create the blob store"):
        BlobStore(file / "blobs")
