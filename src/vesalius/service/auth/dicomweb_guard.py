"""Access control and audit for DICOMweb (``/dicom-web``).

:func:`dicomweb_guard` is the one dependency applied to every DICOMweb route: reads
(QIDO-RS, WADO-RS: GET, HEAD) need ``read-studies``, STOW-RS (POST) needs
``store-instances``. Each read is audited at study level: the study UID of the path
(``/studies/{uid}/...``), or the query of a search. A viewer fetching the frames of one
study makes hundreds of requests; :class:`AuditOnce` writes one event per user, action
and object per :data:`REPEAT_S` seconds, so that auditing costs one insert per study
opened, not one per frame. Each STOW-RS request is audited (``store``, the study of
its path or ``*``).

The dependency calls ``authorize(permission)(request)`` itself, so an ``authorize`` given
to it must return dependencies that take the request (as :class:`~.gate.Gate` does).

Examples
--------
>>> study_of("/dicom-web/studies/1.2.3/series/4.5/instances")
'1.2.3'
>>> study_of("/dicom-web/studies") is None
True
>>> once = AuditOnce(clock=lambda: 0.0)
>>> once.first(("dr.grey", "read", "1.2.3")), once.first(("dr.grey", "read", "1.2.3"))
(True, False)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from fastapi import Depends, Request

from vesalius.service.auth.audit_log import audit
from vesalius.service.context import AppContext, Principal
from vesalius.store.roles import Permission

REPEAT_S = 300.0
"""A repeated read of one object by one user is audited once per this many seconds."""
READ_METHODS = frozenset({"GET", "HEAD"})


def study_of(path: str) -> str | None:
    """The study UID in a DICOMweb path, if it names one."""
    parts = path.split("/")
    try:
        at = parts.index("studies")
    except ValueError:
        return None
    return parts[at + 1] if at + 1 < len(parts) and parts[at + 1] else None


class AuditOnce:
    """Remembers which (who, action, object) were audited recently (thread-safe)."""

    def __init__(
        self, *, repeat_s: float = REPEAT_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.repeat_s = repeat_s
        self._clock = clock
        self._seen: dict[tuple[str, ...], float] = {}
        self._lock = threading.Lock()

    def first(self, key: tuple[str, ...]) -> bool:
        """Whether ``key`` was not seen in the last ``repeat_s`` seconds (and note it)."""
        now = self._clock()
        with self._lock:
            last = self._seen.get(key)
            if last is not None and now - last < self.repeat_s:
                return False
            if len(self._seen) > 50_000:
                self._seen = {k: t for k, t in self._seen.items() if now - t < self.repeat_s}
            self._seen[key] = now
            return True


def dicomweb_guard(ctx: AppContext, *, once: AuditOnce | None = None) -> Any:
    """The ``Depends(...)`` for every DICOMweb route: permission by method, audited reads."""
    readers: Callable[[Request], Principal] = ctx.authorize(Permission.READ_STUDIES)
    storers: Callable[[Request], Principal] = ctx.authorize(Permission.STORE_INSTANCES)
    remembered = once or AuditOnce()

    def guard(request: Request) -> Principal:
        if request.method in READ_METHODS:
            principal = readers(request)
            study = study_of(request.url.path)
            if study is not None:
                action, kind, what = "read", "study", study
            else:
                action, kind, what = "search", "studies", request.url.query[:128]
            if remembered.first((principal.username, action, kind, what)):
                audit(ctx, principal, action, kind, what, detail="dicomweb")
            return principal
        principal = storers(request)
        audit(ctx, principal, "store", "study", study_of(request.url.path) or "*", detail="STOW-RS")
        return principal

    return Depends(guard)
