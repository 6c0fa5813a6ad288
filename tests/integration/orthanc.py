"""Throwaway Orthanc servers and private network namespaces for the integration tests.

Shared by the DICOMweb (``test_dicomweb_*``) and DIMSE (``test_dimse_*``) tests.

Orthanc 1.10 binds every interface (and so do dcmtk's storescp and movescu), so every
scenario that starts a server runs in its own private network namespace:
:func:`run_in_netns` runs a command as ``unshare -n sh -c 'ip link set lo up && exec CMD'``,
where the loopback is up and nothing else exists, so that every server and client of the
scenario share a loopback nothing outside sees. A scenario is a script run that way (it
imports this module as ``orthanc``, its own folder being on ``sys.path``); it reports what it
observed as JSON, which the test module checks. :func:`orthanc_available` says why a
scenario cannot run here (no Orthanc, or ``unshare -n`` not permitted); tests skip with it.

:func:`start_orthanc` (or the :func:`running_orthanc` context manager) runs Orthanc with a
generated JSON
configuration in a temporary folder: storage and index there, free ports, no remote access,
no authentication, ``SyncStorageArea`` on (fsync of every stored file), and the DICOM
modalities it should know (name -> AE title, host, port). It is killed at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

ORTHANC = "/usr/sbin/Orthanc"
DICOMWEB_PLUGIN = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so"
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@lru_cache(maxsize=1)
def netns_problem() -> str | None:
    """Why a private network namespace cannot be made here, or ``None``."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return "unshare or ip (util-linux, iproute2) is not installed"
    probe = subprocess.run(
        ["unshare", "-n", "sh", "-c", "ip link set lo up"], capture_output=True, timeout=30
    )
    if probe.returncode != 0:
        return f"unshare -n is not permitted: {probe.stderr.decode(errors='replace').strip()}"
    return None


def orthanc_available() -> str | None:
    """Why Orthanc scenarios cannot run here (``None`` when they can)."""
    if not Path(ORTHANC).is_file():
        return f"Orthanc is not installed ({ORTHANC})"
    return netns_problem()


def run_in_netns(
    argv: list[str], *, timeout_s: float = 600, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` in a new network namespace with only the loopback up; text output."""
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]))
    environment.update(env or {})
    return subprocess.run(
        ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", *argv],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        env=environment,
        cwd=ROOT,
    )


@dataclass
class Orthanc:
    """A running Orthanc: its AE title, DICOM port and HTTP base URL; :meth:`stop` kills it."""

    ae_title: str
    dicom_port: int
    http_port: int
    folder: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def dicomweb_url(self) -> str:
        return f"{self.url}/dicom-web"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)


def _config(
    folder: Path,
    ae_title: str,
    ports: tuple[int, int],
    modalities: Mapping[str, tuple[str, str, int]],
    dicomweb: bool,
) -> dict[str, object]:
    config: dict[str, object] = {
        "Name": "vesalius-test",
        "StorageDirectory": str(folder / "storage"),
        "IndexDirectory": str(folder / "index"),
        "DicomAet": ae_title,
        "DicomPort": ports[0],
        "HttpPort": ports[1],
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False,
        "SyncStorageArea": True,
        "DicomCheckCalledAet": False,
        "DicomModalities": {name: list(entry) for name, entry in modalities.items()},
        "StableAge": 1,
    }
    if dicomweb:
        config["Plugins"] = [DICOMWEB_PLUGIN]
        config["DicomWeb"] = {"Enable": True, "Root": "/dicom-web/"}
    return config


def _wait_ready(orthanc: Orthanc, process: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = (orthanc.folder / "orthanc.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"Orthanc exited with {process.returncode}: {log}")
        try:
            with urllib.request.urlopen(f"{orthanc.url}/system", timeout=1) as rsp:
                if rsp.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"Orthanc not ready after {timeout_s} s")


def start_orthanc(
    folder: Path,
    *,
    ae_title: str = "ORTHANC",
    modalities: Mapping[str, tuple[str, str, int]] | None = None,
    dicomweb: bool = True,
    timeout_s: float = 60.0,
    env: Mapping[str, str] | None = None,
) -> Orthanc:
    """Start Orthanc with its data in ``folder``; call ``stop()`` on the result when done.

    ``modalities`` are the DICOM nodes it knows: name -> (AE title, host, port).
    """
    folder.mkdir(parents=True, exist_ok=True)
    orthanc = Orthanc(ae_title, free_port(), free_port(), folder)
    config = _config(
        folder, ae_title, (orthanc.dicom_port, orthanc.http_port), modalities or {}, dicomweb
    )
    (folder / "orthanc.json").write_text(json.dumps(config, indent=2))
    with (folder / "orthanc.log").open("wb") as log:
        orthanc.process = subprocess.Popen(
            [ORTHANC, str(folder / "orthanc.json")],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=None if env is None else {**os.environ, **env},
        )
    try:
        _wait_ready(orthanc, orthanc.process, timeout_s)
    except BaseException:
        orthanc.stop()
        raise
    return orthanc


@contextmanager
def running_orthanc(folder: Path, **options: object) -> Iterator[Orthanc]:
    """:func:`start_orthanc` for the duration of a ``with`` block."""
    orthanc = start_orthanc(folder, **options)  # type: ignore[arg-type]
    try:
        yield orthanc
    finally:
        orthanc.stop()
