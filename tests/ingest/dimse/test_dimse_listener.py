"""The listener as a modality, a workstation or a PACS would see it over the network."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import pytest
from pydicom import Dataset, dcmread
from pydicom.data import get_testdata_file
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian
from pynetdicom import AE, _config, build_role, evt
from pynetdicom.presentation import build_context

from tests.ingest.dimse.conftest import CALLER, Served, serve
from tests.ingest.dimse.malformed import CASES, SOP_INSTANCE, write_case
from vesalius.ingest.dimse import status
from vesalius.ingest.dimse.syntaxes import (
    PatientRootFind,
    StudyRootFind,
    StudyRootGet,
    StudyRootMove,
    Verification,
    contexts_for,
)
from vesalius.store.index import find_instance, list_instances

CT = Path(str(get_testdata_file("CT_small.dcm")))
MR = Path(str(get_testdata_file("MR_small.dcm")))


def _assoc(served: Served, *contexts: object, caller: str = CALLER, **kwargs: object) -> object:
    ae = AE(ae_title=caller)
    for cx in contexts or (Verification,):
        if isinstance(cx, str):
            ae.add_requested_context(cx)
        else:
            ae.requested_contexts = [*ae.requested_contexts, cx]  # type: ignore[list-item]
    return ae.associate("127.0.0.1", served.listener.port, ae_title="VESALIUS", **kwargs)


def _store(served: Served, *paths: Path) -> list[int]:
    headers = [dcmread(p, stop_before_pixels=True) for p in paths]
    contexts = contexts_for((h.SOPClassUID, h.file_meta.TransferSyntaxUID) for h in headers)
    assoc = _assoc(served, *contexts)
    assert assoc.is_established  # type: ignore[attr-defined]
    codes = [int(assoc.send_c_store(dcmread(p)).Status) for p in paths]  # type: ignore[attr-defined]
    assoc.release()  # type: ignore[attr-defined]
    return codes


def _echo_ok(served: Served) -> bool:
    assoc = _assoc(served)
    ok = bool(assoc.is_established) and int(assoc.send_c_echo().Status) == 0  # type: ignore[attr-defined]
    assoc.release()  # type: ignore[attr-defined]
    return ok


def test_a_modality_gets_success_for_echo(served: Served) -> None:
    assert _echo_ok(served)


def test_a_stored_instance_is_indexed_with_the_same_pixel_bytes(served: Served) -> None:
    """What a scanner sends is what is kept: same UIDs, same Pixel Data bytes."""
    assert _store(served, CT, MR) == [status.SUCCESS, status.SUCCESS]
    sent = dcmread(CT)
    with served.store.read_session() as session:
        row = find_instance(session, sent.SOPInstanceUID)
    assert row is not None
    kept = dcmread(BytesIO(served.blobs.get(row.blob_path)))
    assert kept.PixelData == sent.PixelData
    assert kept.file_meta.TransferSyntaxUID == sent.file_meta.TransferSyntaxUID


def test_an_unknown_calling_ae_is_rejected_and_logged(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="vesalius.ingest.dimse.scp"):
        assoc = _assoc(served, caller="INTRUDER")
    assert assoc.is_rejected  # type: ignore[attr-defined]
    assert any(
        "INTRUDER" in r.getMessage() and "127.0.0.1" in r.getMessage() for r in caplog.records
    )


def test_with_no_allowed_caller_every_association_is_rejected(tmp_path: Path) -> None:
    for served in serve(tmp_path, allowed_calling_aes=()):
        assert _assoc(served).is_rejected  # type: ignore[attr-defined]


def test_accept_any_lets_a_stranger_echo(tmp_path: Path) -> None:
    for served in serve(tmp_path, accept_any_calling_ae=True, allowed_calling_aes=()):
        assoc = _assoc(served, caller="STRANGER")
        assert assoc.is_established  # type: ignore[attr-defined]
        assoc.release()  # type: ignore[attr-defined]


def test_low_disk_refuses_with_out_of_resources(tmp_path: Path) -> None:
    """A full disk answers A700, and nothing is indexed."""
    for served in serve(tmp_path, min_free_bytes=1 << 62):
        assert _store(served, CT) == [status.OUT_OF_RESOURCES]
        with served.store.read_session() as session:
            assert find_instance(session, dcmread(CT).SOPInstanceUID) is None


@pytest.fixture
def chunked_send() -> Iterator[None]:
    """Send files' bytes as they are (pynetdicom's chunked mode), malformed or not."""
    before = _config.STORE_SEND_CHUNKED_DATASET
    _config.STORE_SEND_CHUNKED_DATASET = True
    yield
    _config.STORE_SEND_CHUNKED_DATASET = before


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.usefixtures("chunked_send")
def test_a_malformed_data_set_fails_and_the_listener_lives_on(
    served: Served, tmp_path: Path, case: str
) -> None:
    """Truncated, huge lengths, deep nesting, wrong syntax, garbage: a C000-range status."""
    path = write_case(tmp_path, case)
    assoc = _assoc(served, build_context("1.2.840.10008.5.1.4.1.1.2", ExplicitVRLittleEndian))
    rsp = assoc.send_c_store(path)  # type: ignore[attr-defined]
    assoc.release()  # type: ignore[attr-defined]
    code = int(rsp.Status)
    assert 0xC000 <= code <= 0xCFFF, hex(code)
    with served.store.read_session() as session:
        assert find_instance(session, SOP_INSTANCE) is None
    assert _echo_ok(served)


def _find(served: Served, model: str, **keys: object) -> list[Dataset]:
    identifier = Dataset()
    for key, value in keys.items():
        setattr(identifier, key, value)
    assoc = _assoc(served, model)
    out = [ds for rsp, ds in assoc.send_c_find(identifier, model) if rsp.Status == 0xFF00]  # type: ignore[attr-defined]
    assoc.release()  # type: ignore[attr-defined]
    return out


def test_find_matches_wildcards_and_date_ranges_like_a_workstation(served: Served) -> None:
    _store(served, CT, MR)
    ct = dcmread(CT, stop_before_pixels=True)
    found = _find(
        served,
        StudyRootFind,
        QueryRetrieveLevel="STUDY",
        PatientName=str(ct.PatientName)[:5] + "*",
        StudyDate=f"-{ct.StudyDate}",
        StudyInstanceUID="",
        ModalitiesInStudy="",
        NumberOfStudyRelatedInstances="",
        StudyDescription="",
    )
    assert [d.StudyInstanceUID for d in found] == [ct.StudyInstanceUID]
    assert found[0].ModalitiesInStudy == "CT"
    assert int(found[0].NumberOfStudyRelatedInstances) == 1
    assert "StudyDescription" in found[0]
    none = _find(served, StudyRootFind, QueryRetrieveLevel="STUDY", StudyDate="19000101-19000102")
    assert none == []


def test_find_walks_patient_series_and_image_levels(served: Served) -> None:
    _store(served, CT, MR)
    mr = dcmread(MR, stop_before_pixels=True)
    patients = _find(
        served,
        PatientRootFind,
        QueryRetrieveLevel="PATIENT",
        PatientID=mr.PatientID,
        NumberOfPatientRelatedInstances="",
    )
    assert [p.PatientID for p in patients] == [mr.PatientID]
    series = _find(
        served,
        StudyRootFind,
        QueryRetrieveLevel="SERIES",
        StudyInstanceUID=mr.StudyInstanceUID,
        SeriesInstanceUID="",
        Modality="MR",
    )
    assert [s.SeriesInstanceUID for s in series] == [mr.SeriesInstanceUID]
    images = _find(
        served,
        StudyRootFind,
        QueryRetrieveLevel="IMAGE",
        SeriesInstanceUID=mr.SeriesInstanceUID,
        SOPInstanceUID="",
        InstanceNumber="",
    )
    assert [i.SOPInstanceUID for i in images] == [mr.SOPInstanceUID]


def test_find_with_a_bad_level_is_a_failure_not_a_crash(served: Served) -> None:
    identifier = Dataset()
    identifier.QueryRetrieveLevel = "BOGUS"
    assoc = _assoc(served, StudyRootFind)
    codes = [int(r.Status) for r, _ in assoc.send_c_find(identifier, StudyRootFind)]  # type: ignore[attr-defined]
    assoc.release()  # type: ignore[attr-defined]
    assert codes == [status.IDENTIFIER_MISMATCH]
    assert _echo_ok(served)


def test_get_returns_the_stored_bytes(served: Served) -> None:
    _store(served, CT)
    ct = dcmread(CT)
    received: list[Dataset] = []

    def on_store(event: evt.Event) -> int:
        received.append(event.dataset)
        return 0

    syntaxes = [ct.file_meta.TransferSyntaxUID, ImplicitVRLittleEndian]
    contexts = [build_context(StudyRootGet), build_context(ct.SOPClassUID, syntaxes)]
    assoc = _assoc(
        served,
        *contexts,
        ext_neg=[build_role(ct.SOPClassUID, scp_role=True)],
        evt_handlers=[(evt.EVT_C_STORE, on_store)],
    )
    identifier = Dataset()
    identifier.QueryRetrieveLevel, identifier.StudyInstanceUID = "STUDY", ct.StudyInstanceUID
    final = list(assoc.send_c_get(identifier, StudyRootGet))[-1][0]  # type: ignore[attr-defined]
    assoc.release()  # type: ignore[attr-defined]
    assert int(final.Status) == 0
    assert [d.SOPInstanceUID for d in received] == [ct.SOPInstanceUID]
    assert received[0].PixelData == ct.PixelData


def test_move_to_an_unknown_destination_is_refused(served: Served) -> None:
    _store(served, CT)
    identifier = Dataset()
    identifier.QueryRetrieveLevel = "STUDY"
    identifier.StudyInstanceUID = dcmread(CT, stop_before_pixels=True).StudyInstanceUID
    assoc = _assoc(served, StudyRootMove)
    codes = [int(r.Status) for r, _ in assoc.send_c_move(identifier, "NOWHERE", StudyRootMove)]  # type: ignore[attr-defined]
    assoc.release()  # type: ignore[attr-defined]
    assert codes[-1] == 0xA801
    with served.store.read_session() as session:
        assert len(list_instances(session, identifier.StudyInstanceUID)) == 1
