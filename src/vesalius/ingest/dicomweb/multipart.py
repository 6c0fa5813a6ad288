"""``multipart/related`` messages (RFC 2387) as DICOMweb uses them, and media-type parameters.

:func:`iter_multipart` writes a message part by part (so a large series streams), and
:func:`split_multipart` splits a received body into its parts' bytes.

Examples
--------
>>> body = b"".join(iter_multipart([b"one", b"two"], boundary="b0", media_type="application/dicom"))
>>> [part.data for part in split_multipart(body, boundary="b0")]
[b'one', b'two']
>>> parse_media_type('multipart/related; type="application/dicom"; boundary=b0')
MediaType(type='multipart/related', params={'type': 'application/dicom', 'boundary': 'b0'})
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from vesalius.errors import InputError

CRLF = b"\r\n"


@dataclass(frozen=True)
class MediaType:
    """A media type and its parameters (names in lower case, quotes removed)."""

    type: str
    params: dict[str, str] = field(default_factory=dict)


def _split_outside_quotes(text: str, separator: str) -> list[str]:
    """Split ``text`` on ``separator`` where it is not inside double quotes."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == separator and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def parse_media_type(text: str) -> MediaType:
    """Parse ``type/subtype; name=value; ...``."""
    first, *rest = _split_outside_quotes(text, ";")
    params: dict[str, str] = {}
    for item in rest:
        name, _, value = item.partition("=")
        if name.strip():
            params[name.strip().lower()] = value.strip().strip('"')
    return MediaType(first.strip().lower(), params)


def parse_accept(header: str | None) -> list[MediaType]:
    """The media ranges of an Accept header, best first (by ``q``, then order given).

    Examples
    --------
    >>> [m.type for m in parse_accept("image/png;q=0.5, image/jpeg")]
    ['image/jpeg', 'image/png']
    """
    if not header or not header.strip():
        return [MediaType("*/*")]
    ranges = [parse_media_type(item) for item in _split_outside_quotes(header, ",") if item.strip()]

    def quality(media: MediaType) -> float:
        try:
            return float(media.params.get("q", "1"))
        except ValueError:
            return 0.0

    return sorted((m for m in ranges if quality(m) > 0), key=quality, reverse=True)


def new_boundary() -> str:
    """A random boundary that cannot appear by chance in the parts."""
    return f"vesalius-{secrets.token_hex(16)}"


def iter_multipart(
    parts: Iterable[bytes | tuple[bytes, str]], *, boundary: str, media_type: str
) -> Iterator[bytes]:
    """The bytes of a ``multipart/related`` message, one part at a time.

    Each part is its bytes, or its bytes and its own Content-Type (``media_type`` otherwise).
    """
    marker = b"--" + boundary.encode("ascii")
    for part in parts:
        data, part_type = part if isinstance(part, tuple) else (part, media_type)
        head = marker + CRLF + b"Content-Type: " + part_type.encode("ascii") + CRLF
        head += b"Content-Length: " + str(len(data)).encode("ascii") + CRLF + CRLF
        yield head
        yield data
        yield CRLF
    yield marker + b"--" + CRLF


@dataclass(frozen=True)
class Part:
    """One part of a received multipart message: its headers and its bytes."""

    headers: dict[str, str]
    data: bytes

    @property
    def content_type(self) -> str | None:
        """The part's Content-Type header, if any."""
        return self.headers.get("content-type")


def _part(raw: memoryview) -> Part:
    blob = raw.tobytes()
    end = blob.find(CRLF + CRLF)
    if blob.startswith(CRLF):
        return Part({}, blob[2:])
    if end < 0:
        raise InputError(None, "multipart body: a part has no blank line after its headers")
    headers: dict[str, str] = {}
    for line in blob[:end].split(CRLF):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return Part(headers, blob[end + 4 :])


def split_multipart(body: bytes, *, boundary: str) -> list[Part]:
    """The parts of a ``multipart/related`` body.

    Raises
    ------
    InputError
        The body does not contain the boundary, or a part is malformed.
    """
    marker = b"--" + boundary.encode("latin-1")
    view = memoryview(body)
    start = 0 if body.startswith(marker) else body.find(CRLF + marker)
    if start < 0:
        raise InputError(None, f"multipart body: boundary {boundary!r} not found")
    start = start if start == 0 else start + 2
    parts: list[Part] = []
    while True:
        after = start + len(marker)
        if body[after : after + 2] == b"--":
            return parts
        header_start = after + 2 if body[after : after + 2] == CRLF else after
        end = body.find(CRLF + marker, header_start)
        if end < 0:
            raise InputError(None, "multipart body: the closing boundary is missing")
        parts.append(_part(view[header_start:end]))
        start = end + 2
