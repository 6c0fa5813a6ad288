"""Send exports where they belong: DICOM objects to a PACS, the FHIR bundle to the EHR.

- DICOM files (SEG, SR, Parametric Maps) go to a destination that is either a ``[[peers]]``
  name of the settings (C-STORE, :func:`vesalius.ingest.dimse.scu.send_files`) or a DICOMweb
  root URL ``http(s)://...`` (STOW-RS, :class:`vesalius.ingest.dicomweb.client.DicomWebPeer`),
  signed in with the ``[[export.credentials]]`` of that server if there are some (a bearer
  token or HTTP Basic, :func:`authorization`); secrets never appear in reports or logs;
- the FHIR bundle is posted to a FHIR server's base URL (:func:`~vesalius.export.fhir.send_fhir`);
  a bearer token, if the server needs one, is read from the environment variable
  ``VESALIUS_FHIR_TOKEN`` (never from the settings file).

Other files (PDF, meshes) are not sent: the PDF travels inside the FHIR DiagnosticReport.

Examples
--------
>>> is_dicomweb_url("https://pacs.example.org/dicom-web"), is_dicomweb_url("pacs")
(True, False)
>>> from vesalius.settings import DicomWebCredentials
>>> authorization(DicomWebCredentials("https://pacs", username="ai", password="pw"), {})
{'Authorization': 'Basic YWk6cHc='}
>>> public_url("https://ai:pw@pacs.example.org/dicom-web")
'https://pacs.example.org/dicom-web'
"""

from __future__ import annotations

import base64
import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydicom import dcmread
from pydicom.errors import InvalidDicomError

from vesalius.errors import ConfigError, InputError, VesaliusError
from vesalius.export.dispatch import ExportedFile
from vesalius.export.fhir import FhirError, send_fhir
from vesalius.settings import DicomWebCredentials, Settings

log = logging.getLogger(__name__)

FHIR_TOKEN_ENV = "VESALIUS_FHIR_TOKEN"


class SendError(VesaliusError):
    """A destination could not be reached or refused what was sent."""


def is_dicomweb_url(destination: str) -> bool:
    """Whether ``destination`` is a DICOMweb URL (else: a peer name)."""
    return destination.startswith(("http://", "https://"))


def public_url(url: str) -> str:
    """``url`` without a ``user:password@`` part (what reports and logs may show)."""
    scheme, sep, rest = url.partition("://")
    host, slash, path = rest.partition("/")
    return f"{scheme}{sep}{host.rpartition('@')[2]}{slash}{path}" if sep else url


def _secret(value: str, variable: str, what: str, environ: Mapping[str, str]) -> str:
    if value:
        return value
    found = environ.get(variable, "")
    if not found:
        raise ConfigError(f"the {what} of the export credentials is in ${variable}, which is unset")
    return found


def authorization(
    credentials: DicomWebCredentials, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The ``Authorization`` header of ``credentials`` (secrets from ``environ``: os.environ).

    Raises
    ------
    ConfigError
        The environment variable named for a secret is unset or empty.
    """
    env = os.environ if environ is None else environ
    if credentials.token or credentials.token_env:
        token = _secret(credentials.token, credentials.token_env, "token", env)
        return {"Authorization": f"Bearer {token}"}
    password = _secret(credentials.password, credentials.password_env, "password", env)
    pair = f"{credentials.username}:{password}".encode()
    return {"Authorization": f"Basic {base64.b64encode(pair).decode('ascii')}"}


@dataclass(frozen=True)
class SendReport:
    """What was sent where: a line per destination, and what failed."""

    destination: str
    sent: int
    failed: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether everything arrived."""
        return not self.failed


def send_dicom(paths: Sequence[Path], destination: str, settings: Settings) -> SendReport:
    """C-STORE (peer name) or STOW-RS (URL) the DICOM files ``paths`` to ``destination``.

    Raises
    ------
    ConfigError
        An unknown peer name, or a secret's environment variable unset.
    SendError
        The destination cannot be reached.
    """
    from vesalius.ingest.dicomweb.client import DicomWebError, DicomWebPeer
    from vesalius.ingest.dimse.scu import PeerError, send_files

    if not paths:
        return SendReport(destination, 0)
    if not is_dicomweb_url(destination):
        peer = settings.peer(destination)
        try:
            result = send_files(list(paths), peer, calling_ae=settings.ae_title)
        except PeerError as err:
            raise SendError(str(err)) from None
        failed = tuple(f"{p.path}: {p.problem}" for p in result.problems)
        return SendReport(f"{peer.name} ({peer.ae_title})", result.sent, failed)
    try:
        datasets = [dcmread(p) for p in paths]
    except (InvalidDicomError, OSError) as err:
        raise InputError(None, f"cannot read an exported DICOM file: {err}") from None
    credentials = settings.export.credentials_for(destination)
    headers = {} if credentials is None else authorization(credentials)
    try:
        stored = DicomWebPeer(destination, retry=False, headers=headers).store(datasets)
    except DicomWebError as err:
        raise SendError(_refusal(str(err), destination, credentials)) from None
    destination = public_url(destination)
    failed = tuple(f"{uid}: failure reason {reason:#06x}" for uid, reason in stored.failed)
    answered = set(stored.stored) | {uid for uid, _ in stored.failed}
    missing = sorted({str(ds.SOPInstanceUID) for ds in datasets} - answered)
    failed += tuple(f"{uid}: not stored" for uid in missing)
    return SendReport(destination, len(stored.stored), failed)


def _refusal(problem: str, destination: str, credentials: DicomWebCredentials | None) -> str:
    problem = problem.replace(destination.rstrip("/"), public_url(destination).rstrip("/"))
    if problem.endswith(("HTTP 401", "HTTP 403")):
        hint = (
            "no [[export.credentials]] for it"
            if credentials is None
            else f"check the [[export.credentials]] of {credentials.url}"
        )
        return f"{problem} (sign-in refused: {hint})"
    return problem


def send_bundle_file(path: Path, endpoint: str, *, token: str | None = None) -> SendReport:
    """Post the FHIR bundle saved at ``path`` to ``endpoint``.

    Raises
    ------
    SendError
        The server cannot be reached or refused the bundle.
    """
    try:
        bundle = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise InputError(path, f"not a readable FHIR bundle: {err}") from None
    try:
        result = send_fhir(bundle, endpoint, token=token)
    except FhirError as err:
        raise SendError(str(err)) from None
    return SendReport(endpoint, len(result.locations) or 1)


def send_exports(
    files: Sequence[ExportedFile],
    settings: Settings,
    *,
    dicom_to: str = "",
    fhir_endpoint: str = "",
) -> list[SendReport]:
    """Send the DICOM files of ``files`` to ``dicom_to`` and FHIR bundles to ``fhir_endpoint``.

    An empty destination means: do not send that kind. Returns one report per destination
    that something was sent to.

    Raises
    ------
    SendError
        A destination cannot be reached or refused everything.
    """
    reports = []
    dicom = [f.path for f in files if f.media_type == "application/dicom"]
    if dicom and dicom_to:
        reports.append(send_dicom(dicom, dicom_to, settings))
    bundles = [f.path for f in files if f.media_type == "application/fhir+json"]
    if bundles and fhir_endpoint:
        token = os.environ.get(FHIR_TOKEN_ENV) or None
        reports += [send_bundle_file(p, fhir_endpoint, token=token) for p in bundles]
    for report in reports:
        log.info("sent %d to %s, %d failed", report.sent, report.destination, len(report.failed))
    return reports
