"""One storage association served by the lean path: negotiate, receive, store, answer.

:func:`serve_storage` runs the acceptor side of PS3.8 for an association that proposes
only Storage and Verification SOP classes: it answers the A-ASSOCIATE-RQ (AC, or RJ for a
caller that is not allowed, a bad protocol version or application context, or too many
associations), then reads P-DATA-TF PDUs with large reads, reassembles each message's
command and data set fragments, hands each C-STORE data set (with its File Meta
Information) to the store function and answers with its status; C-ECHO is answered
success, A-RELEASE-RQ with A-RELEASE-RP. A PDU that breaks the protocol (unknown type,
wrong lengths, a fragment on a context that was not accepted...) is answered with A-ABORT;
an idle peer is aborted after the network timeout. Nothing raised here reaches the caller.

Examples
--------
>>> import socket, threading
>>> from vesalius.ingest.dimse.fast_store import pdu
>>> options = StorageOptions(ae_title="SCP", max_pdu=1 << 20, allowed=None,
...                          storage=frozenset(), transfer_syntaxes=())
>>> ours, theirs = socket.socketpair()
>>> rq = pdu.encode_associate_rq("SCP", "ECHOER", [(1, VERIFICATION, ["1.2.840.10008.1.2"])])
>>> theirs.sendall(rq)
>>> request = pdu.parse_associate_rq(pdu.split_pdu(rq)[1])
>>> worker = threading.Thread(target=serve_storage,
...                           args=(ours, "peer", request, options, lambda *a: 0, Gate()))
>>> worker.start()
>>> theirs.recv(1)[0] == pdu.ASSOCIATE_AC
True
>>> _ = theirs.recv(65536)
>>> theirs.sendall(pdu.encode_release_rq())
>>> theirs.recv(10)[0] == pdu.RELEASE_RP
True
>>> theirs.close(); worker.join()
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field

from vesalius.ingest.dimse.fast_store import command as dimse
from vesalius.ingest.dimse.fast_store import pdu
from vesalius.ingest.dimse.fast_store.meta import file_meta

log = logging.getLogger(__name__)

VERIFICATION = "1.2.840.10008.1.1"
#: Transfer syntaxes accepted for Verification, in pynetdicom's order of preference.
VERIFICATION_SYNTAXES = (
    "1.2.840.10008.1.2",
    "1.2.840.10008.1.2.1",
    "1.2.840.10008.1.2.1.99",
    "1.2.840.10008.1.2.2",
)
#: The largest PDU other than P-DATA-TF read (an A-ASSOCIATE-RQ is a few kilobytes).
MAX_CONTROL_PDU = 1 << 20
#: The largest A-ASSOCIATE-RQ peeked at (larger ones go to pynetdicom).
MAX_PEEK = 1 << 16
#: User Information sub-items the lean path may leave unanswered (asynchronous operations).
IGNORABLE_USER_ITEMS = frozenset({0x53})

#: ``store(data, sop_class, sop_instance, source) -> status``; must not raise.
StoreFunction = Callable[[bytes, str, str, str], int]
#: Called with the calling AE title and the peer address.
PeerHook = Callable[[str, str], None]


def _quiet(ae: str, address: str) -> None:
    """A hook that does nothing."""


@dataclass(frozen=True)
class StorageOptions:
    """What the lean path accepts.

    Parameters
    ----------
    ae_title
        Our AE title (any called AE title is accepted, as pynetdicom does).
    max_pdu
        The maximum P-DATA-TF length we announce and enforce (0: no limit).
    allowed
        The calling AE titles allowed, or ``None`` for anyone.
    storage, transfer_syntaxes
        Storage SOP classes accepted, and their transfer syntaxes in our order of preference.
    max_associations
        Associations at once (over both paths), beyond which callers get a transient RJ.
    acse_timeout, network_timeout
        Seconds to wait for the A-ASSOCIATE-RQ, and for any PDU once associated.
    """

    ae_title: str
    max_pdu: int
    allowed: frozenset[str] | None
    storage: frozenset[str]
    transfer_syntaxes: tuple[str, ...]
    max_associations: int = 32
    acse_timeout: float = 30.0
    network_timeout: float = 60.0
    on_accepted: PeerHook = field(default=_quiet)
    on_rejected: PeerHook = field(default=_quiet)

    def handles(self, request: pdu.AssociateRequest) -> bool:
        """Whether the lean path can serve ``request`` (else pynetdicom does)."""
        if not request.other_user_items <= IGNORABLE_USER_ITEMS:
            return False  # role selection, user identity, extended negotiation
        return all(
            cx.abstract_syntax == VERIFICATION or cx.abstract_syntax in self.storage
            for cx in request.contexts
        )


class Gate:
    """Counts the associations the lean path serves at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0

    def enter(self, limit: int) -> bool:
        """Count one more, unless ``limit`` are open already."""
        with self._lock:
            if self.count >= limit:
                return False
            self.count += 1
            return True

    def leave(self) -> None:
        """Count one less."""
        with self._lock:
            self.count -= 1


