"""Fixtures of the DIMSE tests: a store and a listener on 127.0.0.1, on a free port."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from vesalius.ingest.dimse.config import ListenerConfig
from vesalius.ingest.dimse.scp import DicomListener
from vesalius.settings import DicomPeer
from vesalius.store import BlobStore, Store, open_store, sqlite_url

CALLER = "TESTSCU"


@dataclass
class Served:
    """A running listener and what it stores into."""

    listener: DicomListener
    store: Store
    blobs: BlobStore

    @property
    def peer(self) -> DicomPeer:
        return DicomPeer("vesalius", self.listener.config.ae_title, "127.0.0.1", self.listener.port)


def serve(tmp_path: Path, **options: object) -> Iterator[Served]:
    store = open_store(sqlite_url(tmp_path / "index.sqlite3"))
    blobs = BlobStore(tmp_path / "blobs")
    settings: dict[str, object] = {
        "host": "127.0.0.1",
        "port": 0,
        "allowed_calling_aes": (CALLER,),
        "min_free_bytes": 0,
    }
    config = ListenerConfig(**(settings | options))  # type: ignore[arg-type]
    listener = DicomListener(config, store=store, blobs=blobs)
    listener.start()
    try:
        yield Served(listener, store, blobs)
    finally:
        listener.stop()
        store.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    yield from serve(tmp_path)
