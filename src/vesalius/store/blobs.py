"""A content-addressed blob store: files named by the SHA-256 of their bytes.

A blob's path is derived from its checksum only (``ab/abcd....dcm``), never from a DICOM
value, so a crafted header can never steer a write outside the store. Its folder is one of
256 made when the store is (:data:`FANOUT`), so that storing a blob never has to create and
flush a folder (stores made before this layout keep their ``ab/cd/`` blobs, read as before).
A blob is written to a temporary file in its final folder, hard-linked to its final name and
fsynced (with the parent of any folder created for it): after :meth:`BlobStore.put` returns,
the blob survives a crash or a power cut (on Linux journaling file systems the file's fsync
also makes its name durable; see :meth:`BlobStore.sync`). A crash during ``put`` may leave a
temporary file (:meth:`BlobStore.sweep_temporaries` removes it) or a short file under the
final name, which nothing refers to, reads refuse (the checksum) and the next put of the
same bytes replaces. Reading verifies the checksum.

Examples
--------
>>> import tempfile
>>> blobs = BlobStore(tempfile.mkdtemp())
>>> ref = blobs.put(b"hello")
>>> ref.path
'2c/2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824.dcm'
>>> blobs.get(ref.path)
b'hello'
>>> blobs.free_bytes() > 0
True
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from vesalius.errors import StoreError
from vesalius.store.page_cache import drop_flushed

log = logging.getLogger(__name__)

CHUNK = 1 << 20
TEMP_PREFIX = ".tmp-"
_PATH = re.compile(r"^[0-9a-f]{2}/(?:[0-9a-f]{2}/)?(?P<digest>[0-9a-f]{64})(\.[a-z0-9]{1,8})?$")
FANOUT = tuple(f"{k:02x}" for k in range(256))
"""The folders under the root that blobs go to: the first two hex digits of the checksum."""
_SUFFIX = re.compile(r"^(\.[a-z0-9]{1,8})?$")
_HELPER_LOCK = threading.Lock()
_HELPER: ThreadPoolExecutor | None = None


@dataclass(frozen=True)
class BlobRef:
    """A stored blob: its path relative to the store root, size and SHA-256 (hex)."""

    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class PendingBlob:
    """A blob written by :meth:`BlobStore.write`, durable only after :meth:`BlobStore.sync`."""

    ref: BlobRef
    file: Path
    #: The parents of the folders created for it, to fsync.
    folders: tuple[Path, ...]


def _fsync_dir(folder: Path) -> None:
    _fsync_file(folder)


def _fsync_all(paths: Sequence[Path], *, drop: bool = False) -> None:
    for path in paths:
        _fsync_file(path, drop=drop)


def _fsync_file(path: Path, *, drop: bool = False) -> None:
    """fsync ``path``; ``drop``: then let go of its cached pages (see :mod:`.page_cache`)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        if drop:
            drop_flushed(fd)
    finally:
        os.close(fd)


