"""The store: the index (SQLAlchemy, SQLite or PostgreSQL) and the blob store.

- :func:`open_store` opens the index, creating or migrating its schema with the Alembic
  migrations shipped in :mod:`vesalius.store.migrations`;
- :class:`BlobStore` keeps instance bytes, content-addressed by SHA-256, written durably;
- repositories, each a module of functions taking a session: :mod:`~vesalius.store.index`
  (patients, studies, series, instances, study listing), :mod:`~vesalius.store.jobs`,
  :mod:`~vesalius.store.reports`, :mod:`~vesalius.store.findings`,
  :mod:`~vesalius.store.audit`.

Durability order for an incoming instance: ``BlobStore.put`` (fsynced), index it and commit,
then acknowledge.

Examples
--------
>>> import tempfile, pathlib
>>> from pydicom import Dataset
>>> from vesalius.store import BlobStore, InstanceHeader, add_instance, open_store, sqlite_url
>>> from vesalius.store import StudyQuery, list_studies
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> store = open_store(sqlite_url(folder / "index.sqlite3"))
>>> blobs = BlobStore(folder / "blobs")
>>> ds = Dataset()
>>> ds.PatientID, ds.PatientName, ds.Modality = "P7", "Doe^John", "MR"
>>> ds.StudyInstanceUID, ds.SeriesInstanceUID = "1.2.826.0.1.7", "1.2.826.0.1.7.1"
>>> ds.SOPInstanceUID, ds.SOPClassUID = "1.2.826.0.1.7.1.1", "1.2.840.10008.5.1.4.1.1.4"
>>> ref = blobs.put(b"pretend these are the bytes of the file")
>>> with store.session() as session:
...     added = add_instance(session, InstanceHeader.from_dataset(ds), ref)
>>> with store.read_session() as session:
...     page = list_studies(session, StudyQuery(patient_name="doe*"))
>>> [(s.patient_id, s.modalities, s.n_instances) for s in page.items]
[('P7', ('MR',), 1)]
>>> blobs.get(ref.path)
b'pretend these are the bytes of the file'
>>> store.close()
"""

from vesalius.store.blobs import BlobRef, BlobStore
from vesalius.store.engine import Store, head_revision, make_engine, open_store, sqlite_url
from vesalius.store.header import InstanceHeader, InstanceInfo, PatientInfo, SeriesInfo, StudyInfo
from vesalius.store.index import (
    AddedInstance,
    StudyPage,
    StudyQuery,
    StudySummary,
    add_instance,
    list_studies,
)
from vesalius.store.states import AuditOutcome, DuplicatePolicy, JobState, ReportState

__all__ = [
    "AddedInstance",
    "AuditOutcome",
    "BlobRef",
    "BlobStore",
    "DuplicatePolicy",
    "InstanceHeader",
    "InstanceInfo",
    "JobState",
    "PatientInfo",
    "ReportState",
    "SeriesInfo",
    "Store",
    "StudyInfo",
    "StudyPage",
    "StudyQuery",
    "StudySummary",
    "add_instance",
    "head_revision",
    "list_studies",
    "make_engine",
    "open_store",
    "sqlite_url",
]
