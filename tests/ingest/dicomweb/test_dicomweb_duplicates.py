"""Duplicates by SOP Instance UID: the configured policy decides which copy the index keeps."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pydicom
import pytest
from fastapi.testclient import TestClient

from tests.service.auth.accounts import make_account
from vesalius.errors import ConfigError
from vesalius.ingest.dicomweb.multipart import iter_multipart
from vesalius.service.app import create_app
from vesalius.settings import Settings
from vesalius.store import BlobStore, DuplicatePolicy, open_store, sqlite_url
from vesalius.store.index import find_instance
from vesalius.store.roles import Role

from .conftest import read_test_file

PARTS = 'multipart/related; type="application/dicom"; boundary=xyz'


def _corrected_copy(data: bytes) -> bytes:
    """The same instance (same SOP Instance UID) sent again with a corrected description."""
    ds = pydicom.dcmread(BytesIO(data))
    ds.SeriesDescription = "corrected"
    out = BytesIO()
    ds.save_as(out)
    return out.getvalue()


def _kept_copy(tmp_path: Path, policy: DuplicatePolicy) -> bytes:
    first = read_test_file("CT_small.dcm")
    second = _corrected_copy(first)
    uid = pydicom.dcmread(BytesIO(first)).SOPInstanceUID
    store = open_store(sqlite_url(tmp_path / "index.sqlite3"))
    blobs = BlobStore(tmp_path / "blobs")
    try:
        scanner = make_account(store, Role.SERVICE)
        app = create_app(store, blobs, min_free_bytes=0, on_duplicate=policy)
        with TestClient(app, headers=scanner.bearer) as c:
            for data in (first, second):
                payload = b"".join(
                    iter_multipart([data], boundary="xyz", media_type="application/dicom")
                )
                answer = c.post(
                    "/dicom-web/studies", content=payload, headers={"Content-Type": PARTS}
                )
                assert answer.status_code == 200
        with store.read_session() as session:
            row = find_instance(session, uid)
            assert row is not None
            return blobs.get(row.blob_path)
    finally:
        store.close()


def test_by_default_the_first_copy_is_kept(tmp_path: Path) -> None:
    assert _kept_copy(tmp_path, DuplicatePolicy.KEEP_FIRST) == read_test_file("CT_small.dcm")


def test_with_replace_the_corrected_copy_wins(tmp_path: Path) -> None:
    kept = _kept_copy(tmp_path, DuplicatePolicy.REPLACE)
    assert pydicom.dcmread(BytesIO(kept)).SeriesDescription == "corrected"


def test_the_policy_comes_from_the_settings_and_is_checked() -> None:
    assert Settings(duplicate_policy="replace").duplicate_policy == "replace"
    with pytest.raises(ConfigError, match="duplicate_policy"):
        Settings(duplicate_policy="newest")
