"""The DICOM listener: C-ECHO, C-STORE, C-FIND, C-MOVE and C-GET.

:class:`DicomListener` accepts associations from the allowed calling AE titles only (an
association from any other is rejected, with a log line naming the calling AE and its
address), stores every storage SOP class in the common transfer syntaxes through the
durable path, answers C-FIND from the index at the PATIENT, STUDY, SERIES and IMAGE levels
of the Patient Root and Study Root models, and sends stored instances by C-MOVE (to peers
of the settings) and C-GET. Instances received on all associations at once are indexed in
group commits (:mod:`~vesalius.ingest.dimse.group_commit`).

pynetdicom accepts the connections; each one's A-ASSOCIATE-RQ is peeked at first. An
association that proposes only Storage and Verification SOP classes is served by the lean
path of :mod:`~vesalius.ingest.dimse.fast_store` (same contexts, transfer syntaxes, caller
allow-list, association limit and C-STORE statuses, a fraction of the CPU per instance);
every other one (query/retrieve, SCP/SCU role selection, user identity) by pynetdicom.

Examples
--------
>>> import tempfile, pathlib
>>> from pynetdicom import AE
>>> from vesalius.store import BlobStore, open_store, sqlite_url
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> store = open_store(sqlite_url(folder / "index.sqlite3"))
>>> config = ListenerConfig(host="127.0.0.1", port=0, allowed_calling_aes=("ECHOER",))
>>> with DicomListener(config, store=store, blobs=BlobStore(folder / "blobs")) as listener:
...     ae = AE("ECHOER")
...     ae.add_requested_context("1.2.840.10008.1.1")
...     assoc = ae.associate("127.0.0.1", listener.port, ae_title="VESALIUS")
...     hex(assoc.send_c_echo().Status)
...     assoc.release()
'0x0'
>>> store.close()
"""

from __future__ import annotations

import logging
import socket
import threading
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from pynetdicom import AE, evt
from pynetdicom.transport import RequestHandler, ThreadedAssociationServer

from vesalius.errors import ConfigError
from vesalius.ingest.dimse._logging import quiet_pynetdicom
from vesalius.ingest.dimse.config import ListenerConfig
from vesalius.ingest.dimse.context import OnStored, ServiceContext, peer_of
from vesalius.ingest.dimse.fast_store.association import (
    Gate,
    StorageOptions,
    StoreFunction,
    peek_associate_rq,
    serve_storage,
)
from vesalius.ingest.dimse.group_commit import GroupCommitter
from vesalius.ingest.dimse.handlers import (
    handle_echo,
    handle_find,
    handle_store,
    store_received,
)
from vesalius.ingest.dimse.retrieve_scp import handle_get, handle_move
from vesalius.ingest.dimse.syntaxes import (
    TRANSFER_SYNTAXES,
    PatientRootFind,
    PatientRootGet,
    PatientRootMove,
    StudyRootFind,
    StudyRootGet,
    StudyRootMove,
    Verification,
    storage_sop_classes,
)
from vesalius.store import BlobStore, Store

log = logging.getLogger(__name__)

QUERY_RETRIEVE = (
    PatientRootFind,
    StudyRootFind,
    PatientRootMove,
    StudyRootMove,
    PatientRootGet,
    StudyRootGet,
)

#: Stands in the allow-list when nobody is allowed, so that pynetdicom rejects everyone.
_NOBODY = "-NOBODY-ALLOWED-"


def build_ae(config: ListenerConfig) -> AE:
    """The pynetdicom application entity of the listener, with its contexts and limits."""
    ae = AE(ae_title=config.ae_title)
    ae.maximum_pdu_size = config.max_pdu
    ae.maximum_associations = config.max_associations
    ae.add_supported_context(Verification)
    for sop_class in storage_sop_classes():
        # scp_role: a C-GET caller may take the storage SCP role to receive what it asked for
        ae.add_supported_context(sop_class, list(TRANSFER_SYNTAXES), scu_role=True, scp_role=True)
    for model in QUERY_RETRIEVE:
        ae.add_supported_context(model)
    allowed = config.calling_aes()
    if not config.accept_any_calling_ae:
        if not allowed:
            log.warning("no calling AE title is allowed: every association will be rejected")
        ae.require_calling_aet = list(allowed) or [_NOBODY]
    return ae


def _log_rejected(ae: str, address: str) -> None:
    log.warning("rejected association from calling AE %r at %s (not allowed)", ae, address)


def _log_accepted(ae: str, address: str) -> None:
    log.info("association from %r at %s accepted", ae, address)


def _on_rejected(event: Any) -> None:
    _log_rejected(*peer_of(event))


def _on_accepted(event: Any) -> None:
    _log_accepted(*peer_of(event))


