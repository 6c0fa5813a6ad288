"""Filing instances under patient/study/series, duplicates, and the study listing."""

from __future__ import annotations

import threading
import warnings
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from pydicom import Dataset, FileMetaDataset, dcmread
from pydicom.data import get_testdata_file
from pydicom.uid import ExplicitVRLittleEndian
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from vesalius.errors import DicomReadError, InputError, StoreError
from vesalius.store import (
    BlobRef,
    DuplicatePolicy,
    InstanceHeader,
    Store,
    StudyQuery,
    add_instance,
    list_studies,
)
from vesalius.store.index import find_instance, list_instances
from vesalius.store.models import Instance, Patient, Series, Study

CT = "1.2.840.10008.5.1.4.1.1.2"


def _header(
    sop: str,
    *,
    study: str = "1.9.1",
    series: str = "1.9.1.1",
    patient: str = "P1",
    name: str = "Doe^Jane",
    modality: str = "CT",
    study_date: str = "20240115",
    accession: str = "ACC1",
) -> InstanceHeader:
    ds = Dataset()
    ds.PatientID, ds.PatientName, ds.Modality = patient, name, modality
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID = study, series, sop
    ds.SOPClassUID, ds.StudyDate, ds.AccessionNumber = CT, study_date, accession
    return InstanceHeader.from_dataset(ds)


def _blob(tag: str) -> BlobRef:
    return BlobRef(path=f"aa/bb/{tag * 64}.dcm"[:76], size=10, sha256=tag * 64)


def _count(store: Store, model: type[Patient | Study | Series | Instance]) -> int:
    with store.read_session() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_real_dicom_file_is_filed_with_its_identity(store: Store) -> None:
    """A real CT file from pydicom's test data is indexed under its own UIDs."""
    path = get_testdata_file("CT_small.dcm")
    assert path is not None
    ds = dcmread(path, stop_before_pixels=True)
    header = InstanceHeader.from_dataset(ds, source=path)
    with store.session() as s:
        add_instance(s, header, _blob("a"))
    with store.read_session() as s:
        instance = find_instance(s, str(ds.SOPInstanceUID))
        assert instance is not None
        assert instance.transfer_syntax_uid == str(ds.file_meta.TransferSyntaxUID)
        assert instance.series.study.study_uid == str(ds.StudyInstanceUID)
        assert instance.series.study.patient.patient_id == str(ds.PatientID)


def test_header_without_uids_is_a_dicom_read_error() -> None:
    """A file missing its SOP Instance UID is refused, naming the file."""
    ds = Dataset()
    ds.StudyInstanceUID = "1.2"
    with pytest.raises(DicomReadError, match=r"/in/x\.dcm: missing SeriesInstanceUID"):
        InstanceHeader.from_dataset(ds, source="/in/x.dcm")


def test_instances_of_one_series_share_patient_study_series(store: Store) -> None:
    """Three instances of a series make one patient, one study, one series."""
    with store.session() as s:
        for i in range(3):
            assert add_instance(s, _header(f"1.9.1.1.{i}"), _blob("c")).created
    counts = [_count(store, m) for m in (Patient, Study, Series, Instance)]
    assert counts == [1, 1, 1, 3]


def test_duplicate_keeps_first_by_default(store: Store) -> None:
    """Receiving the same SOP Instance UID twice keeps the first copy and reports it."""
    with store.session() as s:
        add_instance(s, _header("1.9.1.1.1"), _blob("a"))
    with store.session() as s:
        result = add_instance(s, _header("1.9.1.1.1"), _blob("b"))
    assert (result.created, result.replaced) == (False, False)
    with store.read_session() as s:
        instance = find_instance(s, "1.9.1.1.1")
        assert instance is not None
        assert instance.sha256 == "a" * 64
    assert _count(store, Instance) == 1


def test_duplicate_replaced_when_asked_reports_the_orphaned_blob(store: Store) -> None:
    """REPLACE points the index at the new blob and names the old one for clean-up."""
    with store.session() as s:
        add_instance(s, _header("1.9.1.1.1"), _blob("a"))
    with store.session() as s:
        result = add_instance(
            s, _header("1.9.1.1.1"), _blob("b"), on_duplicate=DuplicatePolicy.REPLACE
        )
    assert (result.created, result.replaced) == (False, True)
    assert result.orphaned_blob == _blob("a").path
    with store.read_session() as s:
        instance = find_instance(s, "1.9.1.1.1")
        assert instance is not None
        assert instance.sha256 == "b" * 64


