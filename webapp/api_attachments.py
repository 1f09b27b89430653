"""The JSON API of attachments (bearer token, see :mod:`webapp.api`): list and upload on
a case, download and delete one. Uploads are multipart (``file``, optional
``task_id``); refusals are JSON with the field that failed."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify, request
from sqlalchemy.orm import Session

from engine.attachments import detach
from engine.errors import ValidationError

from . import access, reads
from .api import bp, engine, need
from .attachments import UPLOADERS, allow_upload_body, receive, send, store, visible


def _readable(session: Session, instance_id: int) -> None:
    app = engine()
    org = app.services.org.snapshot(session)
    access.visible_case(session, instance_id, g.user, org, access.today(app))


@bp.get("/api/instances/<int:instance_id>/attachments")
def attachments(instance_id: int) -> Any:
    """A case's attachments (those not deleted), oldest first."""
    tz = engine().services.timezone

    def load(session: Session) -> list[dict[str, Any]]:
        _readable(session, instance_id)
        return reads.case_attachments(session, instance_id, tz)

    return jsonify(engine().read(load))


@bp.post("/api/instances/<int:instance_id>/attachments")
def add_attachment(instance_id: int) -> Any:
    """Upload a file to a case (multipart ``file``, optional ``task_id``)."""
    need(*UPLOADERS)
    allow_upload_body()  # before anything reads the body
    engine().read(lambda s: _readable(s, instance_id))
    raw = request.form.get("task_id", "").strip()
    if raw and not raw.isdigit():
        raise ValidationError("task_id must be a task number",
                              details={"fields": {"task_id": "a task number"}})  # fmt: skip
    row = receive(g.user, instance_id, int(raw) if raw else None)
    return jsonify(reads.attachment_view(row, engine().services.timezone, g.user.name)), 201


@bp.get("/api/attachments/<int:attachment_id>")
def attachment(attachment_id: int) -> Any:
    """Download an attachment (always as a download, never shown inline)."""
    return send(visible(attachment_id, g.user))


@bp.delete("/api/attachments/<int:attachment_id>")
def delete_attachment(attachment_id: int) -> Any:
    """Delete an attachment you added (the audit trail keeps the record)."""
    need(*UPLOADERS)
    visible(attachment_id, g.user)
    row = detach(engine(), store(), attachment_id, g.user.key)
    return jsonify(reads.attachment_view(row, engine().services.timezone))