class BlobStore:
    """Blobs under ``root``, addressed by their SHA-256.

    Parameters
    ----------
    root
        The store's folder; created if missing.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).absolute()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise StoreError(f"{self.root}: cannot create the blob store: {err}") from None
        self._make_fanout()

    def _make_fanout(self) -> None:
        """Create the :data:`FANOUT` folders (once per store; the last one marks it done).

        A store that cannot be written to (a read-only copy) is left as it is: reading
        needs no new folder, and a write creates the one it needs.
        """
        if (self.root / FANOUT[-1]).is_dir():
            return
        try:
            for name in FANOUT:
                (self.root / name).mkdir(exist_ok=True)
            _fsync_dir(self.root)
        except OSError as err:
            log.debug("%s: blob folders not made ahead: %s", self.root, err)

    # -- paths -------------------------------------------------------------------------

    def locate(self, path: str) -> Path:
        """The absolute file of relative blob path ``path``, after checking its form.

        Raises
        ------
        StoreError
            If ``path`` is not a blob path this store makes (no ``..``, no absolute paths).
        """
        if not _PATH.match(path):
            raise StoreError(f"{path!r} is not a blob path of this store")
        return self.root / path

    @staticmethod
    def path_for(sha256: str, *, suffix: str = ".dcm") -> str:
        """The relative path of the blob with this checksum.

        Examples
        --------
        >>> BlobStore.path_for("ab" * 32)
        'ab/abababababababababababababababababababababababababababababababab.dcm'
        """
        if not _SUFFIX.match(suffix) or not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise StoreError(f"bad blob checksum {sha256!r} or suffix {suffix!r}")
        return f"{sha256[:2]}/{sha256}{suffix}"

    # -- writing -----------------------------------------------------------------------

    def put(self, data: bytes | BinaryIO, *, suffix: str = ".dcm") -> BlobRef:
        """Store ``data`` (bytes or a binary stream read to its end) durably.

        Storing the same bytes twice is harmless: the second call finds the blob there.
        """
        pending = self.write(data, suffix=suffix)
        self.sync([pending])
        return pending.ref

    def write(
        self,
        data: bytes | BinaryIO,
        *,
        suffix: str = ".dcm",
        direct: bool = False,
        sha256: str | None = None,
    ) -> PendingBlob:
        """Store ``data`` under its final name, not yet durable: :meth:`sync` makes it so.

        Writing many blobs then syncing them together lets the file system commit them in
        one go (a group commit). Until synced, a crash may lose the blob or leave a short
        file under its name, which reads refuse and the next write of the same bytes
        replaces; so nothing may refer to it (index row, acknowledgement) before the sync.

        ``direct`` writes new bytes straight under the final name (no temporary file and
        link: cheaper, for the C-STORE receivers): while they are written, or after a
        crash mid-write, the name holds a short file, which reads refuse and the next
        write of the same bytes replaces.
        ``sha256`` is the caller's checksum of ``data`` (bytes only), not computed again.
        """
        if not _SUFFIX.match(suffix):
            raise StoreError(f"bad blob suffix {suffix!r}")
        if isinstance(data, bytes | bytearray | memoryview):
            digest = sha256 or hashlib.sha256(data).hexdigest()
            fresh = self._write_new(data, digest, suffix) if direct else None
            if fresh is not None:
                return fresh
            final = self.locate(self.path_for(digest, suffix=suffix))
            with self._temporary(final.parent) as (tmp, handle, created):
                handle.write(data)
                return self._commit(tmp, handle, final, digest, created)
        staging = self.root / ".staging"
        with self._temporary(staging) as (tmp, handle, created):
            digest = self._copy_hashing(data, handle)
            final = self.locate(self.path_for(digest, suffix=suffix))
            created += self._make_dirs(final.parent)
            return self._commit(tmp, handle, final, digest, created)

    def _write_new(
        self, data: bytes | bytearray | memoryview, digest: str, suffix: str
    ) -> PendingBlob | None:
        """Write a blob not stored yet straight under its final name; ``None`` if it exists.

        Exclusive creation means no one else's blob is ever overwritten; a crash before the
        sync leaves a short file that nothing refers to (see :meth:`write`). An existing
        file goes the careful way (:meth:`_publish`), which checks it.
        """
        relative = self.path_for(digest, suffix=suffix)
        final = self.root / relative
        created: list[Path] = []
        try:
            try:
                fd = os.open(final, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileNotFoundError:
                created = self._make_dirs(final.parent)
                fd = os.open(final, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return None
        except OSError as err:
            raise StoreError(f"{final}: cannot write a blob: {err}") from None
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
        except OSError as err:
            with suppress(OSError):
                final.unlink()
            raise StoreError(f"{final}: cannot write a blob: {err}") from None
        folders = tuple(p.parent for p in created)
        return PendingBlob(BlobRef(relative, len(data), digest), final, folders)

    def sync(self, pending: Sequence[PendingBlob]) -> None:
        """Make blobs from :meth:`write` durable: fsync each file and each new folder's parent.

        A blob's own folder is not fsynced: each fsync costs a flush of the disk's cache,
        and on the journaling file systems of Linux (ext4, XFS, btrfs) the file's fsync
        makes its new name durable with it. A folder created for the blob (only where a
        :data:`FANOUT` folder is missing) is fsynced into its parent, in another thread at
        the same time as the file: both then wait for the same journal commit. Once
        synced, a file's pages leave the page cache (:mod:`~vesalius.store.page_cache`).

        Raises
        ------
        StoreError
            When a file or folder cannot be synced (then none may be acknowledged).
        """
        files = [blob.file for blob in pending]
        folders = list(dict.fromkeys(f for blob in pending for f in blob.folders))
        try:
            if folders:  # at once: both wait for one journal commit instead of one each
                syncing = self._helper().submit(_fsync_all, folders)
                _fsync_all(files, drop=True)
                syncing.result()
            else:
                _fsync_all(files, drop=True)
        except OSError as err:
            raise StoreError(f"{self.root}: cannot sync blobs: {err}") from None

    @staticmethod
    def _helper() -> ThreadPoolExecutor:
        """The threads (shared by all stores) that fsync folders beside the files."""
        global _HELPER
        with _HELPER_LOCK:
            if _HELPER is None:
                _HELPER = ThreadPoolExecutor(4, thread_name_prefix="blob-sync")
            return _HELPER

    @staticmethod
    def _copy_hashing(stream: BinaryIO, handle: BinaryIO) -> str:
        sha = hashlib.sha256()
        while chunk := stream.read(CHUNK):
            sha.update(chunk)
            handle.write(chunk)
        return sha.hexdigest()

    def _make_dirs(self, folder: Path) -> list[Path]:
        """Create ``folder`` and its missing parents; the folders created, outermost first.

        Not synced here: :meth:`_commit` fsyncs the parent of each after the blob itself,
        so that one journal commit of the file system covers them all.
        """
        missing: list[Path] = []
        for path in (folder, *folder.parents):
            if path == self.root or path.is_dir():
                break
            missing.append(path)
        for path in reversed(missing):
            with suppress(FileExistsError):
                path.mkdir()
        return missing[::-1]

    @contextmanager
    def _temporary(self, folder: Path) -> Iterator[tuple[Path, BinaryIO, list[Path]]]:
        """A temporary file in ``folder`` (and the folders created for it), removed at the end.

        The blob keeps its bytes under its final name, a hard link (or a rename).
        """
        try:
            created = self._make_dirs(folder)
            fd, name = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=folder)
        except OSError as err:
            raise StoreError(f"{folder}: cannot write a blob: {err}") from None
        tmp = Path(name)
        try:
            with os.fdopen(fd, "wb") as handle:
                yield tmp, handle, created
        except OSError as err:
            raise StoreError(f"{tmp}: cannot write a blob: {err}") from None
        finally:
            with suppress(FileNotFoundError):
                tmp.unlink()

    def _commit(
        self, tmp: Path, handle: BinaryIO, final: Path, digest: str, created: list[Path]
    ) -> PendingBlob:
        """Give the written temporary file its final name; see :meth:`_publish`."""
        handle.flush()
        size = handle.tell()
        relative = final.relative_to(self.root).as_posix()
        self._publish(tmp, handle, final, relative, size)
        folders = tuple(p.parent for p in created)
        return PendingBlob(BlobRef(relative, size, digest), final, folders)

    def _publish(self, tmp: Path, handle: BinaryIO, final: Path, relative: str, size: int) -> None:
        """Link ``tmp`` to ``final``, or find ``final`` intact; start writing it to disk.

        The name is made before the fsync (:meth:`sync`) so that one journal commit of the
        file system covers the data, the new name and any new folder. A hard link never
        replaces a file, so a blob being written by someone else under the same name is
        never swapped for this one before it is synced; a crash before the sync may leave
        a short file under the final name, which no index row points to, which reads
        refuse (checksum) and which the next write of the same bytes replaces.
        """
        try:
            os.link(tmp, final)
        except FileExistsError:
            if final.stat().st_size == size and self._intact(relative):
                log.debug("blob %s already stored", relative)
                return  # its writer may not have synced it yet: sync() will
            os.fsync(handle.fileno())  # replace the rotten blob by a synced one
            os.replace(tmp, final)
            return
        except OSError as err:
            if err.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
                raise
            os.fsync(handle.fileno())  # no hard links here: the classic rename
            os.replace(tmp, final)
            return
        drop_flushed(handle.fileno())  # not flushed yet: this starts writing it out now

    # -- reading -----------------------------------------------------------------------

    def get(self, path: str) -> bytes:
        """The bytes of blob ``path``, after checking them against the checksum in its name.

        Raises
        ------
        StoreError
            The path is malformed, the blob is missing, or its bytes do not match.
        """
        file = self.locate(path)
        try:
            data = file.read_bytes()
        except OSError as err:
            raise StoreError(f"{file}: cannot read blob: {err.strerror}") from None
        self._check(path, hashlib.sha256(data).hexdigest())
        return data

    def verify(self, path: str) -> None:
        """Check blob ``path`` against its checksum without keeping its bytes in memory."""
        file, sha = self.locate(path), hashlib.sha256()
        try:
            with file.open("rb") as handle:
                while chunk := handle.read(CHUNK):
                    sha.update(chunk)
        except OSError as err:
            raise StoreError(f"{file}: cannot read blob: {err.strerror}") from None
        self._check(path, sha.hexdigest())

    def _check(self, path: str, actual: str) -> None:
        match = _PATH.match(path)
        expected = match.group("digest") if match else ""
        if actual != expected:
            raise StoreError(f"{self.root / path}: corrupt blob, SHA-256 is {actual}")

    def _intact(self, path: str) -> bool:
        try:
            self.verify(path)
        except StoreError:
            log.warning("blob %s was corrupt; rewriting it", path)
            return False
        return True

    def exists(self, path: str) -> bool:
        """Whether blob ``path`` is present (not verified)."""
        return self.locate(path).is_file()

    # -- housekeeping ------------------------------------------------------------------

    def delete(self, path: str) -> bool:
        """Remove blob ``path``; False if it was not there."""
        file = self.locate(path)
        try:
            file.unlink()
        except FileNotFoundError:
            return False
        _fsync_dir(file.parent)
        return True

    def sweep_temporaries(self, *, older_than_s: float = 3600.0) -> int:
        """Remove temporary files left by interrupted writes; returns how many."""
        cutoff, removed = time.time() - older_than_s, 0
        for tmp in self.root.rglob(f"{TEMP_PREFIX}*"):
            with suppress(FileNotFoundError):
                if tmp.stat().st_mtime < cutoff:
                    tmp.unlink()
                    removed += 1
        return removed

    def free_bytes(self) -> int:
        """Bytes free for this store on its file system."""
        return shutil.disk_usage(self.root).free

    def ensure_free(self, needed: int) -> None:
        """Raise :class:`StoreError` unless at least ``needed`` bytes are free."""
        free = self.free_bytes()
        if free < needed:
            raise StoreError(f"{self.root}: {free} bytes free, {needed} needed")