def test_unique_sop_instance_uid_enforced_by_the_database(store: Store) -> None:
    """Even bypassing the repository, the database refuses a second row with the same UID."""
    with store.session() as s:
        add_instance(s, _header("1.9.1.1.1"), _blob("a"))
    with store.read_session() as s:
        series_pk = s.scalar(select(Series.id))
    twin = Instance(
        sop_instance_uid="1.9.1.1.1",
        sop_class_uid=CT,
        series_pk=series_pk,
        blob_path="x",
        size_bytes=1,
        sha256="0" * 64,
    )
    with pytest.raises(IntegrityError), store.session() as s:
        s.add(twin)


def test_study_claimed_by_two_patients_is_refused(store: Store) -> None:
    """A Study UID arriving under another PatientID is a StoreError, not silent merging."""
    with store.session() as s:
        add_instance(s, _header("1.9.1.1.1", patient="P1"), _blob("a"))
    with pytest.raises(StoreError, match="belongs to another patient"), store.session() as s:
        add_instance(s, _header("1.9.1.1.2", patient="P2"), _blob("b"))
    assert _count(store, Instance) == 1


def test_timestamps_are_aware_utc(store: Store) -> None:
    """received_at comes back as aware UTC on both databases; naive values are refused."""
    plus_two = datetime(2024, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    with store.session() as s:
        add_instance(s, _header("1.9.1.1.1"), _blob("a"), received_at=plus_two)
    with store.read_session() as s:
        instance = find_instance(s, "1.9.1.1.1")
        assert instance is not None
        assert instance.received_at == plus_two
        assert instance.received_at.tzinfo == UTC
    with pytest.raises(StoreError, match="no time zone"), store.session() as s:
        add_instance(s, _header("1.9.1.1.2"), _blob("b"), received_at=datetime(2024, 5, 1))


def test_deleting_a_study_cascades_but_a_patient_with_studies_is_kept(store: Store) -> None:
    """Foreign keys are enforced (SQLite too): study delete cascades, patient delete is refused."""
    with store.session() as s:
        add_instance(s, _header("1.9.1.1.1"), _blob("a"))
    with pytest.raises(IntegrityError), store.session() as s:
        s.execute(delete(Patient))
    with store.session() as s:
        s.execute(delete(Study))
    assert [_count(store, m) for m in (Patient, Study, Series, Instance)] == [1, 0, 0, 0]


def test_list_instances_in_series_order(store: Store) -> None:
    """Instances of a study come back grouped by series."""
    with store.session() as s:
        add_instance(s, _header("1.9.1.2.1", series="1.9.1.2"), _blob("a"))
        add_instance(s, _header("1.9.1.1.1"), _blob("b"))
    with store.read_session() as s:
        assert len(list_instances(s, "1.9.1")) == 2
        only = list_instances(s, "1.9.1", series_uid="1.9.1.2")
        assert [i.sop_instance_uid for i in only] == ["1.9.1.2.1"]


@pytest.fixture
def worklist(store: Store) -> Store:
    """Four studies: two patients, CT/MR, January to April 2024."""
    rows = [
        ("P1", "Doe^Jane", "1.1", "CT", "20240110", "ACC-1"),
        ("P1", "Doe^Jane", "1.2", "MR", "20240215", "ACC-2"),
        ("P2", "Smith^John", "1.3", "CT", "20240320", "ACC-3"),
        ("P2", "Smith^John", "1.4", "PT", "20240425", "XYZ-4"),
    ]
    with store.session() as s:
        for patient, name, study, modality, day, accession in rows:
            header = _header(
                f"{study}.1.1",
                study=study,
                series=f"{study}.1",
                patient=patient,
                name=name,
                modality=modality,
                study_date=day,
                accession=accession,
            )
            add_instance(s, header, _blob("a"))
        add_instance(s, _header("1.4.2.1", study="1.4", series="1.4.2", patient="P2",
                                name="Smith^John", modality="CT", study_date="20240425",
                                accession="XYZ-4"), _blob("b"))  # fmt: skip
    return store


def _uids(store: Store, query: StudyQuery) -> list[str]:
    with store.read_session() as s:
        return [item.study_uid for item in list_studies(s, query).items]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (StudyQuery(), ["1.4", "1.3", "1.2", "1.1"]),
        (StudyQuery(patient_id="P1"), ["1.2", "1.1"]),
        (StudyQuery(patient_name="smith*"), ["1.4", "1.3"]),
        (StudyQuery(patient_name="D?e^J*"), ["1.2", "1.1"]),
        (StudyQuery(patient_name="Doe"), []),
        (StudyQuery(date_from=date(2024, 2, 15), date_to=date(2024, 3, 20)), ["1.3", "1.2"]),
        (StudyQuery(date_from=date(2024, 3, 1)), ["1.4", "1.3"]),
        (StudyQuery(modality="CT"), ["1.4", "1.3", "1.1"]),
        (StudyQuery(accession_number="ACC-*"), ["1.3", "1.2", "1.1"]),
        (StudyQuery(accession_number="XYZ-4"), ["1.4"]),
        (StudyQuery(study_uid="1.2"), ["1.2"]),
        (StudyQuery(patient_id="P2", modality="MR"), []),
    ],
)
def test_study_listing_filters(worklist: Store, query: StudyQuery, expected: list[str]) -> None:
    """Each worklist/QIDO filter returns exactly the matching studies, newest first."""
    assert _uids(worklist, query) == expected


