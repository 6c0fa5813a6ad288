"""Several modalities sending at once: every acknowledged instance is indexed, bytes intact."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from io import BytesIO
from pathlib import Path

from pydicom import Dataset, dcmread
from pydicom.data import get_testdata_file
from pydicom.uid import UID
from pynetdicom import AE

from tests.ingest.dimse.conftest import CALLER, Served
from vesalius.ingest.dimse import status
from vesalius.store.index import find_instance

CT = Path(str(get_testdata_file("CT_small.dcm")))


def _copies(worker: int, n: int) -> list[Dataset]:
    out: list[Dataset] = []
    for k in range(n):
        ds = dcmread(CT)
        uid = UID(f"1.2.826.0.1.77.{worker}.{k}")
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = uid
        out.append(ds)
    return out


def _send(served: Served, datasets: list[Dataset]) -> list[int]:
    ae = AE(ae_title=CALLER)
    ae.add_requested_context(datasets[0].SOPClassUID, datasets[0].file_meta.TransferSyntaxUID)
    assoc = ae.associate("127.0.0.1", served.listener.port, ae_title="VESALIUS")
    assert assoc.is_established
    codes = [int(assoc.send_c_store(ds).Status) for ds in datasets]
    assoc.release()
    return codes


def test_four_associations_at_once_are_all_acknowledged_and_indexed(served: Served) -> None:
    """Group commits across associations lose nothing and mix up nobody's answer."""
    batches = [_copies(worker, 6) for worker in range(4)]
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda b: _send(served, b), batches))
    assert answers == [[status.SUCCESS] * 6] * 4
    sent = dcmread(CT)
    with served.store.read_session() as session:
        rows = [find_instance(session, ds.SOPInstanceUID) for b in batches for ds in b]
    assert all(row is not None for row in rows)
    kept = dcmread(BytesIO(served.blobs.get(rows[-1].blob_path)))  # type: ignore[union-attr]
    assert kept.PixelData == sent.PixelData
    assert kept.SOPInstanceUID == "1.2.826.0.1.77.3.5"
