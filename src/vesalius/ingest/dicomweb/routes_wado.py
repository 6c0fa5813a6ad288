"""WADO-RS routes: instances, metadata, frames, bulk data and rendered images (PS3.18 §10.4).

Instances are sent as stored (``multipart/related; type="application/dicom"``), each read
from the blob store with its checksum verified, one part at a time so that a large series
streams. Metadata is a DICOM JSON array, also streamed instance by instance.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from io import BytesIO

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import StreamingResponse
from pydicom import Dataset, dcmread
from pydicom.errors import InvalidDicomError

from vesalius.errors import InputError, StoreError
from vesalius.ingest.dicomweb.context import DICOM_JSON, DicomWebContext, http_errors, not_found
from vesalius.ingest.dicomweb.frames import (
    COMPRESSED_MEDIA,
    OCTET_STREAM,
    decoded_frames,
    stored_frames,
    transfer_syntax,
)
from vesalius.ingest.dicomweb.metadata import instance_metadata
from vesalius.ingest.dicomweb.multipart import iter_multipart, new_boundary
from vesalius.ingest.dicomweb.negotiate import (
    FrameChoice,
    frames_choice,
    instances_acceptable,
    rendered_choice,
)
from vesalius.ingest.dicomweb.queries import BlobToSend, instances_to_retrieve
from vesalius.ingest.dicomweb.rendered import Window, render_frame


def parse_frame_list(text: str) -> list[int]:
    """``"1,3,5"`` as frame numbers.

    Examples
    --------
    >>> parse_frame_list("1, 3")
    [1, 3]
    """
    try:
        numbers = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise InputError(None, f"frame list {text!r} is not comma-separated numbers") from None
    if not numbers or min(numbers) < 1:
        raise InputError(None, f"frame list {text!r}: frame numbers start at 1")
    return numbers


def _multipart(parts: Iterator[bytes | tuple[bytes, str]], media_type: str) -> StreamingResponse:
    boundary = new_boundary()
    return StreamingResponse(
        iter_multipart(parts, boundary=boundary, media_type=media_type),
        media_type=f'multipart/related; type="{media_type}"; boundary={boundary}',
    )


class _Wado:
    """The WADO-RS handlers, sharing one context."""

    def __init__(self, ctx: DicomWebContext) -> None:
        self.ctx = ctx

    def _find(
        self, study: str, series: str | None = None, sop: str | None = None
    ) -> list[BlobToSend]:
        with self.ctx.store.read_session() as session:
            found = instances_to_retrieve(session, study, series_uid=series, sop_uid=sop)
        if not found:
            raise not_found(" / ".join(uid for uid in (study, series, sop) if uid))
        return found

    def _dataset(self, study: str, series: str, sop: str) -> Dataset:
        blob = self._find(study, series, sop)[0]
        data = self.ctx.blobs.get(blob.blob_path)
        try:
            return dcmread(BytesIO(data))
        except (InvalidDicomError, EOFError, ValueError) as err:
            raise StoreError(f"stored instance {sop} cannot be read: {err}") from None

    def instances(
        self, request: Request, study: str, series: str | None, sop: str | None
    ) -> Response:
        with http_errors():
            found = self._find(study, series, sop)
            syntaxes = {b.transfer_syntax_uid or "" for b in found}
            if not instances_acceptable(request.headers.get("accept"), syntaxes):
                raise HTTPException(
                    406, f"instances are stored as {sorted(syntaxes)}; no transcoding"
                )
            blobs = self.ctx.blobs
            return _multipart((blobs.get(b.blob_path) for b in found), "application/dicom")

    def metadata(
        self, request: Request, study: str, series: str | None, sop: str | None
    ) -> Response:
        with http_errors():
            found = self._find(study, series, sop)
            root = self.ctx.root(request)

            def chunks() -> Iterator[bytes]:
                for i, blob in enumerate(found):
                    url = f"{root}/studies/{study}/series/{blob.series_uid}"
                    url += f"/instances/{blob.sop_instance_uid}"
                    meta = instance_metadata(
                        self.ctx.headers.header(blob.blob_path), instance_url=url
                    )
                    yield (b"[" if i == 0 else b",") + json.dumps(
                        meta, separators=(",", ":")
                    ).encode()
                yield b"]"

            return StreamingResponse(chunks(), media_type=DICOM_JSON)

    def frames(self, request: Request, study: str, series: str, sop: str, frames: str) -> Response:
        with http_errors():
            numbers = parse_frame_list(frames)
            ds = self._dataset(study, series, sop)
            stored_media = COMPRESSED_MEDIA.get(transfer_syntax(ds), OCTET_STREAM)
            choice = frames_choice(request.headers.get("accept"), stored_media=stored_media)
            if choice is None:
                raise HTTPException(
                    406, f"frames are stored as {stored_media}; ask for it or octet-stream"
                )
            pick = stored_frames if choice is FrameChoice.STORED else decoded_frames
            found = pick(ds, numbers, source=sop)
            parts = iter([(f.data, f.content_type) for f in found])
            return _multipart(parts, found[0].media_type)

    def bulk(self, study: str, series: str, sop: str, tag: str) -> Response:
        with http_errors():
            ds = self._dataset(study, series, sop)
            try:
                element = ds[int(tag, 16)]
            except (ValueError, KeyError):
                raise not_found(f"attribute {tag} of {sop}") from None
            value = element.value if isinstance(element.value, bytes) else b""
            return _multipart(iter([value]), OCTET_STREAM)

    def rendered(self, request: Request, study: str, series: str, sop: str, frame: int) -> Response:
        with http_errors():
            media = rendered_choice(request.headers.get("accept"))
            if media is None:
                raise HTTPException(406, "rendered images are image/jpeg or image/png")
            params = request.query_params
            window = Window.parse(params["window"]) if "window" in params else None
            quality = (
                int(params.get("quality", "90")) if params.get("quality", "90").isdigit() else 90
            )
            ds = self._dataset(study, series, sop)
            image = render_frame(
                ds, frame, media_type=media, window=window, quality=quality, source=sop
            )
            return Response(content=image, media_type=media)


def add_wado_routes(router: APIRouter, ctx: DicomWebContext) -> None:
    """Add the WADO-RS routes to ``router``."""
    wado = _Wado(ctx)
    instance = "/studies/{study}/series/{series}/instances/{sop}"

    def study_instances(request: Request, study: str) -> Response:
        return wado.instances(request, study, None, None)

    def series_instances(request: Request, study: str, series: str) -> Response:
        return wado.instances(request, study, series, None)

    def one_instance(request: Request, study: str, series: str, sop: str) -> Response:
        return wado.instances(request, study, series, sop)

    def study_metadata(request: Request, study: str) -> Response:
        return wado.metadata(request, study, None, None)

    def series_metadata(request: Request, study: str, series: str) -> Response:
        return wado.metadata(request, study, series, None)

    def instance_metadata_(request: Request, study: str, series: str, sop: str) -> Response:
        return wado.metadata(request, study, series, sop)

    def frames(request: Request, study: str, series: str, sop: str, frames: str) -> Response:
        return wado.frames(request, study, series, sop, frames)

    def bulk(study: str, series: str, sop: str, tag: str) -> Response:
        return wado.bulk(study, series, sop, tag)

    def rendered(request: Request, study: str, series: str, sop: str) -> Response:
        return wado.rendered(request, study, series, sop, 1)

    def frame_rendered(
        request: Request, study: str, series: str, sop: str, frames: str
    ) -> Response:
        with http_errors():
            first = parse_frame_list(frames)[0]
        return wado.rendered(request, study, series, sop, first)

    routes: list[tuple[str, Callable[..., Response]]] = [
        ("/studies/{study}", study_instances),
        ("/studies/{study}/series/{series}", series_instances),
        (instance, one_instance),
        ("/studies/{study}/metadata", study_metadata),
        ("/studies/{study}/series/{series}/metadata", series_metadata),
        (f"{instance}/metadata", instance_metadata_),
        (f"{instance}/frames/{{frames}}", frames),
        (f"{instance}/bulk/{{tag}}", bulk),
        (f"{instance}/rendered", rendered),
        (f"{instance}/frames/{{frames}}/rendered", frame_rendered),
    ]
    for path, endpoint in routes:
        router.add_api_route(path, endpoint, methods=["GET"], response_class=Response)
