"""Serving files from a folder: a closed list of names, media types, cache headers.

Examples
--------
>>> media_type("app.bundle.1.js"), media_type("x.wasm"), media_type("index.html")
('text/javascript; charset=utf-8', 'application/wasm', 'text/html; charset=utf-8')
>>> import pathlib, tempfile
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> _ = (root / "a.css").write_text("p {}")
>>> inside(root, "a.css") is not None, inside(root, "../etc/passwd"), inside(root, "b.css")
(True, None, None)
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".wasm": "application/wasm",
    ".svg": "image/svg+xml",
    ".woff2": "font/woff2",
    ".map": "application/json",
}

PAGE_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; "
        "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-cache",
}
"""Headers of our own pages: scripts and styles from this origin only, never framed."""


def media_type(name: str) -> str:
    """The ``Content-Type`` to send for the file ``name``."""
    suffix = Path(name).suffix.lower()
    if suffix in _TYPES:
        return _TYPES[suffix]
    guessed, _ = mimetypes.guess_type(name)
    return guessed or "application/octet-stream"


def inside(root: Path, relative: str) -> Path | None:
    """The regular file ``root/relative`` when it exists and lies inside ``root``, else None."""
    if not relative or "\\" in relative or "\0" in relative:
        return None
    base = root.resolve()
    candidate = (base / relative).resolve()
    if not candidate.is_relative_to(base) or not candidate.is_file():
        return None
    return candidate
