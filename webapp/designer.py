"""The designer: deployed definitions, the bpmn-js modeler, validate and deploy.

Two blueprints under ``/designer``: ``designer`` renders pages (errors as HTML pages),
``designer_json`` answers the modeler's fetch calls (errors as JSON, so the script can
show them). Both need the ``designer`` or ``admin`` role. The modeler posts its XML
with the CSRF token in the ``X-CSRFToken`` header (Flask-WTF checks it like a form
field). Validation is a real deploy that is rolled back (:class:`RollBack`), so it
finds exactly what a deploy would: bad SLA text, unknown called processes, parse errors.
Decision tables (dmn-js) add their pages in :mod:`webapp.designer_dmn`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from flask import Blueprint, g, jsonify, render_template, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import queries
from engine.definitions import DeployDiagrams, DeployedVersion, latest_or_none, stored_source
from engine.errors import CaseClockError, DeploymentError, NotFound, ValidationError
from engine.executor import CommandContext, RollBack
from engine.store import Deployment, DeploymentResource

from . import converters, engine_text
from .i18n import colon, gettext
from .security import engine, login_required

bp = Blueprint("designer", __name__, url_prefix="/designer")
json_bp = Blueprint("designer_json", __name__, url_prefix="/designer")

ROLES = ("designer", "admin")
_FILE_NAME = re.compile(r"^[\w\-. ]{1,120}\.(bpmn|dmn)$")
# The modeler page's own stylesheets and script: external files, so the CSP stays
# 'self' (no inline script or style); built by scripts/frontend.sh.
ASSETS = ("diagram-js.css", "bpmn-js.css", "bpmn-font/css/bpmn.css",
          "properties-panel.css", "designer.css")  # fmt: skip


class ValidateOnly:
    """Run the deploy command in full, then discard everything it wrote."""

    name = "deploy_validate"

    def __init__(self, files: list[tuple[str, bytes]]) -> None:
        self.deploy = DeployDiagrams(files)

    def __call__(self, ctx: CommandContext) -> list[DeployedVersion]:
        raise RollBack(self.deploy(ctx))


@bp.get("")
@login_required(*ROLES)
def index() -> Any:
    app = engine()
    zone = app.services.timezone
    rows = app.read(queries.definitions)
    processes: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = processes.setdefault(row["key"], {"key": row["key"], "versions": []})
        entry["name"] = row["name"]  # rows come in version order: the latest name wins
        # The JSON view's instant is UTC; the page shows the organisation's time.
        row["deployed_at"] = queries.local(datetime.fromisoformat(row["deployed_at"]), zone)
        entry["versions"].append(row)
    for entry in processes.values():
        entry["versions"].reverse()  # newest first
        entry["running"] = sum(v["running_instances"] for v in entry["versions"])
    tables = app.read(decision_tables)
    for table in tables:
        table["deployed_at"] = queries.local(table["deployed_at"], zone)
    return render_template("designer/index.html", processes=list(processes.values()), tables=tables)


def decision_tables(session: Session) -> list[dict[str, Any]]:
    """Every deployed .dmn file name: how many deployments carried it, the latest when."""
    rows = session.execute(
        select(DeploymentResource.name, func.count(), func.max(Deployment.deployed_at))
        .join(Deployment, Deployment.id == DeploymentResource.deployment_id)
        .where(DeploymentResource.name.like("%.dmn"))
        .group_by(DeploymentResource.name)
        .order_by(DeploymentResource.name)
    )
    return [{"name": n, "deployments": c, "deployed_at": at} for n, c, at in rows]


@bp.get("/<key>")
@login_required(*ROLES)
def modeler(key: str) -> Any:
    latest = engine().read(lambda s: latest_or_none(s, key))
    if latest is None:
        raise NotFound(f"no process definition with key {key!r}")
    labels = {
        "group": gettext("时限 SLA"),
        "limit": gettext("办理时限"),
        "limitHint": gettext("例如 3 working days、16 working hours、3个工作日"),
        "warnings": gettext("预警"),
        "warningsHint": gettext("用分号分隔，例如 2/3; 1 working day before"),
        "onDeadline": gettext("超时处理"),
        "notifyDefault": gettext("（默认：通知）"),
        "notify": gettext("通知 (notify)"),
        "chase": gettext("通知并催办 (chase)"),
        "calendar": gettext("工作日历"),
        "calendarHint": gettext("留空使用 default"),
        "working": gettext("处理中…"),
        "failed": gettext("请求失败"),
        "colon": colon(),  # between a problem's element and its message
    }
    return render_template(
        "designer/modeler.html", definition=latest, labels=labels, assets=ASSETS,
        source=url_for("designer_json.source", key=key),
    )  # fmt: skip


@json_bp.get("/<key>/xml")
@login_required(*ROLES)
def source(key: str) -> Any:
    """The file the latest version of ``key`` was deployed from, for the modeler."""
    found = engine().read(lambda s: _latest_source(s, key))
    if found is None:
        raise NotFound(f"no deployed BPMN file defines the process {key!r}")
    version, name, content = found
    return jsonify({"key": key, "version": version, "file": name,
                    "xml": content.decode("utf-8")})  # fmt: skip


@json_bp.post("/validate")
@login_required(*ROLES)
def validate() -> Any:
    files = _posted_files()
    try:
        results = engine().execute(ValidateOnly(files), actor=g.user.key)
    except CaseClockError as exc:
        return _failure(exc)
    # A DMN file has no process of its own (the processes running its decisions follow).
    keys = ", ".join(r.key for r in results if not r.decisions) or files[0][0]
    return jsonify({"ok": True, "problems": [],
                    "message": gettext("校验通过：%(keys)s 可以部署。", keys=keys)})  # fmt: skip


@json_bp.post("/deploy")
@login_required(*ROLES)
def deploy() -> Any:
    files = _posted_files()
    name, content = files[0]
    # A decision table has no version row: it is new when its bytes differ from the
    # latest file stored under its name (the same rule DeployDiagrams applies).
    known = engine().read(lambda s: latest_resource(s, name)) if name.endswith(".dmn") else None
    try:
        results = engine().execute(DeployDiagrams(files), actor=g.user.key)
    except CaseClockError as exc:
        return _failure(exc)
    uploaded = [r for r in results if not r.decisions]
    # Processes whose latest version runs a changed decision got a version of their own.
    dependents = [r for r in results if r.decisions]
    label = _versions(uploaded) or name
    if name.endswith(".dmn"):
        created = known is None or known.content != content
    else:
        created = any(r.created for r in uploaded)
    if created:
        message = gettext("已部署新版本：%(versions)s", versions=label)
    else:
        message = gettext("内容与最新版本相同，未创建新版本（%(versions)s）。", versions=label)
    if dependents:
        followed = ", ".join(f"{r.key} v{r.version} ({', '.join(r.decisions)})" for r in dependents)
        message += " " + gettext(
            "运行已更改决策的流程也已部署新版本：%(versions)s", versions=followed
        )
    return jsonify({
        "ok": True, "problems": [], "message": message, "version_label": label,
        "versions": [{"key": r.key, "version": r.version, "created": r.created} for r in uploaded],
        "dependents": [{"key": r.key, "version": r.version, "decisions": list(r.decisions)}
                       for r in dependents],
    })  # fmt: skip


def _posted_files() -> list[tuple[str, bytes]]:
    body = converters.json_body()
    if not isinstance(body, dict) or not isinstance(body.get("xml"), str) or not body["xml"]:
        raise ValidationError('send JSON {"xml": "<bpmn:definitions …>", "file": "name.bpmn"}')
    name = str(body.get("file") or "").rsplit("/", 1)[-1]
    # The stored resource keeps this name (a DMN file is found by it later); anything
    # odd becomes a plain default.
    return [(name if _FILE_NAME.match(name) else "diagram.bpmn", body["xml"].encode("utf-8"))]


def latest_resource(session: Session, name: str) -> DeploymentResource | None:
    """The newest stored file called ``name``."""
    return session.scalars(
        select(DeploymentResource)
        .where(DeploymentResource.name == name)
        .order_by(DeploymentResource.id.desc())
        .limit(1)
    ).first()


def _failure(exc: CaseClockError) -> Any:
    problems = exc.details.get("problems", []) if isinstance(exc, DeploymentError) else []
    if not problems:
        problems = [{"file": None, "element_id": None, "message": exc.message}]
    # The designer's own page shows them: in its language, as every page shows engine text.
    problems = [{**p, "message": engine_text.localize(p["message"])} for p in problems]
    body = {"ok": False, "error": exc.code, "problems": problems,
            "message": gettext("图中有 %(n)s 处问题，未部署。", n=len(problems))}  # fmt: skip
    return jsonify(body), 422


def _versions(results: Sequence[DeployedVersion]) -> str:
    return ", ".join(f"{r.key} v{r.version}" for r in results)


def _latest_source(session: Session, key: str) -> tuple[int, str, bytes] | None:
    latest = latest_or_none(session, key)
    resource = stored_source(session, latest) if latest is not None else None
    if latest is None or resource is None:
        return None
    return latest.version, resource.name, resource.content


# Registers the decision-table pages on these blueprints (kept in its own module).
from . import designer_dmn  # noqa: E402, F401
