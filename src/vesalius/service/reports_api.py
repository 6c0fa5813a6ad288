"""Report routes: read a study's report, edit it, judge its findings, sign and amend it.

- ``GET /api/studies/{study_uid}/report`` (read-reports): the latest report, its sentences
  linked to findings (AI ones marked with algorithm and version) and its history (from the
  audit trail); 404 while the study has none.
- ``PUT /api/reports/{id}/text`` (edit-report): draft or preliminary only, else 409.
- ``POST /api/reports/{id}/findings/{finding_id}/feedback`` (edit-report): accept, edit or
  reject a finding; kept for quality assurance.
- ``POST /api/reports/{id}/preliminary`` (edit-report): draft -> preliminary.
- ``POST /api/reports/{id}/sign`` (sign-report: radiologists): draft or preliminary ->
  final, signed by the caller; 409 otherwise. Then the exports the settings ask for on
  sign-off (``[export] on_sign``) are made and sent, each audited; their results are in
  the answer's ``exports`` (a failed export never undoes the signature).
- ``POST /api/reports/{id}/amend`` (sign-report): a signed report gets new text and a new
  signature; the on-sign exports are made again (FHIR status ``amended``, a new SR that
  names the previous one as predecessor), in ``exports`` as for signing.

A change to a study that another reader has claimed is refused with 409. Every read and
change is audited; signing and amending also announce a ``worklist`` event.

Examples
--------
>>> import pathlib, tempfile
>>> from fastapi import FastAPI
>>> from fastapi.testclient import TestClient
>>> from vesalius.service.context import AppContext, Principal
>>> from vesalius.store import BlobStore, open_store, sqlite_url
>>> from vesalius.store.roles import Role
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> store = open_store(sqlite_url(root / "i.sqlite3"))
>>> def authorize(permission):
...     return lambda: Principal("dr.grey", Role.RADIOLOGIST, source="127.0.0.1")
>>> app = FastAPI()
>>> app.include_router(make_router(AppContext(store, BlobStore(root / "b"), authorize)))
>>> r = TestClient(app).get("/api/studies/1.2.3/report")
>>> r.status_code, r.json()
(404, {'detail': 'no study 1.2.3'})
>>> store.close()
"""

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from vesalius.export.on_sign import export_on_sign
from vesalius.reporting import review
from vesalius.reporting.worklist import NotFoundError
from vesalius.service.context import AppContext, Principal
from vesalius.service.worklist_api import audit, audited_errors, event_hub, write_audited
from vesalius.store.models import Report, Study
from vesalius.store.roles import Permission
from vesalius.store.states import AuditOutcome

MAX_TEXT = 100_000


class TextBody(BaseModel):
    """A report's new text."""

    text: str = Field(max_length=MAX_TEXT)


class FeedbackBody(BaseModel):
    """A radiologist's decision about a finding."""

    decision: Literal["accept", "edit", "reject"]
    comment: str | None = Field(default=None, max_length=4000)
    value: float | str | None = None


def _study_exists(session: Session, study_uid: str) -> None:
    if session.scalar(select(Study.id).where(Study.study_uid == study_uid)) is None:
        raise NotFoundError(f"no study {study_uid}")


def make_router(ctx: AppContext) -> APIRouter:
    """The report routes over ``ctx``."""
    router = APIRouter(tags=["reports"])
    reader = Annotated[Principal, Depends(ctx.authorize(Permission.READ_REPORTS))]
    editor = Annotated[Principal, Depends(ctx.authorize(Permission.EDIT_REPORT))]
    signer = Annotated[Principal, Depends(ctx.authorize(Permission.SIGN_REPORT))]

    def change(
        principal: Principal,
        report_id: int,
        verb: str,
        work: Callable[[Session], Report],
        detail: str | None = None,
    ) -> dict[str, Any]:
        oid = str(report_id)
        with audited_errors(ctx, principal, verb, "report", oid), ctx.store.session() as session:
            report = work(session)
            audit(ctx, principal, verb, "report", oid, detail=detail, session=session)
            return review.report_view(session, report)

    @router.get("/api/studies/{study_uid}/report")
    def read_report(study_uid: str, principal: reader) -> dict[str, Any]:
        with audited_errors(ctx, principal, "read", "study-report", study_uid):
            with ctx.store.read_session() as session:
                _study_exists(session, study_uid)
                view = review.report_view(session, review.latest_report(session, study_uid))
            audit(ctx, principal, "read", "report", str(view["id"]))
            return view

    @router.put("/api/reports/{report_id}/text")
    def put_text(report_id: int, body: TextBody, principal: editor) -> dict[str, Any]:
        return change(
            principal,
            report_id,
            "edit-text",
            lambda s: review.edit_text(s, report_id, body.text, principal.username),
            detail=f"{len(body.text)} characters",
        )

    @router.post("/api/reports/{report_id}/findings/{finding_id}/feedback")
    def feedback(
        report_id: int, finding_id: int, body: FeedbackBody, principal: editor
    ) -> dict[str, Any]:
        words = f"{body.decision} finding {finding_id}" + (
            f": {body.comment}" if body.comment else ""
        )
        given = write_audited(
            ctx,
            principal,
            ("feedback", "report", str(report_id)),
            lambda s: review.give_feedback(
                s,
                report_id,
                finding_id,
                principal.username,
                decision=body.decision,
                comment=body.comment,
                value=body.value,
            ),
            detail=lambda _: words,
        )
        return {"finding_id": finding_id, **given.to_json()}

    @router.post("/api/reports/{report_id}/preliminary")
    def preliminary(report_id: int, principal: editor) -> dict[str, Any]:
        view = change(
            principal,
            report_id,
            "preliminary",
            lambda s: review.mark_preliminary(s, report_id, principal.username),
        )
        event_hub(ctx).worklist(view["study_uid"], "preliminary")
        return view

    @router.post("/api/reports/{report_id}/sign")
    def sign(report_id: int, principal: signer) -> dict[str, Any]:
        view = change(
            principal,
            report_id,
            "sign",
            lambda s: review.sign(s, report_id, principal.username),
            detail=f"signed by {principal.full_name or principal.username}",
        )
        event_hub(ctx).worklist(view["study_uid"], "reported")
        view["exports"] = _exports_on_sign(principal, view["study_uid"])
        return view

    def _exports_on_sign(principal: Principal, study_uid: str) -> list[dict[str, Any]]:
        """Run the ``[export] on_sign`` exports; each is audited; none undoes the signature."""
        shown = []
        for result in export_on_sign(ctx.store, ctx.blobs, ctx.settings, study_uid):
            files = [f.name for f in result.files]
            words = f"{result.kind} on sign-off: {len(files)} file(s)"
            audit(
                ctx,
                principal,
                "export",
                "study",
                study_uid,
                outcome=AuditOutcome.SUCCESS if result.ok else AuditOutcome.FAILURE,
                detail=words + (f"; {result.error}" if result.error else ""),
            )
            shown.append(
                {"kind": result.kind, "ok": result.ok, "files": files, "error": result.error}
            )
        return shown

    @router.post("/api/reports/{report_id}/amend")
    def amend(report_id: int, body: TextBody, principal: signer) -> dict[str, Any]:
        view = change(
            principal,
            report_id,
            "amend",
            lambda s: review.amend(s, report_id, body.text, principal.username),
            detail=f"{len(body.text)} characters",
        )
        event_hub(ctx).worklist(view["study_uid"], "reported")
        view["exports"] = _exports_on_sign(principal, view["study_uid"])
        return view

    return router
