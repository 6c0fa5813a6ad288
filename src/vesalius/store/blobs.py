"""A content-addressed blob store: files named by the SHA-256 of their bytes.

A blob's path is derived from its checksum only (``ab/cd/abcd....dcm``), never from a DICOM
value, so a crafted header can never steer a write outside the store. A blob is written to
a temporary file in its final folder, fsynced, renamed into place with ``os.replace`` (atomic
on POSIX) and its folder fsynced: after :meth:`BlobStore.put` returns, the blob survives a
crash, and a crash during ``put`` leaves no half-written blob behind, only a temporary file
that :meth:`BlobStore.sweep_temporaries` removes. Reading verifies the checksum.

Examples
--------
>>> import tempfile
>>> blobs = BlobStore(tempfile.mkdtemp())
>>> ref = blobs.put(b"hello")
>>> ref.path
'2c/f2/2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824.dcm'
>>> blobs.get(ref.path)
b'hello'
>>> blobs.free_bytes() > 0
True
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from vesalius.errors import StoreError

log = logging.getLogger(__name__)

CHUNK = 1 << 20
TEMP_PREFIX = ".tmp-"
_PATH = re.compile(r"^([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})(\.[a-z0-9]{1,8})?$")
_SUFFIX = re.compile(r"^(\.[a-z0-9]{1,8})?$")


@dataclass(frozen=True)
class BlobRef:
    """A stored blob: its path relative to the store root, size and SHA-256 (hex)."""

    path: str
    size: int
    sha256: str


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
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
        'ab/ab/abababababababababababababababababababababababababababababababab.dcm'
        """
        if not _SUFFIX.match(suffix) or not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise StoreError(f"bad blob checksum {sha256!r} or suffix {suffix!r}")
        return f"{sha256[:2]}/{sha256[2:4]}/{sha256}{suffix}"

    # -- writing -----------------------------------------------------------------------

    def put(self, data: bytes | BinaryIO, *, suffix: str = ".dcm") -> BlobRef:
        """Store ``data`` (bytes or a binary stream read to its end) durably.

        Storing the same bytes twice is harmless: the second call finds the blob there.
        """
        if not _SUFFIX.match(suffix):
            raise StoreError(f"bad blob suffix {suffix!r}")
        if isinstance(data, bytes | bytearray | memoryview):
            digest = hashlib.sha256(data).hexdigest()
            final = self.locate(self.path_for(digest, suffix=suffix))
            with self._temporary(final.parent) as (tmp, handle):
                handle.write(data)
                return self._commit(tmp, handle, final, digest)
        staging = self.root / ".staging"
        with self._temporary(staging) as (tmp, handle):
            digest = self._copy_hashing(data, handle)
            final = self.locate(self.path_for(digest, suffix=suffix))
            self._make_dirs(final.parent)
            return self._commit(tmp, handle, final, digest)

    @staticmethod
    def _copy_hashing(stream: BinaryIO, handle: BinaryIO) -> str:
        sha = hashlib.sha256()
        while chunk := stream.read(CHUNK):
            sha.update(chunk)
            handle.write(chunk)
        return sha.hexdigest()

    def _make_dirs(self, folder: Path) -> None:
        """Create ``folder`` and fsync the parents of every folder created."""
        missing = [p for p in (folder, *folder.parents) if not p.exists() and p != self.root]
        folder.mkdir(parents=True, exist_ok=True)
        for created in reversed(missing):
            _fsync_dir(created.parent)

    @contextmanager
    def _temporary(self, folder: Path) -> Iterator[tuple[Path, BinaryIO]]:
        """A temporary file in ``folder``, removed unless it was renamed into place."""
        try:
            self._make_dirs(folder)
            fd, name = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=folder)
        except OSError as err:
            raise StoreError(f"{folder}: cannot write a blob: {err}") from None
        tmp = Path(name)
        try:
            with os.fdopen(fd, "wb") as handle:
                yield tmp, handle
        except OSError as err:
            raise StoreError(f"{tmp}: cannot write a blob: {err}") from None
        finally:
            with suppress(FileNotFoundError):
                tmp.unlink()

    def _commit(self, tmp: Path, handle: BinaryIO, final: Path, digest: str) -> BlobRef:
        handle.flush()
        os.fsync(handle.fileno())
        size = handle.tell()
        relative = final.relative_to(self.root).as_posix()
        if final.exists() and final.stat().st_size == size and self._intact(relative):
            log.debug("blob %s already stored", relative)
            return BlobRef(relative, size, digest)
        os.replace(tmp, final)
        _fsync_dir(final.parent)
        return BlobRef(relative, size, digest)

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
        expected = match.group(3) if match else ""
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
