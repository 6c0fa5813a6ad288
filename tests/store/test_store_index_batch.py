"""Batched filing (``add_instances``): same index as one by one, duplicates, stale caches."""

from __future__ import annotations

import pytest
from pydicom import Dataset
from sqlalchemy import delete, func, select

from vesalius.errors import StoreError
from vesalius.store import BlobRef, DuplicatePolicy, InstanceHeader, Store, add_instance
from vesalius.store.index import ParentCache, add_instances, find_instance
from vesalius.store.models import Instance, Patient, Series, Study

CT = "1.2.840.10008.5.1.4.1.1.2"


def _header(
    sop: str, *, study: str = "1.9.1", series: str = "1.9.1.1", patient: str = "P1"
) -> InstanceHeader:
    ds = Dataset()
    ds.PatientID, ds.PatientName, ds.Modality = patient, "Doe^Jane", "CT"
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID = study, series, sop
    ds.SOPClassUID, ds.StudyDate = CT, "20240115"
    return InstanceHeader.from_dataset(ds)


def _blob(tag: str) -> BlobRef:
    return BlobRef(path=f"aa/bb/{tag * 64}.dcm", size=10, sha256=tag * 64)


def _counts(store: Store) -> list[int]:
    with store.read_session() as s:
        return [
            s.scalar(select(func.count()).select_from(m)) or 0
            for m in (Patient, Study, Series, Instance)
        ]


def _filing(store: Store) -> list[tuple[str, str, str, str]]:
    """Each instance with its series, study and patient, as the index files it."""
    stmt = (
        select(Instance.sop_instance_uid, Series.series_uid, Study.study_uid, Patient.patient_id)
        .join(Series, Instance.series_pk == Series.id)
        .join(Study, Series.study_pk == Study.id)
        .join(Patient, Study.patient_pk == Patient.id)
        .order_by(Instance.sop_instance_uid)
    )
    with store.read_session() as s:
        return [(a, b, c, d) for a, b, c, d in s.execute(stmt)]


def test_a_batch_files_instances_like_one_by_one(store: Store) -> None:
    """Two series of two patients in one batch: the same patients, studies and series rows."""
    items = [
        (_header("1.9.1.1.1"), _blob("a")),
        (_header("1.9.2.1.1", study="1.9.2", series="1.9.2.1", patient="P2"), _blob("b")),
        (_header("1.9.1.1.2"), _blob("c")),
    ]
    with store.session() as s:
        added = add_instances(s, items)
    assert [a.created for a in added] == [True, True, True]
    assert len({a.instance_pk for a in added}) == 3
    assert _counts(store) == [2, 2, 2, 3]
    assert _filing(store) == [
        ("1.9.1.1.1", "1.9.1.1", "1.9.1", "P1"),
        ("1.9.1.1.2", "1.9.1.1", "1.9.1", "P1"),
        ("1.9.2.1.1", "1.9.2.1", "1.9.2", "P2"),
    ]


def test_a_resent_instance_keeps_the_first_copy_in_and_across_batches(store: Store) -> None:
    """A sender retrying: the first bytes stay indexed, the retry reports created=False."""
    with store.session() as s:
        add_instance(s, _header("1.9.1.1.1"), _blob("a"))
    items = [
        (_header("1.9.1.1.1"), _blob("b")),
        (_header("1.9.1.1.2"), _blob("c")),
        (_header("1.9.1.1.2"), _blob("d")),
    ]
    with store.session() as s:
        added = add_instances(s, items)
    assert [a.created for a in added] == [False, True, False]
    assert added[1].instance_pk == added[2].instance_pk
    with store.read_session() as s:
        first, second = find_instance(s, "1.9.1.1.1"), find_instance(s, "1.9.1.1.2")
        assert first is not None
        assert second is not None
        assert (first.sha256, second.sha256) == ("a" * 64, "c" * 64)
    assert _counts(store) == [1, 1, 1, 2]


def test_replace_in_a_batch_points_at_the_new_blob_and_names_the_old(store: Store) -> None:
    """REPLACE through a batch behaves as add_instance: new blob indexed, old one orphaned."""
    with store.session() as s:
        add_instance(s, _header("1.9.1.1.1"), _blob("a"))
    with store.session() as s:
        (added,) = add_instances(
            s, [(_header("1.9.1.1.1"), _blob("b"))], on_duplicate=DuplicatePolicy.REPLACE
        )
    assert (added.created, added.replaced, added.orphaned_blob) == (False, True, _blob("a").path)
    with store.read_session() as s:
        instance = find_instance(s, "1.9.1.1.1")
        assert instance is not None
        assert instance.sha256 == "b" * 64


def test_a_study_claimed_by_another_patient_fails_the_batch(store: Store) -> None:
    """The batch raises StoreError and, rolled back, leaves nothing of itself behind."""
    with store.session() as s:
        add_instance(s, _header("1.9.1.1.1", patient="P1"), _blob("a"))
    items = [(_header("1.9.1.1.2"), _blob("b")), (_header("1.9.1.1.3", patient="P2"), _blob("c"))]
    with pytest.raises(StoreError, match="belongs to another patient"), store.session() as s:
        add_instances(s, items)
    assert _counts(store) == [1, 1, 1, 1]


def test_a_cached_series_deleted_meanwhile_is_filed_again_not_lost(store: Store) -> None:
    """The writer's cache never files an instance under a series someone else deleted."""
    parents = ParentCache()
    with store.session() as s:
        add_instances(s, [(_header("1.9.1.1.1"), _blob("a"))], parents=parents)
    with store.session() as s:  # an administrator deletes the study between two batches
        s.execute(delete(Study))
    with store.session() as s:  # a new series takes over the freed row ids
        add_instance(s, _header("1.8.1.1.1", study="1.8.1", series="1.8.1.1"), _blob("b"))
    with store.session() as s:
        (added,) = add_instances(s, [(_header("1.9.1.1.2"), _blob("c"))], parents=parents)
    assert added.created
    assert ("1.9.1.1.2", "1.9.1.1", "1.9.1", "P1") in _filing(store)
    assert _counts(store) == [1, 2, 2, 2]


def test_an_empty_batch_does_nothing(store: Store) -> None:
    """A group commit with nothing in it writes no row."""
    with store.session() as s:
        assert add_instances(s, []) == []
    assert _counts(store) == [0, 0, 0, 0]
