"""Attachments (附件) on the case and task pages: upload, download, delete.

The checks, the commands and the file store are :mod:`engine.attachments`; here are the
limits from the config, the object-level checks of :mod:`webapp.access` that come
first, and the refusals worded at the upload field in the page's language. The JSON API
(:mod:`webapp.api_attachments`) shares :func:`receive` and :func:`send`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from sqlalchemy.orm import Session
from werkzeug.exceptions import RequestEntityTooLarge

from engine.accounts import Principal
from engine.attachments import (
    DEFAULT_MAX_BYTES,
    DOCX,
    ENV_DIR,
    XLSX,
    AddAttachment,
    AttachmentStore,
    attach,
    check_file,
    detach,
    refuse,
)
from engine.errors import Conflict, NotFound, ValidationError
from engine.store.models import Attachment

from . import access
from .i18n import gettext, lazy_gettext
from .inbox import _case, _task_page
from .security import engine, login_required, safe_next

bp = Blueprint("attachments", __name__)

# Room for the multipart framing and the CSRF field around the file itself.
FORM_OVERHEAD = 64 * 1024
UPLOADERS = ("staff", "supervisor")
UPLOADS = {"attachments.to_case", "attachments.to_task"}
# Refusals (engine.attachments.refuse's reasons) as the page says them.
REASONS = {
    "missing": lazy_gettext("请选择要上传的文件。"),
    "name": lazy_gettext("文件需要有文件名。"),
    "type": lazy_gettext("不接受 %(ext)s 文件：请上传 PDF、PNG、JPEG、DOCX、XLSX、TXT 或 CSV。"),
    "empty": lazy_gettext("文件是空的。"),
    "size": lazy_gettext("文件超过 %(limit)s MB 的上限。"),
    "mismatch": lazy_gettext("文件扩展名是 %(ext)s，内容却是 %(found)s：已拒收。"),
}
# What refused content is (engine.attachments.describe), as the page says it.
CONTENT = {
    "application/pdf": lazy_gettext("PDF 文件"),
    "image/png": lazy_gettext("PNG 图片"),
    "image/jpeg": lazy_gettext("JPEG 图片"),
    DOCX: lazy_gettext("Word 文档（DOCX）"),
    XLSX: lazy_gettext("Excel 表格（XLSX）"),
    "text/plain": lazy_gettext("纯文本"),
    "windows-program": lazy_gettext("Windows 程序"),
    "linux-program": lazy_gettext("Linux 程序"),
    "gif": lazy_gettext("GIF 图片"),
    "zip": lazy_gettext("ZIP 压缩包"),
    "ole": lazy_gettext("旧版 Office 文件"),
    "rar": lazy_gettext("RAR 压缩包"),
    "html": lazy_gettext("HTML 等网页代码"),
    "unknown": lazy_gettext("无法识别的数据"),
}


def store() -> AttachmentStore:
    """``ATTACHMENTS_DIR`` in the config, ``$CASECLOCK_ATTACHMENTS_DIR``, or
    ``attachments/`` in the instance folder."""
    root = current_app.config.get("ATTACHMENTS_DIR") or os.environ.get(ENV_DIR)
    return AttachmentStore(root or Path(current_app.instance_path) / "attachments")


def max_bytes() -> int:
    """``ATTACHMENT_MAX_BYTES`` in the config, else ``$CASECLOCK_ATTACHMENT_MAX_MB``."""
    if current_app.config.get("ATTACHMENT_MAX_BYTES"):
        return int(current_app.config["ATTACHMENT_MAX_BYTES"])
    mb = os.environ.get("CASECLOCK_ATTACHMENT_MAX_MB")
    return int(mb) * 2**20 if mb and mb.isdigit() else DEFAULT_MAX_BYTES


def allow_upload_body() -> None:
    """Every other request keeps the app's small body limit; an upload gets its own."""
    request.max_content_length = max_bytes() + FORM_OVERHEAD


