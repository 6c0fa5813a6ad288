"""``vesalius serve`` as a child process whose output lines a caller can wait on.

The demo drives the real server the way an administrator would start it: a separate
process with its own settings file. :class:`ServerProcess` starts it, collects what it
prints on a reader thread, and lets the caller wait for a line (``ready``, ``analysed
<study>``) with a deadline; :meth:`ServerProcess.stop` sends SIGTERM, the server's own
graceful stop.

Examples
--------
>>> parse_listening("DICOM: listening as VESALIUS on 127.0.0.1:40123")
('VESALIUS', '127.0.0.1', 40123)
>>> parse_http("HTTP: listening on http://127.0.0.1:8080 (DICOMweb at http://127.0.0.1:8080/dicom-web)")
'http://127.0.0.1:8080'
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from vesalius.errors import VesaliusError

_LISTENING = re.compile(r"^DICOM: listening as (\S+) on (\S+):(\d+)")
_HTTP = re.compile(r"^HTTP: listening on (\S+)")


class ServerError(VesaliusError):
    """The server process stopped, or did not print what was awaited in time."""


def parse_listening(line: str) -> tuple[str, str, int] | None:
    """The AE title, host and port of the server's ``DICOM: listening ...`` line."""
    found = _LISTENING.match(line)
    return None if found is None else (found[1], found[2], int(found[3]))


def parse_http(line: str) -> str | None:
    """The base URL of the server's ``HTTP: listening on ...`` line."""
    found = _HTTP.match(line)
    return None if found is None else found[1]


class ServerProcess:
    """A running ``vesalius serve --config CONFIG [ARGS...]``; stop it with :meth:`stop`."""

    def __init__(self, config: Path, args: Sequence[str] = ()) -> None:
        command = [sys.executable, "-m", "vesalius", "serve", "--config", str(config), *args]
        self._proc = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        self._lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, name="vesalius-serve-out", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self._proc.stdout is not None
        for raw in self._proc.stdout:
            with self._changed:
                self._lines.append(raw.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    @property
    def lines(self) -> list[str]:
        """Everything the server printed so far."""
        with self._changed:
            return list(self._lines)

    def wait_for(self, matches: Callable[[str], bool], *, timeout_s: float, what: str) -> str:
        """The first printed line ``matches`` accepts, waiting up to ``timeout_s`` for it.

        Raises
        ------
        ServerError
            The server exited first, or ``timeout_s`` passed; the message says ``what`` was
            awaited and shows the server's last lines.
        """
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while True:
                for line in self._lines:
                    if matches(line):
                        return line
                left = deadline - time.monotonic()
                if self._proc.poll() is not None and not self._reader.is_alive():
                    raise ServerError(f"the server stopped before {what}:\n{self._tail()}")
                if left <= 0:
                    raise ServerError(f"no {what} after {timeout_s:.0f} s:\n{self._tail()}")
                self._changed.wait(min(left, 0.5))

    def _tail(self) -> str:
        return "\n".join(self._lines[-15:])

    def stop(self, *, timeout_s: float = 60.0) -> int:
        """Ask the server to stop (SIGTERM), wait for it, and return its exit code."""
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
        try:
            code = self._proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            code = self._proc.wait()
        self._reader.join(5)
        if self._proc.stdout is not None:
            self._proc.stdout.close()
        return code

    def wait(self) -> int:
        """Wait until the server exits on its own (or is interrupted); its exit code."""
        return self._proc.wait()
