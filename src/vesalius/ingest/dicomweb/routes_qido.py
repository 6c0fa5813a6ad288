"""QIDO-RS routes: search for studies, series and instances (PS3.18 §10.6).

Answers are ``application/dicom+json`` arrays, ``200 []`` when nothing matches (what OHIF
expects). Matching keys the server does not support are named in a ``Warning: 299``
header, as PS3.18 asks, and otherwise ignored.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, Response

from vesalius.ingest.dicomweb.context import DICOM_JSON, DicomWebContext, http_errors
from vesalius.ingest.dicomweb.params import QidoQuery, parse_qido
from vesalius.ingest.dicomweb.qido import instance_json, series_json, study_json
from vesalius.ingest.dicomweb.queries import (
    InstanceRow,
    search_instances,
    search_series,
    search_studies,
)


def _answer(items: list[dict[str, Any]], query: QidoQuery) -> Response:
    headers = {}
    if query.ignored:
        keys = ", ".join(sorted(set(query.ignored))).encode("ascii", "replace").decode()
        headers["Warning"] = f'299 vesalius "These query keys are not supported: {keys}"'
    body = json.dumps(items, separators=(",", ":"))
    return Response(content=body, media_type=DICOM_JSON, headers=headers)


def _query(request: Request, **scope: str | None) -> QidoQuery:
    return parse_qido(request.query_params.multi_items()).scoped(**scope)


def add_qido_routes(router: APIRouter, ctx: DicomWebContext) -> None:
    """Add the QIDO-RS routes to ``router``."""

    def studies(request: Request) -> Response:
        with http_errors():
            query = _query(request)
            with ctx.store.read_session() as session:
                rows = search_studies(session, query)
            root = ctx.root(request)
            return _answer([study_json(row, root=root) for row in rows], query)

    def _series(request: Request, study: str | None) -> Response:
        with http_errors():
            query = _query(request, study_uid=study)
            with ctx.store.read_session() as session:
                rows = search_series(session, query)
            root = ctx.root(request)
            items = [series_json(r, root=root, with_study=study is None) for r in rows]
            return _answer(items, query)

    def _instances(request: Request, study: str | None, series: str | None) -> Response:
        with http_errors():
            query = _query(request, study_uid=study, series_uid=series)
            with ctx.store.read_session() as session:
                rows = search_instances(session, query)
            return _answer([_instance(row, request, query, series) for row in rows], query)

    def _instance(row: InstanceRow, request: Request, query: QidoQuery, series: str | None) -> Any:
        return instance_json(
            row,
            root=ctx.root(request),
            headers=ctx.headers,
            with_series=series is None,
            include=query.include,
            include_all=query.include_all,
        )

    def all_series(request: Request) -> Response:
        return _series(request, None)

    def study_series(request: Request, study: str) -> Response:
        return _series(request, study)

    def all_instances(request: Request) -> Response:
        return _instances(request, None, None)

    def study_instances(request: Request, study: str) -> Response:
        return _instances(request, study, None)

    def series_instances(request: Request, study: str, series: str) -> Response:
        return _instances(request, study, series)

    routes: list[tuple[str, Callable[..., Response]]] = [
        ("/studies", studies),
        ("/series", all_series),
        ("/studies/{study}/series", study_series),
        ("/instances", all_instances),
        ("/studies/{study}/instances", study_instances),
        ("/studies/{study}/series/{series}/instances", series_instances),
    ]
    for path, endpoint in routes:
        router.add_api_route(path, endpoint, methods=["GET"], response_class=Response)
