"""A DICOMweb client for remote servers (Orthanc, dcm4chee, another Vesalius).

:class:`DicomWebPeer` is a thin wrapper over ``dicomweb-client``'s ``DICOMwebClient``: the
same calls, results as pydicom datasets, and network or HTTP failures raised as
:class:`DicomWebError` naming the server and what it answered.

Examples
--------
>>> peer = DicomWebPeer("http://127.0.0.1:1/dicom-web", timeout=0.5, retry=False)
>>> try:
...     peer.search_studies()
... except DicomWebError as err:
...     print(err)
http://127.0.0.1:1/dicom-web: cannot search studies: ConnectionError
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
from dicomweb_client.api import DICOMwebClient
from pydicom import Dataset

from vesalius.errors import VesaliusError

log = logging.getLogger(__name__)
T = TypeVar("T")


class DicomWebError(VesaliusError):
    """A DICOMweb server could not be reached or refused a request."""


@dataclass(frozen=True)
class StoreResult:
    """What a remote STOW-RS stored (SOP Instance UIDs) and refused (UID, FailureReason)."""

    stored: tuple[str, ...]
    failed: tuple[tuple[str, int], ...]


def _store_result(response: Dataset) -> StoreResult:
    stored = tuple(
        str(item.ReferencedSOPInstanceUID) for item in response.get("ReferencedSOPSequence", [])
    )
    failed = tuple(
        (str(item.get("ReferencedSOPInstanceUID", "")), int(item.get("FailureReason", 0)))
        for item in response.get("FailedSOPSequence", [])
    )
    return StoreResult(stored, failed)


class DicomWebPeer:
    """A remote DICOMweb server.

    Parameters
    ----------
    url
        The DICOMweb root (``http://host:8042/dicom-web``).
    timeout
        Seconds to wait for each request.
    headers
        Extra HTTP headers sent with every request (``Authorization``...).
    retry
        Retry with back-off when the server is busy or unreachable (``dicomweb-client``'s
        policy); off, the first failure raises.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 30.0,
        headers: Mapping[str, str] | None = None,
        retry: bool = True,
    ) -> None:
        self.url = url.rstrip("/")
        self.client = DICOMwebClient(self.url, headers=dict(headers or {}), timeout=timeout)
        self.client.set_http_retry_params(retry=retry)

    def _error(self, what: str, err: requests.RequestException) -> DicomWebError:
        if isinstance(err, requests.HTTPError) and err.response is not None:
            return DicomWebError(f"{self.url}: cannot {what}: HTTP {err.response.status_code}")
        return DicomWebError(f"{self.url}: cannot {what}: {type(err).__name__}")

    def _call(self, what: str, call: Callable[[], T]) -> T:
        try:
            return call()
        except requests.RequestException as err:
            raise self._error(what, err) from None

    @staticmethod
    def _datasets(found: Sequence[Mapping[str, Any]]) -> list[Dataset]:
        return [Dataset.from_json(dict(item)) for item in found]

    def search_studies(self, filters: Mapping[str, Any] | None = None, **kw: Any) -> list[Dataset]:
        """QIDO-RS ``/studies``; ``filters`` by keyword, ``kw`` as ``DICOMwebClient`` takes."""
        found = self._call(
            "search studies",
            lambda: self.client.search_for_studies(search_filters=dict(filters or {}), **kw),
        )
        return self._datasets(found)

    def search_series(
        self, study_uid: str | None = None, filters: Mapping[str, Any] | None = None, **kw: Any
    ) -> list[Dataset]:
        """QIDO-RS ``/series`` or ``/studies/{study}/series``."""
        found = self._call(
            "search series",
            lambda: self.client.search_for_series(
                study_uid, search_filters=dict(filters or {}), **kw
            ),
        )
        return self._datasets(found)

    def search_instances(
        self,
        study_uid: str | None = None,
        series_uid: str | None = None,
        filters: Mapping[str, Any] | None = None,
        **kw: Any,
    ) -> list[Dataset]:
        """QIDO-RS ``/instances`` at any scope."""
        found = self._call(
            "search instances",
            lambda: self.client.search_for_instances(
                study_uid, series_uid, search_filters=dict(filters or {}), **kw
            ),
        )
        return self._datasets(found)

    def retrieve_study(self, study_uid: str) -> list[Dataset]:
        """WADO-RS: every instance of a study."""
        return self._call("retrieve study", lambda: self.client.retrieve_study(study_uid))

    def retrieve_series(self, study_uid: str, series_uid: str) -> list[Dataset]:
        """WADO-RS: every instance of a series."""
        return self._call(
            "retrieve series", lambda: self.client.retrieve_series(study_uid, series_uid)
        )

    def retrieve_instance(self, study_uid: str, series_uid: str, sop_uid: str) -> Dataset:
        """WADO-RS: one instance."""
        return self._call(
            "retrieve instance",
            lambda: self.client.retrieve_instance(study_uid, series_uid, sop_uid),
        )

    def retrieve_metadata(self, study_uid: str, series_uid: str, sop_uid: str) -> Dataset:
        """WADO-RS: one instance's metadata (bulk data as BulkDataURI)."""
        found = self._call(
            "retrieve metadata",
            lambda: self.client.retrieve_instance_metadata(study_uid, series_uid, sop_uid),
        )
        return Dataset.from_json(found)

    def retrieve_frames(
        self,
        study_uid: str,
        series_uid: str,
        sop_uid: str,
        frames: Sequence[int],
        *,
        media_types: tuple[str | tuple[str, str], ...] | None = None,
    ) -> list[bytes]:
        """WADO-RS: frames (1-based) of one instance, uncompressed unless ``media_types``."""
        return self._call(
            "retrieve frames",
            lambda: self.client.retrieve_instance_frames(
                study_uid, series_uid, sop_uid, list(frames), media_types=media_types
            ),
        )

    def store(self, datasets: Sequence[Dataset], *, study_uid: str | None = None) -> StoreResult:
        """STOW-RS; a partial or total refusal (202, 409) is reported, not raised."""
        try:
            response = self.client.store_instances(list(datasets), study_uid)
        except requests.RequestException as err:
            answer = err.response if isinstance(err, requests.HTTPError) else None
            if answer is not None and answer.status_code == 409:
                return _store_result(Dataset.from_json(answer.json()))
            raise self._error("store instances", err) from None
        return _store_result(response)
