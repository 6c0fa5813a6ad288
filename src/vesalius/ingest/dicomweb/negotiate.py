"""Content negotiation of WADO-RS: which representation an Accept header asks for.

Examples
--------
>>> frames_choice("multipart/related; type=\\"application/octet-stream\\"; transfer-syntax=*",
...               stored_media="image/jp2")
<FrameChoice.STORED: 'stored'>
>>> frames_choice("multipart/related; type=application/octet-stream", stored_media="image/jp2")
<FrameChoice.DECODED: 'decoded'>
>>> frames_choice("image/png", stored_media="image/jp2") is None
True
>>> rendered_choice("image/png, image/jpeg;q=0.5")
'image/png'
"""

from __future__ import annotations

from enum import StrEnum

from vesalius.ingest.dicomweb.multipart import MediaType, parse_accept

NATIVE = "1.2.840.10008.1.2.1"
_ANY = ("*/*", "multipart/*", "multipart/related")


class FrameChoice(StrEnum):
    """Frames as stored (maybe compressed) or decoded to native pixels."""

    STORED = "stored"
    DECODED = "decoded"


def _frame_range(media: MediaType, stored_media: str) -> FrameChoice | None:
    if media.type == "*/*":
        return FrameChoice.DECODED
    if media.type not in _ANY:
        return None
    part = media.params.get("type", "application/octet-stream").lower()
    syntax = media.params.get("transfer-syntax")
    if syntax == "*" and part in ("application/octet-stream", "*/*", stored_media):
        return FrameChoice.STORED
    if part in ("application/octet-stream", "*/*") and syntax in (None, NATIVE):
        return FrameChoice.DECODED
    if part == stored_media:
        return FrameChoice.STORED
    return None


def frames_choice(accept: str | None, *, stored_media: str) -> FrameChoice | None:
    """What ``accept`` asks of frames stored as ``stored_media``; ``None``: not acceptable."""
    for media in parse_accept(accept):
        choice = _frame_range(media, stored_media)
        if choice is not None:
            return choice
    return None


def instances_acceptable(accept: str | None, stored_syntaxes: set[str]) -> bool:
    """Whether instances stored in ``stored_syntaxes`` may be sent as they are."""
    for media in parse_accept(accept):
        if media.type in ("*/*", "application/dicom") and "transfer-syntax" not in media.params:
            return True
        if media.type not in _ANY and media.type != "application/dicom":
            continue
        part = media.params.get("type", "application/dicom").lower()
        syntax = media.params.get("transfer-syntax")
        if part not in ("application/dicom", "*/*"):
            continue
        if syntax in (None, "*") or stored_syntaxes <= {syntax}:
            return True
    return False


def rendered_choice(accept: str | None) -> str | None:
    """``image/jpeg`` or ``image/png``, whichever ``accept`` prefers; ``None``: neither."""
    for media in parse_accept(accept):
        if media.type in ("image/jpeg", "image/png"):
            return media.type
        if media.type in ("*/*", "image/*"):
            return "image/jpeg"
    return None
