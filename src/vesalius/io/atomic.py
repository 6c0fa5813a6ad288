"""Whole-or-nothing file writes: a temporary name in the same folder, fsync, then rename.

Every file Vesalius writes for a user goes through here, so that a reader sees either
nothing or the whole file, never half of one. The renames become durable once the folder
is flushed (:func:`fsync_dir`): once per file with ``durable_dir=True``, or once per batch
by the caller.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def write_atomic(
    path: Path, writer: Callable[[BinaryIO], object], *, durable_dir: bool = False
) -> Path:
    """Create ``path`` through ``writer`` so that readers see either nothing or all of it.

    The folder is created if needed. On any failure the temporary file is removed and
    ``path`` is left as it was. With ``durable_dir`` the folder is flushed too.

    Examples
    --------
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "sub" / "x.bin"
    >>> write_atomic(target, lambda handle: handle.write(b"abc")).read_bytes()
    b'abc'
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        with tmp.open("xb") as handle:
            writer(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if durable_dir:
        fsync_dir(path.parent)
    return path


def write_bytes_atomic(path: Path, data: bytes, *, durable_dir: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`write_atomic`)."""
    return write_atomic(path, lambda handle: handle.write(data), durable_dir=durable_dir)


def write_atomically(path: str | os.PathLike[str], write: Callable[[str], None]) -> None:
    """Call ``write(temp_path)`` for writers that need a file name, then move it onto ``path``.

    The temp file keeps ``path``'s suffixes (``.nii.gz``) so writers that pick a format from
    the name behave the same. On any error the temp file is removed and ``path`` untouched;
    the file and its folder are fsynced.

    Examples
    --------
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "a.txt"
    >>> write_atomically(target, lambda p: Path(p).write_text("hi"))
    >>> target.read_text()
    'hi'
    """
    target = Path(path)
    fd, temp = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".tmp" + "".join(target.suffixes), dir=target.parent
    )
    os.close(fd)
    try:
        write(temp)
        with open(temp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    fsync_dir(target.parent)


def fsync_dir(path: Path) -> None:
    """Flush a folder's entries (the renames into it) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
