"""A store filled from pydicom's test files, and the DICOMweb routes over it.

The files: CT_small (CT, native), MR_small (MR, native), a JPEG 2000 lossless copy of
MR_small in its own series of the same study (same pixels, compressed), US1_J2KR (US, JPEG
2000, RGB), emri_small (enhanced MR, 10 frames) and SC_rgb_jpeg_dcmtk (JPEG baseline, RGB).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydicom import dcmread
from pydicom.data import get_testdata_file

from vesalius.ingest.dicomweb.context import DicomWebOptions
from vesalius.ingest.dicomweb.router import make_router
from vesalius.ingest.durable import store_instance
from vesalius.store import BlobStore, Store, open_store, sqlite_url

NAMES = ("CT_small.dcm", "MR_small.dcm", "US1_J2KR.dcm", "emri_small.dcm", "SC_rgb_jpeg_dcmtk.dcm")
JP2K_SERIES = "1.2.826.0.1.3680043.8.498.777.1"
JP2K_SOP = "1.2.826.0.1.3680043.8.498.777.1.1"


def read_test_file(name: str) -> bytes:
    return Path(str(get_testdata_file(name))).read_bytes()


def jp2k_copy_of_mr() -> bytes:
    """MR_small_jp2klossless with its own series and SOP Instance UIDs (pixels untouched)."""
    ds = dcmread(BytesIO(read_test_file("MR_small_jp2klossless.dcm")))
    ds.SeriesInstanceUID, ds.SOPInstanceUID = JP2K_SERIES, JP2K_SOP
    ds.file_meta.MediaStorageSOPInstanceUID = JP2K_SOP
    ds.SeriesNumber = 99
    out = BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


@pytest.fixture(scope="session")
def test_files() -> dict[str, bytes]:
    """name -> bytes of every file the filled store holds."""
    files = {name: read_test_file(name) for name in NAMES}
    files["MR_jp2k"] = jp2k_copy_of_mr()
    return files


@dataclass
class Served:
    """A store, its blob store, and a TestClient over the DICOMweb routes."""

    store: Store
    blobs: BlobStore
    client: TestClient
    app: FastAPI


def build_app(store: Store, blobs: BlobStore, **options: int) -> FastAPI:
    app = FastAPI()
    app.include_router(make_router(store, blobs, options=DicomWebOptions(**options)))
    return app


@pytest.fixture
def empty(tmp_path: Path) -> Iterator[Served]:
    """The routes over an empty store."""
    store = open_store(sqlite_url(tmp_path / "index.sqlite3"))
    blobs = BlobStore(tmp_path / "blobs")
    app = build_app(store, blobs)
    with TestClient(app) as client:
        yield Served(store, blobs, client, app)
    store.close()


@pytest.fixture
def filled(empty: Served, test_files: dict[str, bytes]) -> Served:
    """The routes over a store holding every test file."""
    for data in test_files.values():
        store_instance(data, store=empty.store, blobs=empty.blobs)
    return empty


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Run ``app`` with uvicorn on 127.0.0.1 in a thread; yield its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
