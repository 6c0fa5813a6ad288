"""Instance headers read from the blob store, cached by content address.

The index does not hold every attribute QIDO-RS must return at the instance level (Rows,
Columns, BitsAllocated, NumberOfFrames): they are read from the stored file's header,
without its pixel data. Blobs are content-addressed and never change, so a header read once
stays right: :class:`HeaderCache` keeps the most recently used ones.

Examples
--------
>>> import pathlib, tempfile
>>> from pydicom.data import get_testdata_file
>>> from vesalius.store import BlobStore
>>> blobs = BlobStore(tempfile.mkdtemp())
>>> ref = blobs.put(pathlib.Path(get_testdata_file("CT_small.dcm")).read_bytes())
>>> cache = HeaderCache(blobs)
>>> ds = cache.header(ref.path)
>>> ds.Rows, "PixelData" in ds, cache.header(ref.path) is ds
(128, False, True)
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict

from pydicom import Dataset, dcmread
from pydicom.errors import InvalidDicomError

from vesalius.errors import StoreError
from vesalius.store import BlobStore

log = logging.getLogger(__name__)


class HeaderCache:
    """Headers (no pixel data) of stored blobs, least recently used ones dropped first.

    Parameters
    ----------
    blobs
        The blob store the paths are in.
    size
        How many headers to keep.
    """

    def __init__(self, blobs: BlobStore, *, size: int = 4096) -> None:
        self.blobs = blobs
        self.size = size
        self._cache: OrderedDict[str, Dataset] = OrderedDict()
        self._lock = threading.Lock()

    def header(self, path: str) -> Dataset:
        """The header of blob ``path`` (read-only by convention: callers must not modify it).

        Raises
        ------
        StoreError
            The blob is missing or is not readable DICOM.
        """
        with self._lock:
            if path in self._cache:
                self._cache.move_to_end(path)
                return self._cache[path]
        ds = self._read(path)
        with self._lock:
            self._cache[path] = ds
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)
        return ds

    def _read(self, path: str) -> Dataset:
        file = self.blobs.locate(path)
        try:
            return dcmread(file, stop_before_pixels=True)
        except (OSError, InvalidDicomError, EOFError, ValueError) as err:
            raise StoreError(f"{file}: cannot read the stored header: {err}") from None