class AssociationEndedError(Exception):
    """The association ended with an A-ABORT (sent or received) or a dropped connection."""


class _Reader:
    """Whole PDUs from a socket, through one large buffer."""

    def __init__(self, sock: socket.socket) -> None:
        self._file = sock.makefile("rb", buffering=1 << 18)

    def read(self, max_p_data: int) -> tuple[int, bytes] | None:
        """The next PDU's type and body; ``None`` when the peer closed between PDUs."""
        head = self._file.read(6)
        if not head:
            return None
        if len(head) < 6:
            raise AssociationEndedError("connection closed inside a PDU header")
        kind, length = pdu.pdu_header(head)
        if kind not in pdu.KNOWN_TYPES:
            raise pdu.PduError(f"unknown PDU type 0x{kind:02X}", pdu.REASON_UNRECOGNIZED_PDU)
        if kind == pdu.P_DATA_TF:
            limit = max_p_data if max_p_data > 0 else 1 << 32
        else:
            limit = MAX_CONTROL_PDU
        if length > limit:
            raise pdu.PduError(f"PDU 0x{kind:02X} of {length} bytes, at most {limit} allowed")
        body = self._file.read(length)
        if len(body) < length:
            raise AssociationEndedError(
                f"connection closed inside a PDU ({len(body)} of {length} bytes)"
            )
        return kind, body

    def close(self) -> None:
        self._file.close()


@dataclass
class _Message:
    """A DIMSE message being reassembled."""

    context_id: int
    command_parts: list[memoryview] = field(default_factory=list)
    command: dimse.Command | None = None
    data_parts: list[memoryview] = field(default_factory=list)


class _Association:
    def __init__(
        self,
        sock: socket.socket,
        source: str,
        accepted: dict[int, tuple[str, str]],
        options: StorageOptions,
        store: StoreFunction,
        peer_max: int,
    ) -> None:
        self.sock, self.source, self.accepted = sock, source, accepted
        self.options, self.store, self.peer_max = options, store, peer_max
        self.message: _Message | None = None

    def send_command(self, context_id: int, data: bytes) -> None:
        for part in pdu.encode_p_data(context_id, data, command=True, max_pdu=self.peer_max):
            self.sock.sendall(part)

    def serve(self, reader: _Reader) -> None:
        while True:
            got = reader.read(self.options.max_pdu)
            if got is None:
                raise AssociationEndedError("connection closed without A-RELEASE")
            kind, body = got
            if kind == pdu.P_DATA_TF:
                for pdv in pdu.parse_p_data(body):
                    self.on_pdv(pdv)
            elif kind == pdu.RELEASE_RQ:
                if self.message is not None:
                    log.warning("%s released the association inside a message", self.source)
                self.sock.sendall(pdu.encode_release_rp())
                return
            elif kind == pdu.ABORT:
                raise AssociationEndedError("the peer aborted")
            else:
                raise pdu.PduError(f"unexpected PDU 0x{kind:02X}", pdu.REASON_UNEXPECTED_PDU)

    def on_pdv(self, pdv: pdu.Pdv) -> None:
        if pdv.context_id not in self.accepted:
            raise pdu.PduError(f"PDV on presentation context {pdv.context_id}, not accepted")
        message = self.message
        if message is None:
            if not pdv.is_command:
                raise pdu.PduError(
                    "data set fragment before any command", pdu.REASON_UNEXPECTED_PDU
                )
            message = self.message = _Message(pdv.context_id)
        if pdv.context_id != message.context_id:
            raise pdu.PduError("fragments of one message on two presentation contexts")
        if pdv.is_command:
            if message.command is not None:
                raise pdu.PduError("command fragment inside a data set", pdu.REASON_UNEXPECTED_PDU)
            message.command_parts.append(pdv.data)
            if pdv.is_last:
                self.on_command(message)
        else:
            if message.command is None:
                raise pdu.PduError("data set fragment inside a command", pdu.REASON_UNEXPECTED_PDU)
            message.data_parts.append(pdv.data)
            if pdv.is_last:
                self.message = None
                self.on_data_set(message, message.command)

    def on_command(self, message: _Message) -> None:
        try:
            command = dimse.parse_command(b"".join(message.command_parts))
            message.command_parts.clear()
            kind, message_id = command.field, command.message_id
            needs_data = command.has_data_set
        except dimse.CommandError as err:
            raise pdu.PduError(f"unreadable command set: {err}") from None
        if kind is None or message_id is None:
            raise pdu.PduError("command set without Command Field or Message ID")
        message.command = command
        if needs_data:
            return  # its data set follows
        self.message = None
        if kind == dimse.C_ECHO_RQ:
            log.debug("C-ECHO from %s", self.source)
            self.send_command(message.context_id, dimse.echo_response(command))
        elif kind == dimse.C_STORE_RQ:
            log.warning("C-STORE from %s without a data set", self.source)
            self.send_command(message.context_id, dimse.store_response(command, 0xC000))
        elif kind != dimse.C_CANCEL_RQ:
            self.send_command(message.context_id, dimse.unrecognized_response(command))

    def on_data_set(self, message: _Message, command: dimse.Command) -> None:
        if command.field != dimse.C_STORE_RQ:
            self.send_command(message.context_id, dimse.unrecognized_response(command))
            return
        syntax = self.accepted[message.context_id][1]
        meta = file_meta(command.sop_class, command.sop_instance, syntax)
        data = b"".join([meta, *message.data_parts])
        message.data_parts.clear()
        code = self.store(data, command.sop_class, command.sop_instance, self.source)
        self.send_command(message.context_id, dimse.store_response(command, code))


