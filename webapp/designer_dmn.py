"""The designer's decision tables (DMN) in dmn-js: the page and the file it edits.

Validate and deploy are the designer's own JSON endpoints (a ``.dmn`` file name makes
them deploy a decision table). A table is found by its file name: risk grading takes
the newest file stored under it, and deploying a changed one makes new versions of the
processes whose business rule tasks run its decisions (the deploy response lists them).
"""

from __future__ import annotations

import re
from typing import Any

from flask import jsonify, render_template, url_for

from engine.errors import NotFound

from .designer import ROLES, bp, json_bp, latest_resource
from .i18n import colon, gettext, pgettext
from .security import engine, login_required

_NAME = re.compile(r"^[\w\-. ]{1,120}\.dmn$")
_DMN_CSS = ("diagram-js.css", "dmn-js-shared.css", "dmn-js-drd.css",
            "dmn-js-decision-table.css", "dmn-js-decision-table-controls.css",
            "dmn-js-literal-expression.css", "dmn-font/css/dmn.css")  # fmt: skip
ASSETS = (*(f"dmn-js/{name}" for name in _DMN_CSS), "designer.css")


def _existing(name: str) -> Any:
    found = engine().read(lambda s: latest_resource(s, name)) if _NAME.match(name) else None
    if found is None:
        raise NotFound(f"no deployed decision table file {name!r}")
    return found


@bp.get("/decisions/<name>")
@login_required(*ROLES)
def decision(name: str) -> Any:
    _existing(name)
    labels = {
        "working": gettext("处理中…"),
        "failed": gettext("请求失败"),
        "colon": colon(),
        "rule": gettext("规则"),  # a problem in a rule's cell: "规则 2 · 逾期天数"
    }
    # One table: "决策表" alone is the index's heading over all of them (English plural).
    heading = pgettext("designer page", "决策表")
    return render_template(
        "designer/decision.html", name=name, labels=labels, assets=ASSETS, heading=heading,
        source=url_for("designer_json.decision_source", name=name),
    )  # fmt: skip


@json_bp.get("/decisions/<name>/xml")
@login_required(*ROLES)
def decision_source(name: str) -> Any:
    resource = _existing(name)
    return jsonify({"file": name, "xml": resource.content.decode("utf-8")})
