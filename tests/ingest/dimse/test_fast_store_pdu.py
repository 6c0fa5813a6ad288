"""PDU and command-set parsing of the lean storage path: what a broken peer may send."""

from __future__ import annotations

import struct

import pytest

from vesalius.ingest.dimse.fast_store import command, pdu
from vesalius.ingest.dimse.fast_store.association import StorageOptions

CT = "1.2.840.10008.5.1.4.1.1.2"
EXPLICIT, IMPLICIT = "1.2.840.10008.1.2.1", "1.2.840.10008.1.2"


def _rq(**kwargs: object) -> bytes:
    contexts = [(1, CT, [EXPLICIT, IMPLICIT]), (3, "1.2.840.10008.1.1", [IMPLICIT])]
    return pdu.encode_associate_rq("VESALIUS", "MODALITY", contexts, **kwargs)  # type: ignore[arg-type]


def _body(data: bytes) -> memoryview:
    return pdu.split_pdu(data)[1]


def _with_user_item(rq: bytes, item: bytes) -> bytes:
    """``rq`` with one more User Information sub-item (the user item is last)."""
    user_at = rq.rindex(b"\x50\x00")
    user_len = struct.unpack(">H", rq[user_at + 2 : user_at + 4])[0] + len(item)
    body = rq[6:user_at] + b"\x50\x00" + struct.pack(">H", user_len) + rq[user_at + 4 :] + item
    return struct.pack(">BBI", 1, 0, len(body)) + body


def test_an_associate_request_is_read_back_whole() -> None:
    request = pdu.parse_associate_rq(_body(_rq(max_length=65536)))
    assert (request.called_ae, request.calling_ae) == ("VESALIUS", "MODALITY")
    assert request.application_context == pdu.APPLICATION_CONTEXT
    assert [(c.context_id, c.abstract_syntax) for c in request.contexts] == [
        (1, CT),
        (3, "1.2.840.10008.1.1"),
    ]
    assert request.contexts[0].transfer_syntaxes == (EXPLICIT, IMPLICIT)
    assert request.max_length == 65536
    assert request.other_user_items == frozenset()


def test_a_pdu_shorter_than_its_length_is_refused() -> None:
    with pytest.raises(pdu.PduError, match="PDU says"):
        pdu.split_pdu(_rq()[:-5])
    with pytest.raises(pdu.PduError, match="header"):
        pdu.pdu_header(b"\x01\x00\x00")


def test_an_item_longer_than_its_pdu_is_refused() -> None:
    rq = bytearray(_rq())
    first_item = 6 + 68  # the application context item
    rq[first_item + 2 : first_item + 4] = struct.pack(">H", 5000)
    with pytest.raises(pdu.PduError, match="overruns"):
        pdu.parse_associate_rq(_body(bytes(rq)))


def test_an_associate_request_too_short_for_its_fixed_fields_is_refused() -> None:
    with pytest.raises(pdu.PduError, match="at least 68"):
        pdu.parse_associate_rq(b"\x00\x01" + bytes(30))


def test_an_unknown_item_is_an_unrecognized_parameter() -> None:
    rq = _rq()
    body = rq[6:] + b"\x99\x00\x00\x02ab"
    with pytest.raises(pdu.PduError) as caught:
        pdu.parse_associate_rq(body)
    assert caught.value.reason == pdu.REASON_UNRECOGNIZED_PARAMETER


def test_a_maximum_length_item_of_the_wrong_size_is_refused() -> None:
    rq = bytearray(_rq())
    at = rq.index(b"\x51\x00\x00\x04")
    rq[at + 3] = 3  # says 3 bytes; the items after it no longer line up
    with pytest.raises(pdu.PduError):
        pdu.parse_associate_rq(_body(bytes(rq)))


def test_a_context_without_transfer_syntax_is_refused() -> None:
    rq = pdu.encode_associate_rq("A", "B", [(1, CT, [])])
    with pytest.raises(pdu.PduError, match="without abstract or transfer"):
        pdu.parse_associate_rq(_body(rq))


