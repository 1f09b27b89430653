"""The JSON API of the notice templates (bearer token, admins; see :mod:`webapp.api`): the
wording of staff and debtor notices, as ``/admin/notices`` and ``caseclock notices`` edit
it, through the same engine functions (:mod:`engine.notice_templates`)."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify

from engine.errors import at_field
from engine.notice_templates import (
    KINDS,
    ResetNoticeTemplate,
    SetNoticeTemplate,
    check_template,
    fields,
    preview,
    tidy,
)
from engine.notices import LOCALES

from . import admin_views, api_schemas, openapi
from .api import answer, body, bp, engine, need

_WHICH = [openapi.path_choice("kind", KINDS), openapi.path_choice("locale", LOCALES)]
_WORDING = (api_schemas.StaffWording, api_schemas.DebtorSubject, api_schemas.DebtorPart)


@bp.get("/api/notice-templates")
@bp.response(200, api_schemas.NoticeTemplate(many=True))
@bp.fails(403)
def notice_templates() -> Any:
    """Every kind of notice in every locale: the wording in use, the shipped one, the
    placeholders it may use and must keep, who edited it.

    A staff notice has a `subject` and a `body`; a debtor notice's subject
    (`debtor.<kind>.subject`) a `subject` alone; a debtor notice's part
    (`debtor.part.<part>`) a heading and a text, stored as `subject` and `body`
    (`fields` names them)."""
    need("admin")
    app = engine()
    return answer(app.read(lambda s: admin_views.notices(s, app.services.timezone))["templates"])


@bp.put("/api/notice-templates/<kind>/<locale>", parameters=_WHICH)
@bp.takes(*_WORDING, required=True)
@bp.response(200, api_schemas.TemplateSaved)
@bp.fails(403, 422)
def notice_template_set(kind: str, locale: str) -> Any:
    """Reword notices of `kind` in `locale`: `{"subject", "body"}`, `{"subject"}` or
    `{"heading", "text"}` as `fields` says; answers the saved wording and a preview with
    sample values. A bad template is a 422 naming each bad field; nothing is stored."""
    need("admin")
    subject, text = _wording(kind, locale)
    engine().execute(SetNoticeTemplate(kind, locale, subject, text), actor=g.user.key)
    return jsonify(_answer(kind, locale, subject, text))


@bp.post("/api/notice-templates/<kind>/<locale>/preview", parameters=_WHICH)
@bp.takes(*_WORDING, required=True)
@bp.response(200, api_schemas.TemplateSaved)
@bp.fails(403, 422)
def notice_template_preview(kind: str, locale: str) -> Any:
    """The wording filled with sample values, checked as a save would be; stores nothing."""
    need("admin")
    subject, text = _wording(kind, locale)
    return jsonify(_answer(kind, locale, subject, text))


@bp.delete("/api/notice-templates/<kind>/<locale>", parameters=_WHICH)
@bp.response(200, api_schemas.TemplateReset)
@bp.fails(403, 422)
def notice_template_reset(kind: str, locale: str) -> Any:
    """Back to the shipped wording; `reset` is false when it was not edited."""
    need("admin")
    reset = engine().execute(ResetNoticeTemplate(kind, locale), actor=g.user.key)
    return jsonify({"kind": kind, "locale": locale, "reset": reset})


def _wording(kind: str, locale: str) -> tuple[str, str]:
    """The body's two texts by the names the kind uses; a text that is not a string is
    refused at its field."""
    check_template(kind, locale)
    data = body()
    texts = []
    for name in fields(kind):
        value = data.get(name, "") if name else ""
        if not isinstance(value, str):
            raise at_field(name or "body", "must be a string")
        texts.append(value)
    return texts[0], texts[1]


def _answer(kind: str, locale: str, subject: str, text: str) -> dict[str, Any]:
    """The wording as stored (tidied) and filled with sample values."""
    sample = preview(kind, locale, subject, text)
    subject, text = tidy(subject, text)
    first, second = fields(kind)
    shown = {first: subject, **({second: text} if second else {})}
    filled = {first: sample.subject, **({second: sample.body} if second else {})}
    return {"kind": kind, "locale": locale, **shown, "preview": filled}
