"""Keyed, reproducible replacements: UIDs, patient pseudonyms and per-patient date shifts.

Every replacement is an HMAC-SHA256 of the original value under the caller's secret, with a
different label per use so that the outputs cannot be related to each other. The same secret
gives the same replacements in every run and every process; another secret gives others.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from os import PathLike
from pathlib import Path

from vesalius.errors import InputError

_MIN_SHIFT_DAYS = 366
_SHIFT_SPAN_DAYS = 3285  # shifts fall between 1 and 10 years into the past


@dataclass(frozen=True)
class DeidKeys:
    """The secret and the keyed functions derived from it.

    Examples
    --------
    >>> keys = DeidKeys(b"my secret")
    >>> keys.uid("1.2.3") == keys.uid("1.2.3") and keys.uid("1.2.3").startswith("2.25.")
    True
    >>> keys.uid("1.2.3") != DeidKeys(b"other").uid("1.2.3")
    True
    >>> -3650 <= keys.date_shift_days("PAT-1") <= -366
    True
    """

    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not self.secret:
            raise InputError(None, "the de-identification secret is empty")

    def _digest(self, label: bytes, value: str) -> bytes:
        return _digest(self.secret, label, value)

    def uid(self, original: str) -> str:
        """Return the replacement of a UID: ``2.25.`` and a 128-bit keyed integer (<= 44 chars)."""
        return _uid(self.secret, original)

    def pseudonym(self, patient_key: str) -> str:
        """Return a patient pseudonym: 12 upper-case hex digits of the keyed hash."""
        return self._digest(b"patient", patient_key).hex()[:12].upper()

    def date_shift_days(self, patient_key: str) -> int:
        """Return the patient's date shift in days, between -3650 and -366 (into the past)."""
        number = int.from_bytes(self._digest(b"date", patient_key)[:8], "big")
        return -(_MIN_SHIFT_DAYS + number % _SHIFT_SPAN_DAYS)


@lru_cache(maxsize=8)
def _mac(secret: bytes) -> hmac.HMAC:
    """The HMAC keyed once per secret and process; each digest works on a copy."""
    return hmac.new(secret, digestmod=hashlib.sha256)


def _digest(secret: bytes, label: bytes, value: str) -> bytes:
    mac = _mac(secret).copy()
    mac.update(label + b"\x00" + value.encode("utf-8", "surrogateescape"))
    return mac.digest()


@lru_cache(maxsize=1 << 16)
def _uid(secret: bytes, original: str) -> str:
    # A series repeats its study, series and frame of reference UIDs in every instance.
    return "2.25." + str(int.from_bytes(_digest(secret, b"uid", original)[:16], "big"))


def read_secret_file(path: str | PathLike[str]) -> bytes:
    """Read a secret file, dropping one trailing newline.

    Raises
    ------
    InputError
        The file is missing, unreadable or empty.
    """
    source = Path(path)
    try:
        secret = source.read_bytes()
    except OSError as err:
        raise InputError(source, f"cannot read secret file ({err.strerror})") from err
    secret = secret.rstrip(b"\r\n")
    if not secret:
        raise InputError(source, "secret file is empty")
    return secret


def create_secret_file(path: str | PathLike[str]) -> bytes:
    """Generate a 256-bit secret and write it (hex) to ``path`` with mode 0600, atomically.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> key = pathlib.Path(tempfile.mkdtemp()) / "deid-secret.key"
    >>> secret = create_secret_file(key)
    >>> read_secret_file(key) == secret and oct(key.stat().st_mode & 0o777)
    '0o600'
    """
    target = Path(path)
    secret = secrets.token_hex(32).encode("ascii")
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(secret + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return secret
