"""The lean storage path on the wire: raw PDUs against a running listener.

What a peer that fragments, lies about lengths or sends nonsense sees: fragments are
reassembled, protocol errors get an A-ABORT with the right reason, and the listener keeps
serving the next association.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from io import BytesIO
from pathlib import Path

import pytest
from pydicom import Dataset, dcmread
from pydicom.data import get_testdata_file

from tests.ingest.dimse.conftest import CALLER, Served, serve
from vesalius.ingest.dimse import status
from vesalius.ingest.dimse.fast_store import command, pdu
from vesalius.ingest.dimse.fast_store.association import (
    Gate,
    StorageOptions,
    serve_storage,
)
from vesalius.store.index import find_instance

CT_FILE = Path(str(get_testdata_file("CT_small.dcm")))
CT = "1.2.840.10008.5.1.4.1.1.2"
EXPLICIT = "1.2.840.10008.1.2.1"
VERIFICATION = "1.2.840.10008.1.1"


def _read_pdu(sock: socket.socket) -> tuple[int, bytes]:
    head = _exactly(sock, 6)
    kind, length = struct.unpack(">BxI", head)
    return kind, _exactly(sock, length)


def _exactly(sock: socket.socket, n: int) -> bytes:
    out = b""
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            raise ConnectionError(f"closed after {len(out)} of {n} bytes")
        out += chunk
    return out


def _associate(served: Served, *, caller: str = CALLER, **kwargs: object) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", served.listener.port), timeout=30)
    contexts = [(1, CT, [EXPLICIT]), (3, VERIFICATION, ["1.2.840.10008.1.2"])]
    sock.sendall(pdu.encode_associate_rq("VESALIUS", caller, contexts, **kwargs))  # type: ignore[arg-type]
    return sock


def _accepted(served: Served) -> socket.socket:
    sock = _associate(served)
    kind, _ = _read_pdu(sock)
    assert kind == pdu.ASSOCIATE_AC
    return sock


def _abort_reason(sock: socket.socket) -> int:
    kind, body = _read_pdu(sock)
    assert kind == pdu.ABORT
    return body[3]


def _ct_data_set() -> tuple[str, bytes]:
    """The SOP Instance UID and the data set bytes (no File Meta) of CT_small."""
    raw = CT_FILE.read_bytes()
    ds = dcmread(BytesIO(raw))
    assert ds.file_meta.TransferSyntaxUID == EXPLICIT
    meta_length = struct.unpack("<I", raw[140:144])[0]
    return str(ds.SOPInstanceUID), raw[144 + meta_length :]


def _store_request(sop_instance: str, message_id: int = 1) -> bytes:
    return command.encode_command(
        [
            (0x0002, CT),
            (0x0100, command.C_STORE_RQ),
            (0x0110, message_id),
            (0x0700, 0),
            (0x0800, 0x0000),
            (0x1000, sop_instance),
        ]
    )


def _pdv(context_id: int, control: int, data: bytes) -> bytes:
    return struct.pack(">IBB", len(data) + 2, context_id, control) + data


def _p_data(*pdvs: bytes) -> bytes:
    body = b"".join(pdvs)
    return struct.pack(">BBI", pdu.P_DATA_TF, 0, len(body)) + body


def _echo_works(served: Served) -> bool:
    sock = _accepted(served)
    echo = command.encode_command(
        [(0x0002, VERIFICATION), (0x0100, command.C_ECHO_RQ), (0x0110, 1), (0x0800, 0x0101)]
    )
    sock.sendall(_p_data(_pdv(3, 0x03, echo)))
    kind, body = _read_pdu(sock)
    response = command.parse_command(pdu.parse_p_data(body)[0].data)
    sock.sendall(pdu.encode_release_rq())
    released = _read_pdu(sock)[0] == pdu.RELEASE_RP
    sock.close()
    return kind == pdu.P_DATA_TF and response.status == 0 and released


def test_tiny_fragments_in_many_pdus_are_stored_whole(served: Served) -> None:
    """A command and a data set cut into 1000-byte fragments, two per PDU, are reassembled."""
    sop_instance, data_set = _ct_data_set()
    sock = _accepted(served)
    cmd = _store_request(sop_instance, message_id=7)
    pdvs = [_pdv(1, 0x01, cmd[:10]), _pdv(1, 0x03, cmd[10:])]
    pieces = [data_set[k : k + 1000] for k in range(0, len(data_set), 1000)]
    pdvs += [_pdv(1, 0x02 if k == len(pieces) - 1 else 0x00, p) for k, p in enumerate(pieces)]
    for k in range(0, len(pdvs), 2):
        sock.sendall(_p_data(*pdvs[k : k + 2]))
    kind, body = _read_pdu(sock)
    response = command.parse_command(pdu.parse_p_data(body)[0].data)
    assert kind == pdu.P_DATA_TF
    assert (response.field, response.message_id_responded) == (command.C_STORE_RSP, 7)
    assert response.status == status.SUCCESS
    sock.sendall(pdu.encode_release_rq())
    assert _read_pdu(sock)[0] == pdu.RELEASE_RP
    sock.close()
    with served.store.read_session() as session:
        row = find_instance(session, sop_instance)
    assert row is not None
    kept = dcmread(BytesIO(served.blobs.get(row.blob_path)))
    assert kept.PixelData == dcmread(CT_FILE).PixelData
    assert kept.file_meta.MediaStorageSOPInstanceUID == sop_instance


def test_a_data_set_whose_uids_differ_from_the_request_is_refused(served: Served) -> None:
    _, data_set = _ct_data_set()
    sock = _accepted(served)
    sock.sendall(_p_data(_pdv(1, 0x03, _store_request("1.2.3.999")), _pdv(1, 0x02, data_set)))
    _, body = _read_pdu(sock)
    assert command.parse_command(pdu.parse_p_data(body)[0].data).status == status.DATASET_MISMATCH
    sock.close()


def test_a_request_with_a_non_ascii_uid_fails_and_the_association_goes_on(
    served: Served,
) -> None:
    _, data_set = _ct_data_set()
    request = _store_request("1.2.3").replace(b"1.2.3", "1.\u00e9.".encode("latin-1") + b"3")
    sock = _accepted(served)
    sock.sendall(_p_data(_pdv(1, 0x03, request), _pdv(1, 0x02, data_set)))
    _, body = _read_pdu(sock)
    assert command.parse_command(pdu.parse_p_data(body)[0].data).status == status.DATASET_MISMATCH
    sock.sendall(pdu.encode_release_rq())
    assert _read_pdu(sock)[0] == pdu.RELEASE_RP
    sock.close()


@pytest.mark.parametrize(
    ("garbage", "reason"),
    [
        (struct.pack(">BBI", 0x0A, 0, 4) + bytes(4), pdu.REASON_UNRECOGNIZED_PDU),
        (pdu.encode_associate_rj(1, 1, 1), pdu.REASON_UNEXPECTED_PDU),
        (_p_data(_pdv(9, 0x03, b"x")), pdu.REASON_INVALID_PARAMETER),  # context not accepted
        (_p_data(_pdv(1, 0x02, b"data")), pdu.REASON_UNEXPECTED_PDU),  # data before command
        (_p_data(struct.pack(">IBB", 900, 1, 3) + b"x"), pdu.REASON_INVALID_PARAMETER),
        (_p_data(_pdv(1, 0x03, b"\x08\x00\x16\x00\x00\x00\x00\x00")), pdu.REASON_INVALID_PARAMETER),
    ],
    ids=["unknown-type", "unexpected-rj", "bad-context", "data-first", "pdv-overrun", "bad-cmd"],
)
def test_a_protocol_error_is_aborted_and_the_listener_lives_on(
    served: Served, garbage: bytes, reason: int
) -> None:
    sock = _accepted(served)
    sock.sendall(garbage)
    assert _abort_reason(sock) == reason
    sock.close()
    assert _echo_works(served)


def test_a_pdu_above_our_maximum_is_aborted(tmp_path: Path) -> None:
    for served in serve(tmp_path, max_pdu=4096):
        sock = _accepted(served)
        sock.sendall(struct.pack(">BBI", pdu.P_DATA_TF, 0, 5000))
        assert _abort_reason(sock) == pdu.REASON_INVALID_PARAMETER
        sock.close()
        assert _echo_works(served)


def test_our_maximum_pdu_is_announced(tmp_path: Path) -> None:
    for served in serve(tmp_path, max_pdu=65536):
        sock = _associate(served)
        kind, body = _read_pdu(sock)
        assert kind == pdu.ASSOCIATE_AC
        at = body.index(b"\x51\x00\x00\x04")
        assert struct.unpack(">I", body[at + 4 : at + 8])[0] == 65536
        sock.close()


def test_a_peer_cut_off_inside_a_pdu_does_not_hurt_the_listener(served: Served) -> None:
    sock = _accepted(served)
    sock.sendall(struct.pack(">BBI", pdu.P_DATA_TF, 0, 1000) + b"only a few bytes")
    sock.close()
    assert _echo_works(served)


def test_a_stranger_is_rejected_by_the_lean_path(served: Served) -> None:
    sock = _associate(served, caller="INTRUDER")
    kind, body = _read_pdu(sock)
    assert kind == pdu.ASSOCIATE_RJ
    assert tuple(body[1:4]) == (pdu.RJ_PERMANENT, pdu.RJ_SERVICE_USER, pdu.RJ_CALLING_AE)
    sock.close()


def test_a_wrong_application_context_is_rejected(served: Served) -> None:
    sock = _associate(served, application_context="1.2.3.4")
    kind, body = _read_pdu(sock)
    assert kind == pdu.ASSOCIATE_RJ
    assert body[3] == pdu.RJ_APPLICATION_CONTEXT
    sock.close()


def test_unsupported_contexts_are_refused_one_by_one(served: Served) -> None:
    sock = socket.create_connection(("127.0.0.1", served.listener.port), timeout=30)
    contexts = [(1, CT, ["1.2.3.4.5"]), (3, "1.2.3.99", [EXPLICIT]), (5, CT, [EXPLICIT])]
    sock.sendall(pdu.encode_associate_rq("VESALIUS", CALLER, contexts))
    kind, body = _read_pdu(sock)
    assert kind == pdu.ASSOCIATE_AC
    results = {}
    pos = 68
    while pos < len(body):
        item, length = body[pos], struct.unpack(">H", body[pos + 2 : pos + 4])[0]
        if item == 0x21:
            results[body[pos + 4]] = body[pos + 6]
        pos += 4 + length
    assert results == {
        1: pdu.TRANSFER_SYNTAXES_NOT_SUPPORTED,
        3: pdu.ABSTRACT_SYNTAX_NOT_SUPPORTED,
        5: pdu.ACCEPTANCE,
    }
    sock.close()


def test_beyond_the_association_limit_callers_are_told_to_come_back(tmp_path: Path) -> None:
    for served in serve(tmp_path, max_associations=1):
        first = _accepted(served)
        second = _associate(served)
        kind, body = _read_pdu(second)
        assert kind == pdu.ASSOCIATE_RJ
        assert body[1] == pdu.RJ_TRANSIENT
        second.close()
        first.sendall(pdu.encode_release_rq())
        assert _read_pdu(first)[0] == pdu.RELEASE_RP
        first.close()


def test_an_idle_peer_is_aborted_after_the_network_timeout() -> None:
    options = StorageOptions(
        ae_title="VESALIUS",
        max_pdu=1 << 20,
        allowed=None,
        storage=frozenset({CT}),
        transfer_syntaxes=(EXPLICIT,),
        network_timeout=0.2,
    )
    ours, theirs = socket.socketpair()
    rq = pdu.encode_associate_rq("VESALIUS", "SLOW", [(1, CT, [EXPLICIT])])
    theirs.sendall(rq)
    request = pdu.parse_associate_rq(pdu.split_pdu(rq)[1])
    worker = threading.Thread(
        target=serve_storage, args=(ours, "peer", request, options, lambda *_: 0, Gate())
    )
    worker.start()
    theirs.settimeout(30)
    assert _read_pdu(theirs)[0] == pdu.ASSOCIATE_AC
    assert _read_pdu(theirs)[0] == pdu.ABORT  # nothing sent: aborted, not left hanging
    worker.join(timeout=30)
    assert not worker.is_alive()
    theirs.close()


def test_an_association_request_arriving_in_pieces_is_served(served: Served) -> None:
    rq = pdu.encode_associate_rq("VESALIUS", CALLER, [(3, VERIFICATION, ["1.2.840.10008.1.2"])])
    sock = socket.create_connection(("127.0.0.1", served.listener.port), timeout=30)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for piece in (rq[:3], rq[3:40], rq[40:]):
        sock.sendall(piece)
        time.sleep(0.05)
    assert _read_pdu(sock)[0] == pdu.ASSOCIATE_AC
    sock.sendall(pdu.encode_release_rq())
    assert _read_pdu(sock)[0] == pdu.RELEASE_RP
    sock.close()


def test_storage_takes_the_lean_path_and_queries_stay_with_pynetdicom(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A modality's C-STORE is served by our Upper Layer; a workstation's C-FIND is not."""
    from pynetdicom import AE

    from vesalius.ingest.dimse import scp
    from vesalius.ingest.dimse.syntaxes import StudyRootFind, contexts_for

    lean: list[str] = []
    real = scp.serve_storage

    def counting(sock: socket.socket, address: str, *args: object) -> None:
        lean.append(address)
        real(sock, address, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(scp, "serve_storage", counting)
    for served in serve(tmp_path):
        ae = AE(ae_title=CALLER)
        ds = dcmread(CT_FILE)
        ae.requested_contexts = contexts_for([(ds.SOPClassUID, ds.file_meta.TransferSyntaxUID)])
        assoc = ae.associate("127.0.0.1", served.listener.port, ae_title="VESALIUS")
        assert int(assoc.send_c_store(ds).Status) == status.SUCCESS
        assoc.release()
        assert len(lean) == 1
        finder = AE(ae_title=CALLER)
        finder.add_requested_context(StudyRootFind)
        assoc = finder.associate("127.0.0.1", served.listener.port, ae_title="VESALIUS")
        query = Dataset()
        query.QueryRetrieveLevel, query.StudyInstanceUID = "STUDY", ""
        found = [r for r, _ in assoc.send_c_find(query, StudyRootFind) if r.Status == 0xFF00]
        assoc.release()
        assert len(found) == 1
        assert len(lean) == 1