def test_role_selection_or_user_identity_leave_the_lean_path() -> None:
    options = StorageOptions(
        ae_title="VESALIUS",
        max_pdu=1 << 20,
        allowed=None,
        storage=frozenset({CT}),
        transfer_syntaxes=(EXPLICIT,),
    )
    assert options.handles(pdu.parse_associate_rq(_body(_rq())))
    role = b"\x54\x00\x00" + bytes([len(CT) + 4, 0, len(CT)]) + CT.encode() + b"\x00\x01"
    with_role = pdu.parse_associate_rq(_body(_with_user_item(_rq(), role)))
    assert with_role.other_user_items == {0x54}
    assert not options.handles(with_role)
    find = pdu.encode_associate_rq("A", "B", [(1, "1.2.840.10008.5.1.4.1.2.2.1", [IMPLICIT])])
    assert not options.handles(pdu.parse_associate_rq(_body(find)))


def test_p_data_with_several_fragments_is_split_by_context_and_flags() -> None:
    pdvs = b"".join(
        struct.pack(">IBB", len(data) + 2, 5, control) + data
        for data, control in ((b"cmd", 0x01), (b"end", 0x03), (b"data", 0x00))
    )
    items = pdu.parse_p_data(pdvs)
    assert [(p.context_id, p.is_command, p.is_last, bytes(p.data)) for p in items] == [
        (5, True, False, b"cmd"),
        (5, True, True, b"end"),
        (5, False, False, b"data"),
    ]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"", "without any PDV"),
        (struct.pack(">IBB", 1, 1, 3), "PDV of length 1"),
        (struct.pack(">IBB", 40, 1, 3) + b"short", "overruns"),
        (struct.pack(">IBB", 3, 1, 3) + b"x" + b"\x00\x00", "cut short"),
    ],
)
def test_a_broken_p_data_is_refused(body: bytes, problem: str) -> None:
    with pytest.raises(pdu.PduError, match=problem):
        pdu.parse_p_data(body)


@pytest.mark.parametrize("max_pdu", [0, 7, 16, 100, 4096])
def test_p_data_is_cut_to_the_peer_maximum_and_reassembles(max_pdu: int) -> None:
    data = bytes(range(256)) * 3
    pdus = pdu.encode_p_data(9, data, command=False, max_pdu=max_pdu)
    parts = []
    for raw in pdus:
        kind, body = pdu.split_pdu(raw)
        assert kind == pdu.P_DATA_TF
        if max_pdu:
            assert len(body) <= max(max_pdu, 7)
        parts.extend(pdu.parse_p_data(body))
    assert b"".join(bytes(p.data) for p in parts) == data
    assert [p.is_last for p in parts] == [False] * (len(parts) - 1) + [True]
    assert not any(p.is_command for p in parts)


def test_a_store_response_answers_the_request_it_echoes() -> None:
    request = command.parse_command(
        command.encode_command(
            [
                (0x0002, CT),
                (0x0100, command.C_STORE_RQ),
                (0x0110, 42),
                (0x0800, 0),
                (0x1000, "1.2.3.4"),
            ]
        )
    )
    assert request.has_data_set
    response = command.parse_command(command.store_response(request, 0xA700))
    assert response.field == command.C_STORE_RSP
    assert (response.message_id_responded, response.status) == (42, 0xA700)
    assert (response.sop_class, response.sop_instance) == (CT, "1.2.3.4")


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (struct.pack("<HHI", 0x0008, 0x0016, 0), "in a command set"),
        (struct.pack("<HHI", 0x0000, 0x0100, 2), "overruns"),
        (b"\x00\x00\x00", "cut short"),
    ],
)
def test_a_broken_command_set_is_refused(raw: bytes, problem: str) -> None:
    with pytest.raises(command.CommandError, match=problem):
        command.parse_command(raw)


def test_a_command_field_of_the_wrong_size_is_refused() -> None:
    bad = command.parse_command(struct.pack("<HHI", 0, 0x0100, 4) + b"\x01\x00\x00\x00")
    with pytest.raises(command.CommandError, match="US is 2"):
        _ = bad.field