def test_like_metacharacters_in_a_filter_are_literal(worklist: Store) -> None:
    """A '%' or '_' typed by a user matches itself, not everything."""
    assert _uids(worklist, StudyQuery(patient_name="%")) == []
    assert _uids(worklist, StudyQuery(accession_number="ACC_1")) == []


def test_study_listing_pages_and_counts(worklist: Store) -> None:
    """Paging returns the total, the right slice, and per-study modalities and counts."""
    with worklist.read_session() as s:
        page = list_studies(s, StudyQuery(limit=2, offset=0))
        rest = list_studies(s, StudyQuery(limit=2, offset=2))
    assert page.total == rest.total == 4
    assert [i.study_uid for i in page.items + rest.items] == ["1.4", "1.3", "1.2", "1.1"]
    newest = page.items[0]
    assert (newest.modalities, newest.n_series, newest.n_instances) == (("CT", "PT"), 2, 2)
    assert (newest.patient_id, newest.patient_name) == ("P2", "Smith^John")
    assert newest.study_date == date(2024, 4, 25)


@pytest.mark.parametrize(
    "kwargs",
    [{"limit": 0}, {"limit": 5000}, {"offset": -1},
     {"date_from": date(2024, 2, 1), "date_to": date(2024, 1, 1)}],
)  # fmt: skip
def test_bad_listing_query_is_an_input_error(kwargs: dict[str, object]) -> None:
    """Nonsense paging or an empty date range is the user's mistake: InputError."""
    with pytest.raises(InputError):
        StudyQuery(**kwargs)  # type: ignore[arg-type]


def test_concurrent_ingest_of_one_new_study_files_everything_once(store: Store) -> None:
    """Four receivers storing one new study at once: no error, no duplicate patient/study."""
    n_threads, per_thread = 4, 8
    errors: list[BaseException] = []
    start = threading.Barrier(n_threads)

    def receive(worker: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                sop = f"1.9.1.1.{worker}.{i}"
                with store.session() as s:
                    add_instance(s, _header(sop), _blob("a"))
                with store.session() as s:  # the sender retries: must stay idempotent
                    add_instance(s, _header(sop), _blob("a"))
        except BaseException as err:  # reported by the main thread
            errors.append(err)

    threads = [threading.Thread(target=receive, args=(w,)) for w in range(n_threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    counts = [_count(store, m) for m in (Patient, Study, Series, Instance)]
    assert counts == [1, 1, 1, n_threads * per_thread]


def test_malformed_date_and_overlong_text_are_tolerated(store: Store, tmp_path: Path) -> None:
    """A file with StudyDate month 13 and a 300-character description still indexes."""
    ds = Dataset()
    ds.PatientID, ds.StudyInstanceUID, ds.SeriesInstanceUID = "P9", "1.7", "1.7.1"
    ds.SOPInstanceUID, ds.SOPClassUID = "1.7.1.1", CT
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    path = tmp_path / "bad-date.dcm"
    with warnings.catch_warnings():  # pydicom warns when writing what a bad modality sends
        warnings.simplefilter("ignore")
        ds.StudyDate, ds.SeriesDescription = "20241345", "x" * 300
        ds.save_as(path, enforce_file_format=True)
    header = InstanceHeader.from_dataset(dcmread(path), source=path)  # reading does not warn
    assert header.study.study_date is None
    with store.session() as s:
        add_instance(s, header, _blob("a"))
    with store.read_session() as s:
        instance = find_instance(s, "1.7.1.1")
        assert instance is not None
        assert instance.series.description == "x" * 256