def receive(user: Principal, instance_id: int, task_id: int | None = None) -> Attachment:
    """Check and store the uploaded ``file`` field on the case (or its task)."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise refuse("missing", "choose a file to upload")
    limit = max_bytes()
    data = upload.stream.read(limit + 1)  # one byte more tells that it is too large
    checked = check_file(upload.filename, data, limit)
    supervisor = user.has("supervisor")
    command = AddAttachment(instance_id, user.key, checked, task_id, supervisor)
    return attach(engine(), store(), command, data)


def visible(attachment_id: int, user: Principal) -> Attachment:
    """The attachment, in place, of a case ``user`` may read."""
    app = engine()

    def load(session: Session) -> Attachment:
        row = session.get(Attachment, attachment_id)
        if row is None or row.deleted_at is not None:
            raise NotFound(f"no attachment {attachment_id}")
        org = app.services.org.snapshot(session)
        access.visible_case(session, row.instance_id, user, org, access.today(app))
        return row

    return app.read(load)


def send(row: Attachment) -> Response:
    """The file as a download, never rendered: whatever slipped through the checks, a
    browser neither sniffs nor runs it."""
    response = send_file(store().read(row), mimetype=row.media_type, as_attachment=True,
                         download_name=row.filename, max_age=0)  # fmt: skip
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "no-store"  # personal data: no copy kept anywhere
    return response


def field_error(exc: ValidationError) -> str:
    """A refusal in the page's language (the engine's English when no reason is known)."""
    reason, params = exc.details.get("reason"), dict(exc.details.get("params", {}))
    if reason not in REASONS:
        return exc.message
    if "found" in params:
        params["found"] = str(CONTENT.get(params["found"], params["found"]))
    return str(REASONS[reason]) % params


@bp.app_context_processor
def upload_limit() -> dict[str, int]:
    return {"attachment_limit_mb": max_bytes() // 2**20}


@bp.url_value_preprocessor
def raise_limit(endpoint: str | None, values: dict[str, Any] | None) -> None:
    # Before any before_request handler: the CSRF check is what reads the body first.
    if endpoint in UPLOADS:
        allow_upload_body()


@bp.errorhandler(RequestEntityTooLarge)
def too_large(exc: RequestEntityTooLarge) -> Any:
    message = str(REASONS["size"]) % {"limit": max_bytes() // 2**20}
    return render_template("error.html", status=413, code="too_large", message=message), 413


@bp.post("/cases/<int:instance_id>/attachments")
@login_required(*UPLOADERS)
def to_case(instance_id: int) -> Any:
    _case(instance_id)  # what you may not read you may not add to
    try:
        receive(g.user, instance_id)
    except ValidationError as exc:  # said once, at the field
        errors = {"attachment.file": field_error(exc)}
        return render_template("case.html", case=_case(instance_id), errors=errors), 422
    except Conflict as exc:
        flash(exc.message, "error")
    else:
        flash(gettext("附件已上传。"), "info")
    return redirect(url_for("inbox.case", instance_id=instance_id), 303)


@bp.post("/tasks/<int:task_id>/attachments")
@login_required(*UPLOADERS)
def to_task(task_id: int) -> Any:
    app = engine()

    def case_of(session: Session) -> int:
        org = app.services.org.snapshot(session)
        return access.visible_task(session, task_id, g.user, org, access.today(app)).instance_id

    instance_id = app.read(case_of)
    try:
        receive(g.user, instance_id, task_id)
    except ValidationError as exc:  # said once, at the field
        return _task_page(task_id, None, {"attachment.file": field_error(exc)}, 422)
    except Conflict as exc:
        flash(exc.message, "error")
    else:
        flash(gettext("附件已上传。"), "info")
    return redirect(url_for("inbox.task", task_id=task_id), 303)


@bp.get("/attachments/<int:attachment_id>")
@login_required()
def download(attachment_id: int) -> Any:
    return send(visible(attachment_id, g.user))


@bp.post("/attachments/<int:attachment_id>/delete")
@login_required(*UPLOADERS)
def delete(attachment_id: int) -> Any:
    row = visible(attachment_id, g.user)
    back = safe_next(request.form.get("next")) or url_for("inbox.case", instance_id=row.instance_id)
    try:
        detach(engine(), store(), attachment_id, g.user.key)
    except (Conflict, NotFound) as exc:
        flash(exc.message, "error")
    else:
        flash(gettext("附件已删除。"), "info")
    return redirect(back, 303)
