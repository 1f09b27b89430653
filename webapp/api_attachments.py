"""The JSON API of attachments (bearer token, see :mod:`webapp.api`): list and upload on
a case, download and delete one. Uploads are multipart (``file``, optional
``task_id``); refusals are JSON with the field that failed."""

from __future__ import annotations

from typing import Any

from flask import g, request
from sqlalchemy.orm import Session

from engine.attachments import detach
from engine.errors import ValidationError
from engine.inputs import whole_number

from . import access, api_schemas, reads
from .api import answer, bp, engine, need
from .attachments import UPLOADERS, allow_upload_body, receive, send, store, visible


def _readable(session: Session, instance_id: int) -> None:
    app = engine()
    org = app.services.org.snapshot(session)
    access.visible_case(session, instance_id, g.user, org, access.today(app))


def _task_number(raw: str) -> int | None:
    """The optional ``task_id`` field: an id (``"²"``, a digit to ``str.isdigit`` but not to
    ``int``, or a number larger than any id, is a 422 at the field, not a 500)."""
    if not raw.strip():
        return None
    task_id = whole_number(raw)
    if task_id is None:
        raise ValidationError("task_id must be a task number",
                              details={"fields": {"task_id": "a task number"}})  # fmt: skip
    return task_id


@bp.get("/api/instances/<int:instance_id>/attachments")
@bp.response(200, api_schemas.Attachment(many=True))
@bp.fails(403, 404)
def attachments(instance_id: int) -> Any:
    """A case's attachments (those not deleted), oldest first."""
    tz = engine().services.timezone

    def load(session: Session) -> list[dict[str, Any]]:
        _readable(session, instance_id)
        return reads.case_attachments(session, instance_id, tz)

    return answer(engine().read(load))


@bp.post("/api/instances/<int:instance_id>/attachments")
@bp.takes(api_schemas.AttachmentUpload, required=True, media="multipart/form-data")
@bp.response(201, api_schemas.Attachment)
@bp.fails(403, 404, 409, 413, 422)
def add_attachment(instance_id: int) -> Any:
    """Upload a file to a case (multipart ``file``, optional ``task_id``); a concluded case
    takes none (409)."""
    need(*UPLOADERS)
    allow_upload_body()  # before anything reads the body
    engine().read(lambda s: _readable(s, instance_id))
    row = receive(g.user, instance_id, _task_number(request.form.get("task_id", "")))
    return answer(reads.attachment_view(row, engine().services.timezone, g.user.name)), 201


@bp.get("/api/attachments/<int:attachment_id>")
@bp.response(200, {"type": "string", "format": "binary"}, content_type="*/*",
             description="the file, with the media type it was stored with")  # fmt: skip
@bp.fails(403, 404)
def attachment(attachment_id: int) -> Any:
    """Download an attachment (always as a download, never shown inline)."""
    return send(visible(attachment_id, g.user))


@bp.delete("/api/attachments/<int:attachment_id>")
@bp.response(200, api_schemas.Attachment)
@bp.fails(403, 404, 409)
def delete_attachment(attachment_id: int) -> Any:
    """Delete an attachment you added (the audit trail keeps the record)."""
    need(*UPLOADERS)
    visible(attachment_id, g.user)
    row = detach(engine(), store(), attachment_id, g.user.key)
    return answer(reads.attachment_view(row, engine().services.timezone))
