"""DICOM Upper Layer PDUs (PS3.8 section 9.3): parse and encode what a storage SCP needs.

Parsing works on a PDU's bytes after its 6-byte header (type, reserved, 4-byte big-endian
length); every length is checked against what is there, and any inconsistency raises
:class:`PduError` with the A-ABORT reason to answer with.

Examples
--------
>>> verification = (1, "1.2.840.10008.1.1", ["1.2.840.10008.1.2"])
>>> rq = encode_associate_rq("STORESCP", "MODALITY", [verification])
>>> kind, body = split_pdu(rq)
>>> request = parse_associate_rq(body)
>>> request.calling_ae, request.contexts[0].abstract_syntax, request.max_length
('MODALITY', '1.2.840.10008.1.1', 16384)
>>> pdvs = parse_p_data(split_pdu(encode_p_data(1, b"abc", command=True, max_pdu=0)[0])[1])
>>> [(p.context_id, p.is_command, p.is_last, bytes(p.data)) for p in pdvs]
[(1, True, True, b'abc')]
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

# PDU types (PS3.8 table 9-11 and following)
ASSOCIATE_RQ = 0x01
ASSOCIATE_AC = 0x02
ASSOCIATE_RJ = 0x03
P_DATA_TF = 0x04
RELEASE_RQ = 0x05
RELEASE_RP = 0x06
ABORT = 0x07
KNOWN_TYPES = frozenset(range(0x01, 0x08))

#: The DICOM application context name (PS3.7 annex A.2.1).
APPLICATION_CONTEXT = "1.2.840.10008.3.1.1.1"

# A-ABORT sources and reasons (PS3.8 table 9-26)
SOURCE_USER = 0
SOURCE_PROVIDER = 2
REASON_NOT_SPECIFIED = 0
REASON_UNRECOGNIZED_PDU = 1
REASON_UNEXPECTED_PDU = 2
REASON_UNRECOGNIZED_PARAMETER = 4
REASON_UNEXPECTED_PARAMETER = 5
REASON_INVALID_PARAMETER = 6

# A-ASSOCIATE-RJ results, sources and reasons (PS3.8 table 9-21)
RJ_PERMANENT, RJ_TRANSIENT = 1, 2
RJ_SERVICE_USER, RJ_ACSE, RJ_PRESENTATION = 1, 2, 3
RJ_NO_REASON = 1
RJ_APPLICATION_CONTEXT = 2
RJ_CALLING_AE = 3
RJ_PROTOCOL_VERSION = 2
RJ_LOCAL_LIMIT = 2

# Presentation context results (PS3.8 table 9-18)
ACCEPTANCE = 0
ABSTRACT_SYNTAX_NOT_SUPPORTED = 3
TRANSFER_SYNTAXES_NOT_SUPPORTED = 4

_HEADER = struct.Struct(">BBI")
_ITEM = struct.Struct(">BBH")
_PDV = struct.Struct(">IBB")


class PduError(Exception):
    """A PDU that breaks PS3.8; ``reason`` is the A-ABORT reason to answer with."""

    def __init__(self, problem: str, reason: int = REASON_INVALID_PARAMETER) -> None:
        super().__init__(problem)
        self.reason = reason


@dataclass(frozen=True)
class ProposedContext:
    """A presentation context of an A-ASSOCIATE-RQ."""

    context_id: int
    abstract_syntax: str
    transfer_syntaxes: tuple[str, ...]


@dataclass(frozen=True)
class AssociateRequest:
    """What an A-ASSOCIATE-RQ asks for (``called_raw``/``calling_raw``: the 16 bytes sent)."""

    protocol_version: int
    called_raw: bytes
    calling_raw: bytes
    application_context: str
    contexts: tuple[ProposedContext, ...]
    max_length: int = 0
    implementation_class_uid: str = ""
    implementation_version: str = ""
    #: User Information sub-item types other than 0x51, 0x52 and 0x55 (role selection...).
    other_user_items: frozenset[int] = field(default_factory=frozenset)

    @property
    def called_ae(self) -> str:
        """The called AE title, without padding."""
        return _text(self.called_raw)

    @property
    def calling_ae(self) -> str:
        """The calling AE title, without padding."""
        return _text(self.calling_raw)


@dataclass(frozen=True)
class Pdv:
    """A presentation data value item of a P-DATA-TF."""

    context_id: int
    is_command: bool
    is_last: bool
    data: memoryview


def _text(raw: bytes | memoryview) -> str:
    return bytes(raw).decode("ascii", errors="replace").strip(" \x00")


def pdu_header(data: bytes | memoryview) -> tuple[int, int]:
    """The type and length of the PDU whose 6-byte header is ``data``."""
    if len(data) < _HEADER.size:
        raise PduError("PDU header shorter than 6 bytes", REASON_INVALID_PARAMETER)
    kind, _, length = _HEADER.unpack_from(data)
    return int(kind), int(length)


def split_pdu(data: bytes | memoryview) -> tuple[int, memoryview]:
    """The type and body of the single whole PDU ``data`` (header included).

    >>> split_pdu(b"\\x05\\x00\\x00\\x00\\x00\\x04\\x00\\x00\\x00\\x00")[0]
    5
    >>> split_pdu(b"\\x05\\x00\\x00\\x00\\x00\\x09\\x00")
    Traceback (most recent call last):
    ...
    vesalius.ingest.dimse.fast_store.pdu.PduError: PDU says 9 bytes, 1 follow
    """
    kind, length = pdu_header(data)
    body = memoryview(data)[_HEADER.size :]
    if len(body) != length:
        raise PduError(f"PDU says {length} bytes, {len(body)} follow")
    return kind, body


def _items(body: memoryview, what: str) -> list[tuple[int, memoryview]]:
    """The ``(type, value)`` of each item (1-byte type, reserved, 2-byte length) of ``body``."""
    out, pos = [], 0
    while pos < len(body):
        if pos + _ITEM.size > len(body):
            raise PduError(f"{what}: item header cut short at byte {pos}")
        kind, _, length = _ITEM.unpack_from(body, pos)
        end = pos + _ITEM.size + length
        if end > len(body):
            raise PduError(f"{what}: item 0x{kind:02X} of {length} bytes overruns its PDU")
        out.append((int(kind), body[pos + _ITEM.size : end]))
        pos = end
    return out


def _context(value: memoryview) -> ProposedContext:
    if len(value) < 4:
        raise PduError("presentation context item shorter than 4 bytes")
    abstract, syntaxes = None, []
    for kind, sub in _items(value[4:], "presentation context"):
        if kind == 0x30:
            if abstract is not None:
                raise PduError("presentation context with two abstract syntaxes")
            abstract = _text(sub)
        elif kind == 0x40:
            syntaxes.append(_text(sub))
        else:
            raise PduError(f"unknown presentation context sub-item 0x{kind:02X}")
    if not abstract or not syntaxes:
        raise PduError("presentation context without abstract or transfer syntax")
    return ProposedContext(value[0], abstract, tuple(syntaxes))


def parse_associate_rq(body: memoryview | bytes) -> AssociateRequest:
    """The A-ASSOCIATE-RQ whose body (after the 6-byte PDU header) is ``body``."""
    body = memoryview(body)
    if len(body) < 68:
        raise PduError(f"A-ASSOCIATE-RQ of {len(body)} bytes, at least 68 expected")
    version = int.from_bytes(body[0:2], "big")
    context_name, contexts = None, []
    user: dict[int, memoryview] = {}
    others: set[int] = set()
    for kind, value in _items(body[68:], "A-ASSOCIATE-RQ"):
        if kind == 0x10:
            context_name = _text(value)
        elif kind == 0x20:
            contexts.append(_context(value))
        elif kind == 0x50:
            for sub_kind, sub in _items(value, "user information"):
                if sub_kind in (0x51, 0x52, 0x55):
                    user[sub_kind] = sub
                else:
                    others.add(sub_kind)
        else:
            raise PduError(
                f"unknown A-ASSOCIATE-RQ item 0x{kind:02X}", REASON_UNRECOGNIZED_PARAMETER
            )
    if context_name is None:
        raise PduError("A-ASSOCIATE-RQ without an application context")
    max_length = 0
    if 0x51 in user:
        if len(user[0x51]) != 4:
            raise PduError("maximum length sub-item is not 4 bytes")
        max_length = int.from_bytes(user[0x51], "big")
    return AssociateRequest(
        protocol_version=version,
        called_raw=bytes(body[4:20]),
        calling_raw=bytes(body[20:36]),
        application_context=context_name,
        contexts=tuple(contexts),
        max_length=max_length,
        implementation_class_uid=_text(user.get(0x52, memoryview(b""))),
        implementation_version=_text(user.get(0x55, memoryview(b""))),
        other_user_items=frozenset(others),
    )


def parse_p_data(body: memoryview | bytes) -> list[Pdv]:
    """The PDV items of a P-DATA-TF body (at least one; each at least 2 bytes long)."""
    body, out, pos = memoryview(body), [], 0
    while pos < len(body):
        if pos + _PDV.size > len(body):
            raise PduError(f"P-DATA-TF: PDV header cut short at byte {pos}")
        length, context_id, control = _PDV.unpack_from(body, pos)
        if length < 2:
            raise PduError(f"P-DATA-TF: PDV of length {length}")
        end = pos + 4 + length
        if end > len(body):
            raise PduError(f"P-DATA-TF: PDV of {length} bytes overruns its PDU")
        out.append(Pdv(context_id, bool(control & 1), bool(control & 2), body[pos + 6 : end]))
        pos = end
    if not out:
        raise PduError("P-DATA-TF without any PDV")
    return out


# -- encoding --------------------------------------------------------------------------------


def _pdu(kind: int, body: bytes) -> bytes:
    return _HEADER.pack(kind, 0, len(body)) + body


def _item(kind: int, value: bytes) -> bytes:
    return _ITEM.pack(kind, 0, len(value)) + value


def _uid(uid: str) -> bytes:
    return uid.encode("ascii", "replace")


def _ae(title: str) -> bytes:
    return title.encode("ascii")[:16].ljust(16, b" ")


def _user_info(max_length: int, class_uid: str, version: str) -> bytes:
    value = _item(0x51, struct.pack(">I", max_length)) + _item(0x52, _uid(class_uid))
    if version:
        value += _item(0x55, version.encode("ascii")[:16])
    return _item(0x50, value)


def encode_associate_ac(
    request: AssociateRequest,
    results: Sequence[tuple[int, int, str]],
    *,
    max_length: int,
    implementation_class_uid: str,
    implementation_version: str,
) -> bytes:
    """The A-ASSOCIATE-AC answering ``request``; ``results``: (context id, result, syntax)."""
    head = struct.pack(">HH", 1, 0) + request.called_raw + request.calling_raw + bytes(32)
    items = [_item(0x10, _uid(APPLICATION_CONTEXT))]
    for context_id, result, syntax in results:
        sub = _item(0x40, _uid(syntax))
        items.append(_item(0x21, bytes((context_id, 0, result, 0)) + sub))
    items.append(_user_info(max_length, implementation_class_uid, implementation_version))
    return _pdu(ASSOCIATE_AC, head + b"".join(items))


def encode_associate_rq(
    called: str,
    calling: str,
    contexts: Sequence[tuple[int, str, Sequence[str]]],
    *,
    max_length: int = 16384,
    implementation_class_uid: str = "1.2.826.0.1.3680043.9.3811.0",
    application_context: str = APPLICATION_CONTEXT,
) -> bytes:
    """An A-ASSOCIATE-RQ (for tests and probes): ``contexts`` are (id, abstract, syntaxes)."""
    head = struct.pack(">HH", 1, 0) + _ae(called) + _ae(calling) + bytes(32)
    items = [_item(0x10, _uid(application_context))]
    for context_id, abstract, syntaxes in contexts:
        subs = _item(0x30, _uid(abstract)) + b"".join(_item(0x40, _uid(s)) for s in syntaxes)
        items.append(_item(0x20, bytes((context_id, 0, 0, 0)) + subs))
    items.append(_user_info(max_length, implementation_class_uid, ""))
    return _pdu(ASSOCIATE_RQ, head + b"".join(items))


def encode_associate_rj(result: int, source: int, reason: int) -> bytes:
    """An A-ASSOCIATE-RJ."""
    return _pdu(ASSOCIATE_RJ, bytes((0, result, source, reason)))


def encode_release_rq() -> bytes:
    """An A-RELEASE-RQ."""
    return _pdu(RELEASE_RQ, bytes(4))


def encode_release_rp() -> bytes:
    """An A-RELEASE-RP."""
    return _pdu(RELEASE_RP, bytes(4))


def encode_abort(source: int = SOURCE_PROVIDER, reason: int = REASON_NOT_SPECIFIED) -> bytes:
    """An A-ABORT."""
    return _pdu(ABORT, bytes((0, 0, source, reason)))


def encode_p_data(context_id: int, data: bytes, *, command: bool, max_pdu: int) -> list[bytes]:
    """P-DATA-TF PDUs carrying ``data`` as one message part, cut to fit ``max_pdu``.

    ``max_pdu`` is the peer's maximum length (0: no limit); each PDU holds one PDV.

    >>> [len(p) for p in encode_p_data(1, bytes(20), command=False, max_pdu=16)]
    [22, 22]
    """
    room = len(data) if max_pdu <= 0 else max(1, max_pdu - _PDV.size)
    base = 1 if command else 0
    out, pos = [], 0
    while True:
        chunk = data[pos : pos + room]
        pos += len(chunk)
        control = base | (2 if pos >= len(data) else 0)
        pdv = _PDV.pack(len(chunk) + 2, context_id, control) + chunk
        out.append(_pdu(P_DATA_TF, pdv))
        if pos >= len(data):
            return out