def storage_options(config: ListenerConfig, ae: AE) -> StorageOptions:
    """What the lean storage path accepts: the same as ``ae`` for storage and verification."""
    allowed = None if config.accept_any_calling_ae else frozenset(config.calling_aes())
    return StorageOptions(
        ae_title=config.ae_title,
        max_pdu=config.max_pdu,
        allowed=allowed,
        storage=frozenset(str(uid) for uid in storage_sop_classes()),
        transfer_syntaxes=tuple(str(uid) for uid in TRANSFER_SYNTAXES),
        max_associations=config.max_associations,
        acse_timeout=float(ae.acse_timeout or 30),
        network_timeout=float(ae.network_timeout or 60),
        on_accepted=_log_accepted,
        on_rejected=_log_rejected,
    )


class _Router(RequestHandler):
    """Serves storage associations on the lean path, hands the others to pynetdicom."""

    options: StorageOptions
    store: StoreFunction
    gate: Gate

    def handle(self) -> None:
        sock: socket.socket = self.request
        address = f"{self.client_address[0]}:{self.client_address[1]}"
        try:
            request = peek_associate_rq(sock, self.options.acse_timeout)
        except OSError as err:  # nothing arrived in time, or the peer left
            log.info("connection from %s closed before association: %s", address, err)
            sock.close()
            return
        if request is None or not self.options.handles(request):
            sock.settimeout(None)
            super().handle()
            return
        server: ThreadedAssociationServer = self.server  # type: ignore[assignment]
        serve_storage(
            sock,
            address,
            request,
            self.options,
            self.store,
            self.gate,
            lambda: len(server.active_associations),
        )

    def finish(self) -> None:
        """Nothing: the association closed its socket."""


def _router(options: StorageOptions, ctx: ServiceContext, committer: GroupCommitter) -> type:
    def store(data: bytes, sop_class: str, sop_instance: str, source: str) -> int:
        asked = (sop_class, sop_instance)
        return store_received(data, asked, ctx=ctx, source=source, committer=committer)

    return type(
        "Router", (_Router,), {"options": options, "store": staticmethod(store), "gate": Gate()}
    )


class DicomListener:
    """A DICOM listener serving the store; a context manager that starts and stops it.

    Parameters
    ----------
    config
        Options: AE title, address, allowed callers, peers, disk floor.
    store, blobs
        Where instances are indexed and kept.
    on_stored
        Called with each stored instance before it is acknowledged (for example
        :meth:`vesalius.ingest.complete.StudyCompletion.arrived`); its errors are logged.
    """

    def __init__(
        self,
        config: ListenerConfig,
        *,
        store: Store,
        blobs: BlobStore,
        on_stored: OnStored | None = None,
    ) -> None:
        self.config = config
        self._committer = GroupCommitter(
            store, blobs, on_duplicate=config.on_duplicate, journal=config.ingest_journal
        )
        self._ctx = ServiceContext(config, store, blobs, on_stored)
        self._server: Any = None
        self._lock = threading.Lock()

    def _handlers(self) -> list[Any]:
        ctx = [self._ctx]
        return [
            (evt.EVT_C_ECHO, handle_echo, ctx),
            (evt.EVT_C_STORE, handle_store, [self._ctx, self._committer]),
            (evt.EVT_C_FIND, handle_find, ctx),
            (evt.EVT_C_MOVE, handle_move, ctx),
            (evt.EVT_C_GET, handle_get, ctx),
            (evt.EVT_REJECTED, _on_rejected),
            (evt.EVT_ACCEPTED, _on_accepted),
        ]

    def start(self) -> None:
        """Start listening in background threads.

        Raises
        ------
        ConfigError
            When the address cannot be bound (port in use, no permission).
        """
        quiet_pynetdicom()
        with self._lock:
            if self._server is not None:
                return
            ae = build_ae(self.config)
            address = (self.config.host, self.config.port)
            self._committer.start()
            try:
                self._server = self._serve(ae, address)
            except OSError as err:
                self._committer.stop()
                raise ConfigError(f"cannot listen on {address[0]}:{address[1]}: {err}") from None
        log.info("listening as %s on %s:%d", self.config.ae_title, self.config.host, self.port)

    def _serve(self, ae: AE, address: tuple[str, int]) -> ThreadedAssociationServer:
        """pynetdicom's server, with the lean storage path in front of its associations."""
        router = _router(storage_options(self.config, ae), self._ctx, self._committer)
        server = ThreadedAssociationServer(
            ae,
            address,
            ae.ae_title,
            ae.supported_contexts,
            evt_handlers=self._handlers(),
            request_handler=router,
        )
        server.daemon_threads = True  # like pynetdicom's own association threads
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
        thread = threading.Thread(
            target=server.serve_forever, name=f"AcceptorServer@{stamp}", daemon=True
        )
        thread.start()
        ae._servers.append(server)  # so that server.shutdown() finds it there
        return server

    @property
    def port(self) -> int:
        """The port listened on (the one the system chose when configured with 0)."""
        if self._server is None:
            return self.config.port
        return int(self._server.server_address[1])

    def stop(self) -> None:
        """Stop accepting, let running associations end, close the socket."""
        with self._lock:
            server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            self._committer.stop()  # after the server: what is queued still gets committed
            log.info("listener %s stopped", self.config.ae_title)

    def __enter__(self) -> DicomListener:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
