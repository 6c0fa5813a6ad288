"""The listener's C-ECHO, C-STORE and C-FIND handlers (C-MOVE and C-GET: ``retrieve_scp``).

A handler never raises: each failure is logged and answered with a DICOM status, so a
malformed request never takes the listener down. C-STORE answers success only once the blob
is fsynced and its index row committed: through the listener's
:class:`~vesalius.ingest.dimse.group_commit.GroupCommitter` (one transaction for the
instances of all associations that arrived meanwhile) or
:func:`~vesalius.ingest.durable.store_instance`. The header is parsed once per instance.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from pydicom import Dataset
from sqlalchemy.exc import SQLAlchemyError

from vesalius.errors import DicomReadError, InputError, StoreError
from vesalius.ingest.dimse import status
from vesalius.ingest.dimse.catalog import find_records
from vesalius.ingest.dimse.context import ServiceContext, audit_record, peer_of
from vesalius.ingest.dimse.group_commit import GroupCommitter
from vesalius.ingest.dimse.identifiers import level_of, query_of, response_for
from vesalius.ingest.durable import StoredInstance, read_header, store_instance
from vesalius.store import InstanceHeader

log = logging.getLogger(__name__)


def handle_echo(event: Any, ctx: ServiceContext) -> int:
    """C-ECHO: always success."""
    log.debug("C-ECHO from %s at %s", *peer_of(event))
    return status.SUCCESS


def _mismatch(header: InstanceHeader, sop_class: str, sop_instance: str) -> str | None:
    """Why the data set does not match the C-STORE request, or ``None``."""
    sent = (header.instance.sop_class_uid, header.instance.sop_instance_uid)
    asked = (sop_class, sop_instance)
    if sent != asked:
        return f"data set has SOP class/instance {sent}, the request says {asked}"
    return None


def _store(
    data: bytes,
    asked: tuple[str, str],
    ctx: ServiceContext,
    source: str,
    committer: GroupCommitter | None,
) -> tuple[int, StoredInstance | None]:
    if ctx.blobs.free_bytes() < ctx.config.min_free_bytes:
        log.error(
            "C-STORE from %s refused: free disk below %d bytes", source, ctx.config.min_free_bytes
        )
        return status.OUT_OF_RESOURCES, None
    header = read_header(data, source=source)  # parsed once: checked here, indexed below
    problem = _mismatch(header, *asked)
    if problem is not None:
        log.warning("C-STORE from %s refused: %s", source, problem)
        return status.DATASET_MISMATCH, None
    if committer is not None:
        return status.SUCCESS, committer.store(data, header=header)
    stored = store_instance(data, store=ctx.store, blobs=ctx.blobs, source=source, header=header)
    return status.SUCCESS, stored


def store_received(
    data: bytes,
    asked: tuple[str, str],
    *,
    ctx: ServiceContext,
    source: str,
    committer: GroupCommitter | None = None,
) -> int:
    """Store a received instance durably, then return the C-STORE status to answer with.

    ``data`` is the DICOM file (File Meta Information and data set) and ``asked`` the
    request's Affected SOP Class and Instance UIDs. Never raises: failures are logged and
    mapped to statuses. With a ``committer`` the index row is committed in a group commit.
    """
    try:
        code, stored = _store(data, asked, ctx, source, committer)
    except DicomReadError as err:
        log.warning("C-STORE from %s refused: %s", source, err.problem)
        return status.CANNOT_UNDERSTAND
    except StoreError as err:
        low = ctx.blobs.free_bytes() < ctx.config.min_free_bytes
        log.error("C-STORE from %s failed: %s", source, err)
        return status.OUT_OF_RESOURCES if low else status.STORE_REFUSED
    except (SQLAlchemyError, OSError) as err:
        log.error("C-STORE from %s failed: index or disk unavailable: %s", source, err)
        return status.OUT_OF_RESOURCES
    except (RecursionError, MemoryError) as err:
        log.warning("C-STORE from %s refused: data set too deep or too large (%s)", source, err)
        return status.CANNOT_UNDERSTAND
    except Exception:  # a malformed data set must never kill the listener
        log.exception("C-STORE from %s failed unexpectedly", source)
        return status.PROCESSING_FAILURE
    if stored is not None:
        log.debug("stored %s from %s", stored.header.instance.sop_instance_uid, source)
        _notify(ctx, stored)
    return code


def handle_store(event: Any, ctx: ServiceContext, committer: GroupCommitter | None = None) -> int:
    """C-STORE (pynetdicom): store durably, then answer; see :func:`store_received`."""
    ae, address = peer_of(event)
    source = f"{ae}@{address}"
    try:
        data = event.encoded_dataset(include_meta=True)
        asked = (str(event.request.AffectedSOPClassUID), str(event.request.AffectedSOPInstanceUID))
    except Exception:  # a request pynetdicom could not give us whole
        log.exception("C-STORE from %s: unreadable request", source)
        return status.PROCESSING_FAILURE
    return store_received(data, asked, ctx=ctx, source=source, committer=committer)


def _notify(ctx: ServiceContext, stored: StoredInstance) -> None:
    if ctx.on_stored is None:
        return
    try:
        ctx.on_stored(stored)
    except Exception:  # the instance is stored; a failing observer must not undo the answer
        log.exception("on_stored callback failed for %s", stored.header.instance.sop_instance_uid)


def handle_find(event: Any, ctx: ServiceContext) -> Iterator[tuple[int, Dataset | None]]:
    """C-FIND: match the index, one pending response per record, then success."""
    try:
        identifier = event.identifier
        level = level_of(identifier)
        query = query_of(identifier)
        with ctx.store.read_session() as session:
            records = find_records(session, level, query)
    except InputError as err:
        log.warning("C-FIND from %s refused: %s", peer_of(event)[0], err.problem)
        yield status.IDENTIFIER_MISMATCH, None
        return
    except Exception:
        log.exception("C-FIND from %s failed", peer_of(event)[0])
        yield status.UNABLE_TO_PROCESS, None
        return
    ctx.audit(
        audit_record(
            event,
            "query",
            query.get("StudyInstanceUID", "") or "*",
            ok=True,
            detail=f"C-FIND {level} {len(records)} matches",
        )
    )
    for record in records:
        if event.is_cancelled:
            yield status.CANCEL, None
            return
        yield status.PENDING, response_for(identifier, record, ae_title=ctx.config.ae_title)