def negotiate(request: pdu.AssociateRequest, options: StorageOptions) -> list[tuple[int, int, str]]:
    """The result and transfer syntax of each proposed context, as (id, result, syntax)."""
    out = []
    for cx in request.contexts:
        if cx.abstract_syntax == VERIFICATION:
            ours: tuple[str, ...] = VERIFICATION_SYNTAXES
        elif cx.abstract_syntax in options.storage:
            ours = options.transfer_syntaxes
        else:
            out.append((cx.context_id, pdu.ABSTRACT_SYNTAX_NOT_SUPPORTED, cx.transfer_syntaxes[0]))
            continue
        syntax = next((ts for ts in ours if ts in cx.transfer_syntaxes), None)
        if syntax is None:
            out.append(
                (cx.context_id, pdu.TRANSFER_SYNTAXES_NOT_SUPPORTED, cx.transfer_syntaxes[0])
            )
        else:
            out.append((cx.context_id, pdu.ACCEPTANCE, syntax))
    return out


def _rejection(request: pdu.AssociateRequest, options: StorageOptions) -> bytes | None:
    """The A-ASSOCIATE-RJ that ``request`` gets, or ``None`` when it may be accepted."""
    if not request.protocol_version & 1:
        return pdu.encode_associate_rj(pdu.RJ_PERMANENT, pdu.RJ_ACSE, pdu.RJ_PROTOCOL_VERSION)
    if options.allowed is not None and request.calling_ae not in options.allowed:
        return pdu.encode_associate_rj(pdu.RJ_PERMANENT, pdu.RJ_SERVICE_USER, pdu.RJ_CALLING_AE)
    if request.application_context != pdu.APPLICATION_CONTEXT:
        return pdu.encode_associate_rj(
            pdu.RJ_PERMANENT, pdu.RJ_SERVICE_USER, pdu.RJ_APPLICATION_CONTEXT
        )
    return None


def _abort(sock: socket.socket, reason: int) -> None:
    with suppress(OSError):
        sock.sendall(pdu.encode_abort(pdu.SOURCE_PROVIDER, reason))


