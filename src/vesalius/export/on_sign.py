"""Exports made when a report is signed, as the ``[export]`` settings say.

:func:`export_on_sign` makes each kind of ``[export] on_sign`` into the study's export
folder, sends DICOM objects to ``send_to`` and the FHIR bundle to ``fhir_endpoint``, and
reports per kind what it wrote and sent. A failure of one kind (nothing to export, a
PACS down) is recorded in its result and logged, never raised: the signature stands
whatever happens to the exports, and the caller (the sign route) shows or audits the
results.

Examples
--------
>>> from vesalius.settings import Settings
>>> export_on_sign(None, None, Settings(), "1.2.3")  # no [export] on_sign: nothing to do
[]
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from vesalius.errors import VesaliusError
from vesalius.export.dispatch import ExportedFile, export_study, study_export_dir
from vesalius.export.send import SendReport, send_exports
from vesalius.settings import Settings
from vesalius.store import BlobStore, Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OnSignResult:
    """What one kind of export did on sign-off: its files, where they were sent, or why not."""

    kind: str
    files: tuple[ExportedFile, ...] = ()
    sent: tuple[SendReport, ...] = ()
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the export was made and everything sent arrived."""
        return self.error is None and all(r.ok for r in self.sent)


def _one(
    store: Store, blobs: BlobStore, settings: Settings, study_uid: str, kind: str
) -> OnSignResult:
    files: tuple[ExportedFile, ...] = ()
    try:
        files = tuple(
            export_study(store, blobs, study_uid, kind, study_export_dir(settings, study_uid))
        )
        sent = send_exports(
            files,
            settings,
            dicom_to=settings.export.send_to,
            fhir_endpoint=settings.export.fhir_endpoint,
        )
    except VesaliusError as err:
        log.warning("export %s of study %s on sign-off failed: %s", kind, study_uid, err)
        return OnSignResult(kind, files, error=str(err))
    return OnSignResult(kind, files, tuple(sent))


def export_on_sign(
    store: Store, blobs: BlobStore, settings: Settings, study_uid: str
) -> list[OnSignResult]:
    """Make and send the exports ``settings.export.on_sign`` asks for; one result per kind."""
    return [_one(store, blobs, settings, study_uid, kind) for kind in settings.export.on_sign]
