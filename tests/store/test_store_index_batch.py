"""Batched filing (``add_instances``): same index as one by one, duplicates, stale caches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydicom import Dataset, FileMetaDataset
from sqlalchemy import Table, delete, func, select

from vesalius.errors import StoreError
from vesalius.store import BlobRef, DuplicatePolicy, InstanceHeader, Store, add_instance
from vesalius.store._sql import INSERT_CHUNK, insert_rows
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


def _row(instance: Instance) -> dict[str, object]:
    """What a reader of the index sees of an instance, but its row ids."""
    return {
        key: getattr(instance, key)
        for key in Instance.__table__.columns.keys()  # noqa: SIM118 (a ColumnCollection)
        if key not in ("id", "series_pk")
    }


def test_a_batch_writes_the_same_row_as_add_instance(store: Store) -> None:
    """Instance number, transfer syntax, blob and an aware timestamp read back alike."""
    when = datetime(2024, 3, 1, 12, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))

    def header(sop: str) -> InstanceHeader:
        ds = Dataset()
        ds.PatientID, ds.StudyInstanceUID, ds.SeriesInstanceUID = "P1", "1.9.1", "1.9.1.1"
        ds.SOPInstanceUID, ds.SOPClassUID, ds.InstanceNumber = sop, CT, 7
        ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.1"
        return InstanceHeader.from_dataset(ds)

    with store.session() as s:
        add_instance(s, header("1.9.1.1.1"), _blob("a"), received_at=when)
        add_instances(s, [(header("1.9.1.1.2"), _blob("a"))], received_at=when)
    with store.read_session() as s:
        one, batched = find_instance(s, "1.9.1.1.1"), find_instance(s, "1.9.1.1.2")
        assert one is not None
        assert batched is not None
        assert batched.series_pk == one.series_pk
        assert batched.received_at == when.astimezone(UTC)
        assert batched.received_at.tzinfo is UTC
        assert _row(batched) | {"sop_instance_uid": "?"} == _row(one) | {"sop_instance_uid": "?"}
        assert batched.instance_number == 7


def test_a_cached_series_deleted_meanwhile_is_filed_again(store: Store) -> None:
    """Deleted and not re-used: the instance lands in a re-created series, no FK error."""
    parents = ParentCache()
    with store.session() as s:
        add_instances(s, [(_header("1.9.1.1.1"), _blob("a"))], parents=parents)
    with store.session() as s:
        s.execute(delete(Study))
    with store.session() as s:
        (added,) = add_instances(s, [(_header("1.9.1.1.2"), _blob("b"))], parents=parents)
    assert added.created
    assert _filing(store) == [("1.9.1.1.2", "1.9.1.1", "1.9.1", "P1")]


def test_a_cached_study_moved_to_another_patient_is_refused(store: Store) -> None:
    """The cache never files under a study another writer re-filed for another patient."""
    parents = ParentCache()
    with store.session() as s:
        add_instances(s, [(_header("1.9.1.1.1", patient="P1"), _blob("a"))], parents=parents)
    with store.session() as s:
        s.execute(delete(Study))
    with store.session() as s:  # the same study and series UIDs now under P2
        add_instance(s, _header("1.9.1.1.5", patient="P2"), _blob("b"))
    with pytest.raises(StoreError, match="belongs to another patient"), store.session() as s:
        add_instances(s, [(_header("1.9.1.1.2", patient="P1"), _blob("c"))], parents=parents)
    assert _filing(store) == [("1.9.1.1.5", "1.9.1.1", "1.9.1", "P2")]


def test_an_instance_deleted_earlier_in_the_session_is_filed_anew(store: Store) -> None:
    """A pending ORM delete is applied first: re-sending the instance is not a duplicate."""
    parents = ParentCache()
    with store.session() as s:
        add_instances(s, [(_header("1.9.1.1.1"), _blob("a"))], parents=parents)
    with store.session() as s:
        old = find_instance(s, "1.9.1.1.1")
        assert old is not None
        s.delete(old)
        (added,) = add_instances(s, [(_header("1.9.1.1.1"), _blob("b"))], parents=parents)
    assert added.created
    with store.read_session() as s:
        instance = find_instance(s, "1.9.1.1.1")
        assert instance is not None
        assert instance.sha256 == "b" * 64


def test_a_batch_larger_than_one_statement_files_and_dedups_everything(store: Store) -> None:
    """More rows than one INSERT holds: all filed; sent again, all reported duplicates."""
    n = INSERT_CHUNK + 37
    items = [(_header(f"1.9.1.1.{k}"), _blob("a")) for k in range(n)]
    with store.session() as s:
        first = add_instances(s, items)
    with store.session() as s:
        again = add_instances(s, items)
    assert all(a.created for a in first)
    assert len({a.instance_pk for a in first}) == n
    assert not any(a.created for a in again)
    assert [a.instance_pk for a in again] == [a.instance_pk for a in first]
    assert _counts(store) == [1, 1, 1, n]


def test_driver_level_inserts_fill_column_defaults_like_the_orm(store: Store) -> None:
    """A row written by insert_rows gets its creation time and issuer as an ORM row does."""
    before = datetime.now(UTC)
    patients = Patient.__table__
    assert isinstance(patients, Table)
    with store.session() as s:
        inserted = insert_rows(
            s,
            patients,
            [{"patient_id": "P9", "name": "Roe^Richard"}],
            on_conflict_nothing="patient_id, issuer",
            returning=("id", "patient_id"),
        )
        again = insert_rows(
            s,
            patients,
            [{"patient_id": "P9", "name": "Roe^Richard"}],
            on_conflict_nothing="patient_id, issuer",
        )
    assert [row[1] for row in inserted] == ["P9"]
    assert again == []
    with store.read_session() as s:
        patient = s.scalars(select(Patient)).one()
        assert (patient.patient_id, patient.issuer) == ("P9", "")
        assert before <= patient.created_at <= datetime.now(UTC)