def serve_storage(
    sock: socket.socket,
    address: str,
    request: pdu.AssociateRequest,
    options: StorageOptions,
    store: StoreFunction,
    gate: Gate,
    others: Callable[[], int] = lambda: 0,
) -> None:
    """Serve one association whose A-ASSOCIATE-RQ ``request`` is next on ``sock``.

    ``others`` counts the associations open on the other path (for the association limit).
    Closes ``sock`` when done.
    """
    reader = _Reader(sock)
    with suppress(OSError):  # a socket pair in tests has no TCP options
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.settimeout(options.acse_timeout)
        reader.read(0)  # the A-ASSOCIATE-RQ, parsed already
        _associate(sock, reader, address, request, options, store, gate, others)
    except TimeoutError:
        log.warning("association from %s at %s timed out; aborting", request.calling_ae, address)
        _abort(sock, pdu.REASON_NOT_SPECIFIED)
    except pdu.PduError as err:
        log.warning("association from %s at %s aborted: %s", request.calling_ae, address, err)
        _abort(sock, err.reason)
    except (AssociationEndedError, OSError) as err:
        log.info("association from %s at %s ended: %s", request.calling_ae, address, err)
    except Exception:  # never let one peer take the listener down
        log.exception("association from %s at %s failed", request.calling_ae, address)
        _abort(sock, pdu.REASON_NOT_SPECIFIED)
    finally:
        reader.close()
        sock.close()


def _associate(
    sock: socket.socket,
    reader: _Reader,
    address: str,
    request: pdu.AssociateRequest,
    options: StorageOptions,
    store: StoreFunction,
    gate: Gate,
    others: Callable[[], int],
) -> None:
    rejection = _rejection(request, options)
    if rejection is not None:
        options.on_rejected(request.calling_ae, address)
        sock.sendall(rejection)
        return
    if not gate.enter(max(0, options.max_associations - others())):
        log.warning("association from %s at %s refused: too many", request.calling_ae, address)
        sock.sendall(pdu.encode_associate_rj(pdu.RJ_TRANSIENT, pdu.RJ_PRESENTATION, 2))
        return
    try:
        results = negotiate(request, options)
        sock.sendall(
            pdu.encode_associate_ac(
                request,
                results,
                max_length=options.max_pdu,
                implementation_class_uid=_IMPLEMENTATION[0],
                implementation_version=_IMPLEMENTATION[1],
            )
        )
        options.on_accepted(request.calling_ae, address)
        accepted = {i: _syntaxes(request, i, ts) for i, result, ts in results if result == 0}
        source = f"{request.calling_ae}@{address}"
        sock.settimeout(options.network_timeout)
        _Association(sock, source, accepted, options, store, request.max_length).serve(reader)
    finally:
        gate.leave()


def _syntaxes(request: pdu.AssociateRequest, context_id: int, syntax: str) -> tuple[str, str]:
    abstract = next(cx.abstract_syntax for cx in request.contexts if cx.context_id == context_id)
    return abstract, syntax


def _implementation() -> tuple[str, str]:
    from pynetdicom import PYNETDICOM_IMPLEMENTATION_UID, PYNETDICOM_IMPLEMENTATION_VERSION

    return str(PYNETDICOM_IMPLEMENTATION_UID), PYNETDICOM_IMPLEMENTATION_VERSION


_IMPLEMENTATION = _implementation()


def peek_associate_rq(sock: socket.socket, timeout: float) -> pdu.AssociateRequest | None:
    """The A-ASSOCIATE-RQ waiting on ``sock``, read without consuming it.

    ``None`` when the first PDU is something else, malformed or too large to peek, or
    the peer closed: the caller leaves such a connection to pynetdicom. Raises
    ``TimeoutError`` when the whole PDU does not arrive within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    wanted = 6
    while True:
        sock.settimeout(max(0.001, deadline - time.monotonic()))
        seen = sock.recv(wanted, socket.MSG_PEEK)
        if len(seen) >= 6 and wanted == 6:
            kind, length = pdu.pdu_header(seen)
            if kind != pdu.ASSOCIATE_RQ or length > MAX_PEEK:
                return None
            wanted = 6 + length
            continue
        if len(seen) >= wanted:
            break
        if not seen:
            return None
        if time.monotonic() >= deadline:
            raise TimeoutError("the A-ASSOCIATE-RQ did not arrive whole in time")
        time.sleep(0.001)  # part of it is there: wait for the rest
    try:
        return pdu.parse_associate_rq(memoryview(seen)[6:])
    except pdu.PduError:
        return None


__all__ = [
    "Gate",
    "StorageOptions",
    "negotiate",
    "peek_associate_rq",
    "serve_storage",
]
