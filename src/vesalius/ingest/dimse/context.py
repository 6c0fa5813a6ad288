"""What every listener handler needs: the options, the store, the blobs, and a callback."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from vesalius.ingest.dimse.config import ListenerConfig
from vesalius.ingest.durable import StoredInstance
from vesalius.store import BlobStore, Store
from vesalius.store.audit import AuditRecord, append_event
from vesalius.store.states import AuditOutcome

log = logging.getLogger(__name__)

#: Called after each instance is stored and before it is acknowledged.
OnStored = Callable[[StoredInstance], None]


@dataclass(frozen=True)
class ServiceContext:
    """The listener's options and where instances go."""

    config: ListenerConfig
    store: Store
    blobs: BlobStore
    on_stored: OnStored | None = None

    def audit(self, record: AuditRecord) -> None:
        """Append ``record`` to the audit trail; a failure is logged, never raised."""
        try:
            with self.store.session() as session:
                append_event(session, record)
        except Exception:  # the audit must not take the listener down
            log.exception("cannot write audit event %s %s", record.action, record.object_id)


def peer_of(event: object) -> tuple[str, str]:
    """The calling AE title and ``address:port`` of an event's association."""
    requestor = event.assoc.requestor  # type: ignore[attr-defined]
    return str(requestor.ae_title).strip(), f"{requestor.address}:{requestor.port}"


def audit_record(
    event: object, action: str, object_id: str, *, ok: bool, detail: str
) -> AuditRecord:
    """An audit record of an action a calling AE asked for."""
    ae, address = peer_of(event)
    return AuditRecord(
        who=f"dicom:{ae}",
        action=action,
        object_type="study",
        object_id=object_id,
        source=address,
        outcome=AuditOutcome.SUCCESS if ok else AuditOutcome.FAILURE,
        detail=detail,
    )
