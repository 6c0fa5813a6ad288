"""The listener's C-MOVE and C-GET handlers: send stored instances, bytes from the blob store.

The instances to send are the IMAGE-level records matching the request's unique keys
(PatientID, StudyInstanceUID, SeriesInstanceUID, SOPInstanceUID). Each one's bytes are read
from the blob store, which verifies them against their SHA-256, and parsed without decoding
pixels; a blob that fails its check is a failed sub-operation, logged. C-MOVE goes only to
a peer of the settings, looked up by the Move Destination AE title.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from io import BytesIO
from typing import Any

from pydicom import Dataset, dcmread

from vesalius.errors import InputError, StoreError
from vesalius.ingest.dimse import status
from vesalius.ingest.dimse.catalog import Level, Record, find_records
from vesalius.ingest.dimse.context import ServiceContext, audit_record, peer_of
from vesalius.ingest.dimse.identifiers import level_of, query_of
from vesalius.ingest.dimse.syntaxes import contexts_for

log = logging.getLogger(__name__)

_UNIQUE = ("PatientID", "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID")


def records_to_send(ctx: ServiceContext, identifier: Dataset) -> list[Record]:
    """The stored instances a C-MOVE / C-GET identifier names.

    Raises
    ------
    InputError
        When the level is bad or no unique key is given (we do not send everything).
    """
    level = level_of(identifier)
    query = {k: v for k, v in query_of(identifier).items() if k in _UNIQUE and v}
    if not query:
        raise InputError(None, f"{level} retrieve without any of {', '.join(_UNIQUE)}")
    with ctx.store.read_session() as session:
        return find_records(session, Level.IMAGE, query)


def load(ctx: ServiceContext, record: Record) -> Dataset | None:
    """The data set of ``record`` from its verified blob, or ``None`` (logged)."""
    try:
        data = ctx.blobs.get(record.blob_path or "")
        return dcmread(BytesIO(data))
    except StoreError as err:
        log.error("cannot send %s: %s", record.values.get("SOPInstanceUID"), err)
    except Exception as err:
        log.error("cannot parse stored %s: %s", record.values.get("SOPInstanceUID"), err)
    return None


def _records(event: Any, ctx: ServiceContext, kind: str) -> list[Record] | None:
    try:
        return records_to_send(ctx, event.identifier)
    except InputError as err:
        log.warning("%s from %s refused: %s", kind, peer_of(event)[0], err.problem)
    except Exception:
        log.exception("%s from %s failed", kind, peer_of(event)[0])
    return None


def _study_of(records: list[Record]) -> str:
    uids = sorted({str(r.values.get("StudyInstanceUID")) for r in records})
    return uids[0] if len(uids) == 1 else f"{len(uids)} studies"


def _send_all(event: Any, ctx: ServiceContext, records: list[Record]) -> Iterator[Any]:
    for record in records:
        if event.is_cancelled:
            yield status.CANCEL, None
            return
        dataset = load(ctx, record)
        # a non-data-set pending value makes pynetdicom count a failed sub-operation
        yield status.PENDING, dataset if dataset is not None else "unreadable"


def handle_move(event: Any, ctx: ServiceContext) -> Iterator[Any]:
    """C-MOVE: look up the destination among the peers, then send the instances there."""
    destination = ctx.config.destination(str(event.move_destination))
    if destination is None:
        log.warning(
            "C-MOVE from %s refused: unknown destination %r",
            peer_of(event)[0],
            str(event.move_destination).strip(),
        )
        yield None, None
        return
    records = _records(event, ctx, "C-MOVE")
    if records is None:  # pynetdicom wants the destination first; then nothing to send
        yield destination.host, destination.port
        yield 0
        return
    pairs = [(str(r.values["SOPClassUID"]), r.transfer_syntax_uid) for r in records]
    yield destination.host, destination.port, {"contexts": contexts_for(pairs)}
    yield len(records)
    detail = f"C-MOVE {len(records)} instances to {destination.ae_title}"
    ctx.audit(audit_record(event, "export", _study_of(records), ok=True, detail=detail))
    yield from _send_all(event, ctx, records)


def handle_get(event: Any, ctx: ServiceContext) -> Iterator[Any]:
    """C-GET: send the instances back over the caller's association."""
    records = _records(event, ctx, "C-GET")
    if records is None:
        yield 0
        return
    yield len(records)
    detail = f"C-GET {len(records)} instances"
    ctx.audit(audit_record(event, "export", _study_of(records), ok=True, detail=detail))
    yield from _send_all(event, ctx, records)
