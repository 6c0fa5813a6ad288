"""What a listener needs to know: its AE title and port, who may call, and its peers.

Examples
--------
>>> config = ListenerConfig(allowed_calling_aes=("CT1",), peers=())
>>> config.calling_aes(), config.port
(('CT1',), 11112)
>>> ListenerConfig(port=70000)
Traceback (most recent call last):
...
vesalius.errors.ConfigError: port must be 0..65535 (0: any free port), found 70000
"""

from __future__ import annotations

from dataclasses import dataclass

from vesalius.errors import ConfigError
from vesalius.settings import DicomPeer, Settings, check_ae_title
from vesalius.store import DuplicatePolicy


@dataclass(frozen=True)
class ListenerConfig:
    """Options of the DICOM listener (see :class:`~vesalius.settings.Settings`).

    Parameters
    ----------
    ae_title, host, port
        Our AE title and where we listen (port 0: any free port).
    peers
        Known nodes: allowed to call us, and the only C-MOVE destinations.
    allowed_calling_aes
        More AE titles allowed to call us.
    accept_any_calling_ae
        Accept any calling AE title (tests, demos).
    min_free_bytes
        Refuse instances (A700) when the blob store has less free space than this.
    max_associations
        How many associations may be open at once.
    max_pdu
        Largest PDU we accept (0: no limit); large PDUs cut per-PDU overhead.
    on_duplicate
        What to do with an instance whose SOP Instance UID is already stored.
    ingest_journal
        Make instances received one at a time durable through the ingest journal
        (:mod:`vesalius.store.journal`); instances received at the same time, and all of
        them without it, have each blob fsynced and each index commit flushed before the
        answer (see :mod:`~vesalius.ingest.dimse.group_commit`).
    """

    ae_title: str = "VESALIUS"
    host: str = "0.0.0.0"
    port: int = 11112
    peers: tuple[DicomPeer, ...] = ()
    allowed_calling_aes: tuple[str, ...] = ()
    accept_any_calling_ae: bool = False
    min_free_bytes: int = 1 << 30
    max_associations: int = 32
    max_pdu: int = 4 << 20
    on_duplicate: DuplicatePolicy = DuplicatePolicy.KEEP_FIRST
    ingest_journal: bool = True

    def __post_init__(self) -> None:
        check_ae_title(self.ae_title)
        if not 0 <= self.port < 65536:
            raise ConfigError(f"port must be 0..65535 (0: any free port), found {self.port}")
        if self.max_associations < 1:
            raise ConfigError(f"max_associations must be positive, found {self.max_associations}")

    @classmethod
    def from_settings(cls, settings: Settings) -> ListenerConfig:
        """The listener options of ``settings``."""
        return cls(
            ae_title=settings.ae_title,
            host=settings.dicom_host,
            port=settings.dicom_port,
            peers=settings.peers,
            allowed_calling_aes=settings.allowed_calling_aes,
            accept_any_calling_ae=settings.accept_any_calling_ae,
            min_free_bytes=settings.min_free_bytes,
            on_duplicate=DuplicatePolicy(settings.duplicate_policy),
            ingest_journal=settings.ingest_journal,
        )

    def calling_aes(self) -> tuple[str, ...]:
        """The AE titles allowed to call (empty with ``accept_any_calling_ae``)."""
        if self.accept_any_calling_ae:
            return ()
        titles = [a.strip() for a in self.allowed_calling_aes]
        titles += [p.ae_title.strip() for p in self.peers]
        return tuple(dict.fromkeys(titles))

    def destination(self, ae_title: str) -> DicomPeer | None:
        """The peer a C-MOVE to ``ae_title`` goes to, if it is known."""
        title = ae_title.strip()
        return next((p for p in self.peers if p.ae_title.strip() == title), None)
