"""Folder import: what a user dropping a folder of files into Vesalius would check."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydicom.data import get_testdata_file

from vesalius.errors import InputError
from vesalius.ingest.folder import import_files, iter_files
from vesalius.store import BlobStore, Store, open_store, sqlite_url
from vesalius.store.index import find_instance


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(sqlite_url(tmp_path / "index.sqlite3"))
    yield opened
    opened.close()


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "incoming"
    (folder / "nested").mkdir(parents=True)
    for name in ("CT_small.dcm", "MR_small.dcm"):
        source = Path(str(get_testdata_file(name)))
        (folder / "nested" / name).write_bytes(source.read_bytes())
    (folder / "notes.txt").write_text("not an image")
    return folder


def test_a_broken_file_is_listed_and_the_rest_are_stored(store: Store, tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path / "blobs")
    result = import_files(iter_files(_folder(tmp_path)), store=store, blobs=blobs)
    assert result.stored == 2
    assert len(result.study_uids) == 2
    assert [Path(p.path).name for p in result.problems] == ["notes.txt"]
    assert "DICOM" in result.problems[0].problem


def test_stored_bytes_are_the_file_bytes(store: Store, tmp_path: Path) -> None:
    """What the index points to must be exactly what was received."""
    blobs = BlobStore(tmp_path / "blobs")
    folder = _folder(tmp_path)
    import_files(iter_files(folder), store=store, blobs=blobs)
    ct = folder / "nested" / "CT_small.dcm"
    from pydicom import dcmread

    uid = dcmread(ct, stop_before_pixels=True).SOPInstanceUID
    with store.read_session() as session:
        row = find_instance(session, uid)
        assert row is not None
        assert blobs.get(row.blob_path) == ct.read_bytes()


def test_importing_twice_counts_duplicates_and_stores_nothing_new(
    store: Store, tmp_path: Path
) -> None:
    blobs = BlobStore(tmp_path / "blobs")
    folder = _folder(tmp_path)
    import_files(iter_files(folder), store=store, blobs=blobs)
    again = import_files(iter_files(folder), store=store, blobs=blobs)
    assert (again.stored, again.duplicates) == (0, 2)


def test_a_missing_folder_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file or folder"):
        list(iter_files(tmp_path / "absent"))
