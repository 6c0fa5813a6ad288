"""``vesalius serve`` as a child process, for the tests that start, stop and kill it.

:func:`start_serve` runs ``python -m vesalius serve ARGS`` with its standard output read
line by line in a thread (its log, on standard error, goes to a file), waits for its
``ready`` line and parses the ports it prints. The child gets SIGKILL if the process that
started it dies (``setpriv --pdeathsig KILL``), so that a test killed by its timeout leaves
no server behind; :meth:`ServeProcess.kill` is for ``finally`` blocks.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DICOM_LINE = re.compile(r"^DICOM: listening as \S+ on (\S+):(\d+)$")
HTTP_LINE = re.compile(r"^HTTP: listening on http://(\S+):(\d+) ")
READY_LINE = re.compile(r"^ready ")


@dataclass
class ServeProcess:
    """A running ``vesalius serve``: its process, what it printed, the ports it listens on."""

    process: subprocess.Popen[str]
    log: Path
    lines: list[str] = field(default_factory=list)
    dicom_port: int = 0
    http_port: int | None = None
    _changed: threading.Condition = field(default_factory=threading.Condition)
    _reader: threading.Thread | None = None

    def _read(self) -> None:
        assert self.process.stdout is not None
        with self.process.stdout as stdout:
            for line in stdout:
                with self._changed:
                    self.lines.append(line.rstrip("\n"))
                    self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def start_reading(self) -> None:
        """Read its standard output in a thread, until it closes."""
        self._reader = threading.Thread(target=self._read, name="serve-stdout", daemon=True)
        self._reader.start()

    def wait_for(self, pattern: re.Pattern[str], *, timeout_s: float) -> re.Match[str]:
        """The first printed line matching ``pattern``; raises if none comes in time."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while True:
                found = next(filter(None, map(pattern.match, self.lines)), None)
                if found is not None:
                    return found
                left = deadline - time.monotonic()
                if left <= 0 or self.process.poll() is not None:
                    raise RuntimeError(
                        f"serve never printed {pattern.pattern!r} (exit {self.process.poll()}):"
                        f"\n{self.output()}\n{self.log_tail()}"
                    )
                self._changed.wait(min(left, 0.2))

    def output(self) -> str:
        """Everything printed on standard output so far."""
        with self._changed:
            return "\n".join(self.lines)

    def log_tail(self, n_chars: int = 3000) -> str:
        """The end of its log (standard error)."""
        return self.log.read_text(errors="replace")[-n_chars:] if self.log.exists() else ""

    def stop(self, signum: int = signal.SIGTERM, *, timeout_s: float = 30.0) -> int:
        """Send ``signum`` and return the exit code; SIGKILL and raise if it hangs."""
        self.process.send_signal(signum)
        try:
            code = self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
            raise RuntimeError(f"serve did not exit {timeout_s} s after {signum}") from None
        self._join_reader()
        return code

    def _join_reader(self) -> None:
        if self._reader is not None:
            self._reader.join(timeout=10)

    def kill(self) -> None:
        """SIGKILL it (if still running) and reap it."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)
        self._join_reader()


def _command(args: list[str]) -> list[str]:
    command = [sys.executable, "-m", "vesalius", "serve", *args]
    if shutil.which("setpriv") is not None:
        command = ["setpriv", "--pdeathsig", "KILL", *command]
    return command


def start_serve(args: list[str], *, log: Path, timeout_s: float = 60.0) -> ServeProcess:
    """Start ``vesalius serve ARGS``; return once it printed ``ready`` (ports parsed).

    Raises
    ------
    RuntimeError
        When it exits or stays silent for ``timeout_s``; it is killed then.
    """
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    with log.open("ab") as err:
        process = subprocess.Popen(
            _command(args),
            stdout=subprocess.PIPE,
            stderr=err,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
            cwd=ROOT,
        )
    served = ServeProcess(process, log)
    served.start_reading()
    try:
        served.wait_for(READY_LINE, timeout_s=timeout_s)
        served.dicom_port = int(served.wait_for(DICOM_LINE, timeout_s=1).group(2))
        if any(HTTP_LINE.match(line) for line in served.lines):
            served.http_port = int(served.wait_for(HTTP_LINE, timeout_s=1).group(2))
    except BaseException:
        served.kill()
        raise
    return served
