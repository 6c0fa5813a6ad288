"""DIMSE command sets (PS3.7 section 6.3 and 9.3): group 0000 in implicit VR little endian.

Examples
--------
>>> rsp = encode_command([(0x0002, "1.2.840.10008.1.1"), (0x0100, 0x8030), (0x0120, 7),
...                       (0x0800, NO_DATA_SET), (0x0900, 0)])
>>> command = parse_command(rsp)
>>> command.field, command.message_id_responded, command.status, command.sop_class
(32816, 7, 0, '1.2.840.10008.1.1')
>>> parse_command(rsp[:-1])  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
vesalius.ingest.dimse.fast_store.command.CommandError: command element (0000,0900) of 2 bytes ...
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

C_STORE_RQ = 0x0001
C_STORE_RSP = 0x8001
C_ECHO_RQ = 0x0030
C_ECHO_RSP = 0x8030
C_CANCEL_RQ = 0x0FFF
#: Command Data Set Type value meaning "no data set follows".
NO_DATA_SET = 0x0101
#: Status: the command is not one this SCP performs (PS3.7 C.4.2).
UNRECOGNIZED_OPERATION = 0x0211

_ELEMENT = struct.Struct("<HHI")
_US = struct.Struct("<H")


class CommandError(Exception):
    """A command set that cannot be read."""


@dataclass(frozen=True)
class Command:
    """The elements of a command set that a storage SCP uses (raw values by element)."""

    elements: dict[int, bytes]

    def _us(self, element: int) -> int | None:
        value = self.elements.get(element)
        if value is None:
            return None
        if len(value) != 2:
            raise CommandError(f"(0000,{element:04X}) is {len(value)} bytes, US is 2")
        return int(_US.unpack(value)[0])

    def _ui(self, element: int) -> str:
        return self.elements.get(element, b"").decode("ascii", "replace").strip(" \x00")

    @property
    def field(self) -> int | None:
        """Command Field (0000,0100)."""
        return self._us(0x0100)

    @property
    def message_id(self) -> int | None:
        """Message ID (0000,0110)."""
        return self._us(0x0110)

    @property
    def message_id_responded(self) -> int | None:
        """Message ID Being Responded To (0000,0120)."""
        return self._us(0x0120)

    @property
    def has_data_set(self) -> bool:
        """Whether a data set follows (Command Data Set Type (0000,0800) not 0101H)."""
        kind = self._us(0x0800)
        return kind is not None and kind != NO_DATA_SET

    @property
    def status(self) -> int | None:
        """Status (0000,0900)."""
        return self._us(0x0900)

    @property
    def sop_class(self) -> str:
        """Affected SOP Class UID (0000,0002)."""
        return self._ui(0x0002)

    @property
    def sop_instance(self) -> str:
        """Affected SOP Instance UID (0000,1000)."""
        return self._ui(0x1000)


def parse_command(data: bytes | memoryview) -> Command:
    """The command set ``data`` (implicit VR little endian, group 0000 only)."""
    view, pos, elements = memoryview(data), 0, {}
    while pos < len(view):
        if pos + _ELEMENT.size > len(view):
            raise CommandError(f"command element header cut short at byte {pos}")
        group, element, length = _ELEMENT.unpack_from(view, pos)
        if group != 0x0000:
            raise CommandError(f"element ({group:04X},{element:04X}) in a command set")
        start = pos + _ELEMENT.size
        if start + length > len(view):
            raise CommandError(
                f"command element (0000,{element:04X}) of {length} bytes overruns the command set"
            )
        elements[int(element)] = bytes(view[start : start + length])
        pos = start + length
    return Command(elements)


def _value(value: int | str) -> bytes:
    if isinstance(value, int):
        return _US.pack(value)
    raw = value.encode("ascii", "replace")  # a UID sent with other bytes is echoed with "?"
    return raw + b"\x00" if len(raw) % 2 else raw


def encode_command(elements: Sequence[tuple[int, int | str]]) -> bytes:
    """A command set of group 0000 ``(element, value)``: int values are US, str are UI.

    The Command Group Length (0000,0000) is computed and put first.
    """
    body = b"".join(
        _ELEMENT.pack(0, element, len(raw)) + raw
        for element, raw in ((e, _value(v)) for e, v in sorted(elements))
    )
    return _ELEMENT.pack(0, 0, 4) + struct.pack("<I", len(body)) + body


def store_response(request: Command, status: int) -> bytes:
    """The C-STORE-RSP to ``request`` with ``status``."""
    return encode_command(
        [
            (0x0002, request.sop_class),
            (0x0100, C_STORE_RSP),
            (0x0120, request.message_id or 0),
            (0x0800, NO_DATA_SET),
            (0x0900, status),
            (0x1000, request.sop_instance),
        ]
    )


def echo_response(request: Command, status: int = 0) -> bytes:
    """The C-ECHO-RSP to ``request``."""
    return encode_command(
        [
            (0x0002, request.sop_class or "1.2.840.10008.1.1"),
            (0x0100, C_ECHO_RSP),
            (0x0120, request.message_id or 0),
            (0x0800, NO_DATA_SET),
            (0x0900, status),
        ]
    )


def unrecognized_response(request: Command) -> bytes:
    """The response to a command this SCP does not perform: status 0211H."""
    elements: list[tuple[int, int | str]] = [
        (0x0100, (request.field or 0) | 0x8000),
        (0x0120, request.message_id or 0),
        (0x0800, NO_DATA_SET),
        (0x0900, UNRECOGNIZED_OPERATION),
    ]
    if request.sop_class:
        elements.append((0x0002, request.sop_class))
    return encode_command(elements)
