"""The reporting tests run on both databases (SQLite and PostgreSQL, as the store tests do).

The ``store`` fixture and the PostgreSQL server come from ``tests/store/conftest.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.store.conftest import (  # noqa: F401  (fixtures used by name)
    postgres_migrated_template,
    postgres_server,
    store,
)
from vesalius.store import BlobStore


@pytest.fixture
def blobs(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "blobs")
