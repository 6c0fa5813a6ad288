"""What every DICOMweb route needs: the store, the blob store, options, and error mapping.

Examples
--------
>>> DicomWebOptions(max_body_bytes=0)
Traceback (most recent call last):
...
vesalius.errors.ConfigError: max_body_bytes must be positive, got 0
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from fastapi import HTTPException, Request

from vesalius.errors import ConfigError, InputError, StoreError, UnsupportedError
from vesalius.ingest.dicomweb.headers import HeaderCache
from vesalius.store import BlobStore, DuplicatePolicy, Store

log = logging.getLogger(__name__)

DICOM_JSON = "application/dicom+json"


@dataclass(frozen=True)
class DicomWebOptions:
    """Options of the DICOMweb routes.

    Parameters
    ----------
    prefix
        Where the routes are mounted (``/dicom-web``); used to build RetrieveURLs.
    min_free_bytes
        STOW-RS answers 507 when the blob store's file system has less free space than this
        plus the size of the request.
    max_body_bytes
        The largest STOW-RS request body accepted (413 above it). The body is held in
        memory while its parts are split and stored, so this bounds memory per request.
    header_cache_size
        How many instance headers QIDO-RS and metadata requests keep in memory.
    on_duplicate
        What STOW-RS does with an instance whose SOP Instance UID is already stored.
    """

    prefix: str = "/dicom-web"
    min_free_bytes: int = 0
    max_body_bytes: int = 1 << 30
    header_cache_size: int = 4096
    on_duplicate: DuplicatePolicy = DuplicatePolicy.KEEP_FIRST

    def __post_init__(self) -> None:
        if self.max_body_bytes <= 0:
            raise ConfigError(f"max_body_bytes must be positive, got {self.max_body_bytes}")
        if self.min_free_bytes < 0:
            raise ConfigError(f"min_free_bytes must not be negative, got {self.min_free_bytes}")
        if self.prefix and (not self.prefix.startswith("/") or self.prefix.endswith("/")):
            raise ConfigError(f"prefix must start and not end with '/', got {self.prefix!r}")


@dataclass
class DicomWebContext:
    """The store, blob store and options the routes share, with a header cache."""

    store: Store
    blobs: BlobStore
    options: DicomWebOptions = field(default_factory=DicomWebOptions)
    headers: HeaderCache = field(init=False)

    def __post_init__(self) -> None:
        self.headers = HeaderCache(self.blobs, size=self.options.header_cache_size)

    def root(self, request: Request) -> str:
        """The absolute URL of the DICOMweb root for this request (for RetrieveURLs)."""
        return str(request.base_url).rstrip("/") + self.options.prefix


@contextmanager
def http_errors() -> Iterator[None]:
    """Turn Vesalius errors into HTTP answers: 400, 406 (unsupported), 500 (store)."""
    try:
        yield
    except UnsupportedError as err:
        raise HTTPException(status_code=406, detail=str(err)) from None
    except InputError as err:
        raise HTTPException(status_code=400, detail=str(err)) from None
    except StoreError as err:
        log.error("DICOMweb: %s", err)
        raise HTTPException(status_code=500, detail=f"the store failed: {err}") from None


def not_found(what: str) -> HTTPException:
    """A 404 naming what was not found."""
    return HTTPException(status_code=404, detail=f"{what} not found")
