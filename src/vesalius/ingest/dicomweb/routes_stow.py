"""STOW-RS routes: ``POST /studies`` and ``POST /studies/{study}`` (PS3.18 §10.5).

The request must be ``multipart/related; type="application/dicom"`` (400 when it is not
multipart/related or has no boundary, 415 for another part type such as
``application/dicom+json``). Free disk space is checked first: below the floor the answer
is 507 and nothing is read or stored. The body is read up to ``max_body_bytes`` (413 above
it), split into parts, and each part stored durably in a worker thread; the answer is the
store response dataset with 200 (all stored), 202 (some failed) or 409 (none stored).
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from vesalius.errors import InputError
from vesalius.ingest.dicomweb.context import DICOM_JSON, DicomWebContext, http_errors
from vesalius.ingest.dicomweb.multipart import Part, parse_media_type, split_multipart
from vesalius.ingest.dicomweb.stow import CANNOT_UNDERSTAND, Failed, StowOutcome, store_parts

_DICOM_PARTS = ("application/dicom", "")


def _boundary(content_type: str | None) -> str:
    media = parse_media_type(content_type or "")
    if media.type != "multipart/related":
        raise HTTPException(400, f"Content-Type must be multipart/related, got {content_type!r}")
    part_type = media.params.get("type", "").lower()
    if part_type not in _DICOM_PARTS:
        raise HTTPException(
            415, f'only type="application/dicom" parts are stored, got {part_type!r}'
        )
    boundary = media.params.get("boundary")
    if not boundary:
        raise HTTPException(400, "Content-Type multipart/related has no boundary")
    return boundary


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"request body of {declared} bytes is over the {limit}-byte limit")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"request body is over the {limit}-byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


def _check_space(ctx: DicomWebContext, request: Request) -> None:
    declared = request.headers.get("content-length", "0")
    needed = ctx.options.min_free_bytes + (int(declared) if declared.isdigit() else 0)
    free = ctx.blobs.free_bytes()
    if free < needed:
        raise HTTPException(
            507, f"the store has {free} bytes free, below its floor; nothing stored"
        )


def _dicom_parts(parts: list[Part]) -> tuple[list[bytes], list[Failed]]:
    """The parts to store, and failures for parts of another media type."""
    keep: list[bytes] = []
    refused: list[Failed] = []
    for part in parts:
        part_type = parse_media_type(part.content_type or "").type
        if part_type in _DICOM_PARTS:
            keep.append(part.data)
        else:
            refused.append(Failed(None, None, CANNOT_UNDERSTAND, f"part of type {part_type}"))
    return keep, refused


def add_stow_routes(router: APIRouter, ctx: DicomWebContext) -> None:
    """Add the STOW-RS routes to ``router``."""

    async def store(request: Request, study: str | None) -> Response:
        boundary = _boundary(request.headers.get("content-type"))
        _check_space(ctx, request)
        body = await _read_body(request, ctx.options.max_body_bytes)
        try:
            parts = split_multipart(body, boundary=boundary)
        except InputError as err:
            raise HTTPException(400, str(err)) from None
        del body
        keep, refused = _dicom_parts(parts)
        with http_errors():
            outcome = await run_in_threadpool(
                store_parts,
                keep,
                store=ctx.store,
                blobs=ctx.blobs,
                study_uid=study,
                on_duplicate=ctx.options.on_duplicate,
            )
        outcome = StowOutcome(outcome.stored, outcome.failed + tuple(refused))
        answer = outcome.to_json(root=ctx.root(request), study_uid=study)
        return JSONResponse(answer, status_code=outcome.status, media_type=DICOM_JSON)

    async def store_any(request: Request) -> Response:
        return await store(request, None)

    async def store_in_study(request: Request, study: str) -> Response:
        return await store(request, study)

    router.add_api_route("/studies", store_any, methods=["POST"], response_class=Response)
    router.add_api_route(
        "/studies/{study}", store_in_study, methods=["POST"], response_class=Response
    )
