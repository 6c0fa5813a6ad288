"""Durable ingest of one instance: the only way bytes enter the store.

The order is what makes "nothing acknowledged is lost" true: parse the header (without
decoding pixels), write the bytes to the content-addressed blob store and fsync them
(:meth:`~vesalius.store.BlobStore.put`), then commit the index row. Only when this function returns
may the caller acknowledge (C-STORE success, STOW-RS 200). If it raises, nothing was
indexed; a blob written before a failed commit is harmless (content-addressed, re-used on
the next attempt).

Examples
--------
>>> import pathlib, tempfile
>>> from pydicom.data import get_testdata_file
>>> from vesalius.store import BlobStore, open_store, sqlite_url
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> store = open_store(sqlite_url(root / "index.sqlite3"))
>>> data = pathlib.Path(get_testdata_file("MR_small.dcm")).read_bytes()
>>> first = store_instance(data, store=store, blobs=BlobStore(root / "blobs"))
>>> again = store_instance(data, store=store, blobs=BlobStore(root / "blobs"))
>>> first.new, again.new, first.header.series.modality
(True, False, 'MR')
>>> store.close()
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from io import BytesIO
from os import PathLike

from pydicom import dcmread
from pydicom.errors import InvalidDicomError

from vesalius.errors import DicomReadError
from vesalius.io._fastheader import scan_header_bytes
from vesalius.store import (
    BlobRef,
    BlobStore,
    DuplicatePolicy,
    InstanceHeader,
    Store,
    add_instance,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredInstance:
    """An instance that is on disk and indexed.

    Attributes
    ----------
    header
        Its identifying attributes.
    blob
        Where its bytes are.
    new
        False when its SOP Instance UID was already stored and the first copy was kept.
    """

    header: InstanceHeader
    blob: BlobRef
    new: bool


def read_header(data: bytes, *, source: str | PathLike[str] | None = None) -> InstanceHeader:
    """The identifying attributes of a DICOM file's bytes (pixels are not decoded).

    The common case (little endian, a plain character set) is scanned directly, several
    times faster than pydicom; anything else is read by pydicom, with the same result.

    Raises
    ------
    DicomReadError
        When the bytes are not DICOM or lack the UIDs needed to index them.
    """
    raw = scan_header_bytes(data)
    if raw is not None:
        header = InstanceHeader.from_raw(raw, source=source)
        if header is not None:
            return header
    try:
        ds = dcmread(BytesIO(data), stop_before_pixels=True)
    except (InvalidDicomError, EOFError, ValueError, TypeError, KeyError, OverflowError) as err:
        raise DicomReadError(source, f"not a readable DICOM file ({err})") from None
    return InstanceHeader.from_dataset(ds, source=source)


def store_instance(
    data: bytes,
    *,
    store: Store,
    blobs: BlobStore,
    on_duplicate: DuplicatePolicy = DuplicatePolicy.KEEP_FIRST,
    source: str | PathLike[str] | None = None,
    header: InstanceHeader | None = None,
) -> StoredInstance:
    """Write ``data`` durably and index it; return only once both are committed.

    Parameters
    ----------
    data
        The bytes of a DICOM file (with its file meta information).
    store, blobs
        Where it is indexed and kept.
    on_duplicate
        What to do when its SOP Instance UID is already stored.
    source
        Where it came from, named in errors.
    header
        Its header when the caller parsed it already (from :func:`read_header` of the
        same bytes); parsed here otherwise.

    Raises
    ------
    DicomReadError
        When the bytes cannot be indexed; nothing is stored then.
    """
    if header is None:
        header = read_header(data, source=source)
    blob = blobs.put(data)
    with store.session() as session:
        added = add_instance(session, header, blob, on_duplicate=on_duplicate)
    if added.orphaned_blob is not None:
        blobs.delete(added.orphaned_blob)
    return StoredInstance(header, blob, added.created or added.replaced)
