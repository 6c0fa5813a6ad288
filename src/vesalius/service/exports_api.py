"""Export routes: make a study's exports and download them (permission ``export``).

- ``POST /api/studies/{study_uid}/exports {"to": "seg"|"sr"|"fhir"|"pdf"|"mesh"|"pmap",
  "format"?: "stl"|"obj"|"glb"}`` -> ``{"files": [{"name", "media_type", "url"}]}``: the
  files are written under the study's export folder (``<data dir>/exports/<study>/`` or
  ``[export] out_dir``); 404 for an unknown study, 409 when it has nothing of that kind to
  export (no findings and no report; no segmentation), 422 for an unknown kind.
- ``GET /api/studies/{study_uid}/exports/{name}`` streams one exported file with its
  media type (the PDF, a mesh...); 404 when there is no such file. Names are plain file
  names: anything with a path separator or outside the folder is refused.

Every export and download is written to the audit trail (who, what, the client address,
the outcome), refusals included.

Examples
--------
>>> import pathlib, tempfile
>>> from fastapi import FastAPI
>>> from fastapi.testclient import TestClient
>>> from vesalius.service.context import AppContext, Principal
>>> from vesalius.settings import Settings
>>> from vesalius.store import BlobStore, open_store, sqlite_url
>>> from vesalius.store.roles import Role
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> store = open_store(sqlite_url(root / "i.sqlite3"))
>>> def authorize(permission):
...     return lambda: Principal("dr.grey", Role.RADIOLOGIST, source="127.0.0.1")
>>> ctx = AppContext(store, BlobStore(root / "b"), authorize, Settings(data_dir=root))
>>> app = FastAPI()
>>> app.include_router(make_router(ctx))
>>> answer = TestClient(app).post("/api/studies/1.2.3/exports", json={"to": "pdf"})
>>> answer.status_code, answer.json()
(404, {'detail': 'study 1.2.3 is not in the store'})
>>> store.close()
"""

import logging
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import FileResponse
from pydantic import BaseModel

from vesalius.errors import InputError, StoreError
from vesalius.export.content import NothingToExportError, UnknownStudyError
from vesalius.export.dispatch import MEDIA_TYPES, MeshOptions, export_study, study_export_dir
from vesalius.service.auth.audit_log import audit
from vesalius.service.context import AppContext, Principal
from vesalius.store.roles import Permission
from vesalius.store.states import AuditOutcome

log = logging.getLogger(__name__)

PREFIX = "/api/studies/{study_uid}/exports"


class ExportRequest(BaseModel):
    """What to export."""

    to: Literal["seg", "sr", "fhir", "pdf", "mesh", "pmap"]
    format: Literal["stl", "obj", "glb"] = "stl"


class FileLink(BaseModel):
    """One exported file and where to download it."""

    name: str
    media_type: str
    url: str


class ExportAnswer(BaseModel):
    """The files an export wrote."""

    files: list[FileLink]


def _audit(
    ctx: AppContext,
    principal: Principal,
    action: str,
    study_uid: str,
    *,
    outcome: AuditOutcome = AuditOutcome.SUCCESS,
    detail: str | None = None,
) -> None:
    audit(ctx, principal, action, "study", study_uid, outcome, detail)


def _status(err: Exception) -> int:
    if isinstance(err, UnknownStudyError):
        return 404
    if isinstance(err, NothingToExportError | StoreError):
        return 409
    return 400


def make_router(ctx: AppContext) -> APIRouter:
    """The export routes, bound to ``ctx``."""
    router = APIRouter()
    exporter = Depends(ctx.authorize(Permission.EXPORT))

    @router.post(PREFIX, response_model=ExportAnswer)
    def make_export(
        study_uid: str, request: ExportRequest, principal: Annotated[Principal, exporter]
    ) -> ExportAnswer:
        """Export the study as asked; the files and their download URLs."""
        try:
            folder = study_export_dir(ctx.settings, study_uid)
            mesh = MeshOptions(fmt=request.format)
            files = export_study(ctx.store, ctx.blobs, study_uid, request.to, folder, mesh=mesh)
        except (InputError, StoreError) as err:
            words = err.problem if isinstance(err, InputError) else str(err)
            _audit(ctx, principal, "export", study_uid, outcome=AuditOutcome.FAILURE, detail=words)
            raise HTTPException(_status(err), words) from None
        names = ", ".join(f.name for f in files)
        _audit(ctx, principal, "export", study_uid, detail=f"{request.to}: {names}")
        base = PREFIX.format(study_uid=study_uid)
        return ExportAnswer(
            files=[
                FileLink(name=f.name, media_type=f.media_type, url=f"{base}/{f.name}")
                for f in files
            ]
        )

    @router.get(PREFIX + "/{name}")
    def download(
        study_uid: str, name: str, principal: Annotated[Principal, exporter]
    ) -> FileResponse:
        """Stream one exported file."""
        try:
            folder = study_export_dir(ctx.settings, study_uid)
        except InputError as err:
            raise HTTPException(404, err.problem) from None
        path = folder / name
        plain = name not in ("", ".", "..") and "/" not in name and "\\" not in name
        if not plain or not path.is_file() or path.resolve().parent != folder.resolve():
            _audit(
                ctx,
                principal,
                "download",
                study_uid,
                outcome=AuditOutcome.FAILURE,
                detail=f"no export {name!r}",
            )
            raise HTTPException(404, f"study {study_uid} has no export {name!r}")
        _audit(ctx, principal, "download", study_uid, detail=name)
        media_type = MEDIA_TYPES.get(path.suffix.lstrip("."), "application/octet-stream")
        return FileResponse(path, media_type=media_type, filename=name)

    return router
