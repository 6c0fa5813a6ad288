"""Client side, sending: C-ECHO a peer and C-STORE files to it.

Files are sent as they are: each is parsed without decoding pixels and sent in its own
transfer syntax (converted only between implicit and explicit little endian when the
peer accepts nothing else). Several associations may send in parallel.

Examples
--------
>>> from vesalius.settings import DicomPeer
>>> peer = DicomPeer("nowhere", "NOBODY", "127.0.0.1", 9)
>>> try:
...     echo(peer, calling_ae="VESALIUS", timeout_s=2)
... except PeerError as err:
...     print(err)
cannot reach NOBODY at 127.0.0.1:9: Connection refused
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydicom import dcmread
from pydicom.errors import InvalidDicomError
from pydicom.filereader import read_file_meta_info
from pynetdicom import AE
from pynetdicom.presentation import PresentationContext

from vesalius.errors import VesaliusError
from vesalius.ingest.dimse import status
from vesalius.ingest.dimse._logging import quiet_pynetdicom
from vesalius.ingest.dimse.syntaxes import Verification, contexts_for
from vesalius.settings import DicomPeer

log = logging.getLogger(__name__)


class PeerError(VesaliusError):
    """A DICOM peer could not be reached, refused the association, or failed a request."""


def _probe(peer: DicomPeer, timeout_s: float) -> None:
    """Fail early, and cleanly, when nothing listens (pynetdicom leaks its socket then)."""
    try:
        socket.create_connection((peer.host, peer.port), timeout=timeout_s).close()
    except OSError as err:
        reason = err.strerror or str(err)
        raise PeerError(
            f"cannot reach {peer.ae_title} at {peer.host}:{peer.port}: {reason}"
        ) from None


@contextmanager
def associate(
    peer: DicomPeer,
    *,
    calling_ae: str,
    contexts: Sequence[PresentationContext] = (),
    timeout_s: float = 30.0,
    **kwargs: Any,
) -> Iterator[Any]:
    """An established association with ``peer``, released (or aborted) at the end.

    Raises
    ------
    PeerError
        When the association cannot be established.
    """
    quiet_pynetdicom()
    _probe(peer, timeout_s)
    ae = AE(ae_title=calling_ae)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = timeout_s
    ae.maximum_pdu_size = 0
    requested = list(contexts) or [PresentationContext()]
    if not contexts:
        ae.add_requested_context(Verification)
    else:
        ae.requested_contexts = requested
    assoc = ae.associate(peer.host, peer.port, ae_title=peer.ae_title, **kwargs)
    if not assoc.is_established:
        raise PeerError(
            f"cannot associate with {peer.ae_title} at {peer.host}:{peer.port} as {calling_ae}"
        )
    try:
        yield assoc
    except BaseException:
        assoc.abort()
        raise
    if assoc.is_established:
        assoc.release()


def echo(peer: DicomPeer, *, calling_ae: str, timeout_s: float = 30.0) -> None:
    """C-ECHO ``peer``; raises :class:`PeerError` unless it answers success."""
    with associate(peer, calling_ae=calling_ae, timeout_s=timeout_s) as assoc:
        rsp = assoc.send_c_echo()
    code = int(getattr(rsp, "Status", -1))
    if code != status.SUCCESS:
        raise PeerError(f"C-ECHO to {peer.ae_title}: {status.describe(code)}")


@dataclass(frozen=True)
class SendProblem:
    """A file that was not stored by the peer, and why."""

    path: str
    problem: str


@dataclass(frozen=True)
class SendResult:
    """What a send did."""

    sent: int
    problems: tuple[SendProblem, ...]


@dataclass(frozen=True)
class _Item:
    path: Path
    sop_class: str
    syntax: str


def _items(paths: Sequence[Path]) -> tuple[list[_Item], list[SendProblem]]:
    items, problems = [], []
    for path in paths:
        try:
            meta = read_file_meta_info(path)
            sop_class, syntax = meta.MediaStorageSOPClassUID, meta.TransferSyntaxUID
        except (InvalidDicomError, OSError, AttributeError, ValueError, EOFError) as err:
            problems.append(SendProblem(str(path), f"not a DICOM file ({err})"))
            continue
        items.append(_Item(path, str(sop_class), str(syntax)))
    return items, problems


def _send_one(assoc: Any, item: _Item) -> SendProblem | None:
    try:
        dataset = dcmread(item.path)
        rsp = assoc.send_c_store(dataset)
    except (InvalidDicomError, OSError, ValueError, AttributeError) as err:
        return SendProblem(str(item.path), f"cannot send: {err}")
    code = int(getattr(rsp, "Status", -1))
    if code in (status.SUCCESS, 0xB000, 0xB007, 0xB006):
        return None
    return SendProblem(str(item.path), status.describe(code))


def _send_chunk(peer: DicomPeer, items: list[_Item], calling_ae: str) -> list[SendProblem]:
    contexts = contexts_for((i.sop_class, i.syntax) for i in items)
    with associate(peer, calling_ae=calling_ae, contexts=contexts) as assoc:
        problems = []
        for item in items:
            problem = _send_one(assoc, item)
            if problem is not None:
                log.warning("%s: %s", problem.path, problem.problem)
                problems.append(problem)
            if not assoc.is_established:
                raise PeerError(f"{peer.ae_title} dropped the association")
        return problems


def send_files(
    paths: Sequence[Path], peer: DicomPeer, *, calling_ae: str, associations: int = 1
) -> SendResult:
    """C-STORE the DICOM files ``paths`` to ``peer`` over ``associations`` associations.

    Files that are not DICOM, or that the peer refuses, are listed as problems.

    Raises
    ------
    PeerError
        When an association cannot be established or is dropped.
    """
    items, problems = _items(paths)
    chunks = [items[k :: max(1, associations)] for k in range(max(1, associations))]
    chunks = [c for c in chunks if c]
    with ThreadPoolExecutor(max_workers=max(1, len(chunks))) as pool:
        futures = [pool.submit(_send_chunk, peer, chunk, calling_ae) for chunk in chunks]
        for future in futures:
            problems.extend(future.result())
    sent = len(items) - sum(1 for p in problems if p.path in {str(i.path) for i in items})
    return SendResult(sent=sent, problems=tuple(problems))
