"""The Flask app factory: the persona pages, the JSON API, health and metrics.

``create_app`` builds (or is given) one :class:`~engine.app.CaseClock`; nothing is
created at import, so tests can build many apps with their own databases and clocks.
Pages are server-rendered (one blueprint per persona; this slice: ``auth`` and the
staff ``inbox``); ``api`` answers JSON and authenticates machine clients by token.
"""

from __future__ import annotations

import atexit
import logging
import os
from datetime import timedelta
from typing import Any

from flask import Flask, jsonify, render_template, request, send_from_directory
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from engine.app import CaseClock, settings_from_env
from engine.errors import Busy, CaseClockError

from . import converters, filters, i18n, labels, openapi, security

log = logging.getLogger(__name__)

# Blueprints whose errors are HTML pages; the other blueprints (the API, the designer's and
# the diagram's JSON) answer JSON. Unknown URLs: see wants_page.
PAGE_BLUEPRINTS = {
    "auth",
    "inbox",
    "designer",
    "supervisor",
    "auditor",
    "admin",
    "collection",
    "attachments",
}


def create_app(
    test_config: dict[str, Any] | None = None,
    engine: CaseClock | None = None,
    start_worker: bool = False,
) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(
        JSON_AS_ASCII=False,
        # Idle timeout: a session unused this long is logged out (security.load_user).
        PERMANENT_SESSION_LIFETIME=timedelta(
            minutes=int(os.environ.get("CASECLOCK_SESSION_MINUTES", "30"))
        ),
        SESSION_COOKIE_HTTPONLY=True,
        # Behind TLS set CASECLOCK_SECURE_COOKIES=1 so the cookie never travels in clear.
        SESSION_COOKIE_SECURE=os.environ.get("CASECLOCK_SECURE_COOKIES") == "1",
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        BABEL_DEFAULT_LOCALE=i18n.DEFAULT_LOCALE,
        MAX_CONTENT_LENGTH=1024 * 1024,
    )
    if test_config:
        app.config.update(test_config)
    if app.config.get("INSTANCE_PATH"):
        app.instance_path = app.config["INSTANCE_PATH"]
    app.config["SECRET_KEY"] = security.secret_key(app)
    if engine is None:
        engine = CaseClock(settings_from_env(app.config.get("DATABASE_URL")))
        engine.init_schema()
    app.extensions["caseclock"] = engine
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    converters.install(app)  # before any blueprint adds a rule with <int:…>

    i18n.init(app)
    filters.init(app)
    labels.install(app)
    csrf = CSRFProtect(app)
    security.init(app)

    from . import api, auditor, auth, collection, inbox, supervisor

    openapi.init(app, api.bp)  # registers api.bp and its OpenAPI document
    app.register_blueprint(auth.bp)
    app.register_blueprint(inbox.bp)
    app.register_blueprint(supervisor.bp)
    app.register_blueprint(auditor.bp)
    from . import designer

    app.register_blueprint(designer.bp)
    app.register_blueprint(designer.json_bp)
    from . import admin

    app.register_blueprint(admin.bp)
    app.register_blueprint(collection.bp)
    from . import attachments, case_diagram

    app.register_blueprint(attachments.bp)
    app.register_blueprint(case_diagram.bp)
    # The API authenticates by bearer token only (never by the session cookie), so a
    # forged cross-site request carries no credentials and needs no CSRF token.
    csrf.exempt(api.bp)
    _favicon(app)
    _register_errors(app)
    if start_worker:
        _start_worker(app, engine)
    return app


# Paths outside the page blueprints that answer JSON (or text) to machine clients.
MACHINE_PATHS = ("/api/", "/health", "/metrics")


def wants_page() -> bool:
    """An HTML error page, not JSON: for the page blueprints, and for URLs that matched no
    route (or not with this method) outside the API, which a browser was sent to."""
    if request.blueprint is not None or request.url_rule is not None:
        return request.blueprint in PAGE_BLUEPRINTS
    path = request.path
    return not any(path == p.rstrip("/") or path.startswith(p) for p in MACHINE_PATHS)


def _page_error(status: int, code: str, message: str) -> Any:
    return render_template("error.html", status=status, code=code, message=message), status


def _busy(exc: Busy) -> Any:
    """A 503 with Retry-After: the request was fine, the database could not answer now."""
    if wants_page():
        page, status = _page_error(503, exc.code, i18n.gettext("系统繁忙，请稍后重试。"))
        return page, status, {"Retry-After": str(exc.retry_after)}
    return jsonify(exc.to_dict()), 503, {"Retry-After": str(exc.retry_after)}


def _page_message(status: int | None) -> str | None:
    """Werkzeug's English description of the common errors, in the page's language."""
    if status == 404:
        return i18n.gettext("没有这个页面：地址有误，或所指的内容不存在。")
    if status == 405:
        return i18n.gettext("该地址不接受这种请求方式（例如用链接打开了只接受表单提交的地址）。")
    if status == 413:
        return i18n.gettext("提交的内容过大。")
    return None


def _favicon(app: Flask) -> None:
    """Browsers ask for /favicon.ico on every page: answer it instead of logging a 404."""

    def favicon() -> Any:
        return send_from_directory(
            app.static_folder or "static", "favicon.ico",
            mimetype="image/vnd.microsoft.icon", max_age=86400,
        )  # fmt: skip

    app.add_url_rule("/favicon.ico", "favicon", favicon)


def _register_errors(app: Flask) -> None:
    @app.errorhandler(CaseClockError)
    def engine_error(exc: CaseClockError) -> Any:
        if isinstance(exc, Busy):
            return _busy(exc)
        if wants_page():
            return _page_error(exc.http_status, exc.code, exc.message)
        return jsonify(exc.to_dict()), exc.http_status

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> Any:
        if wants_page():
            return _page_error(
                400, "csrf", i18n.gettext("表单已过期或来源不明，请刷新页面后重试。")
            )
        return jsonify({"error": "csrf", "message": exc.description}), 400

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        code = exc.name.lower().replace(" ", "_")
        # What the error says beyond its body, e.g. a 405's Allow: the methods that work.
        headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
        if wants_page():
            message = _page_message(exc.code) or exc.description or exc.name
            page, status = _page_error(exc.code or 500, code, message)
            return page, status, headers
        return jsonify({"error": code, "message": exc.description}), (exc.code or 500), headers

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Any:
        # A bug, not bad input: logged with its traceback, shown without one.
        log.exception("unhandled error on %s %s", request.method, request.path)
        if wants_page():
            return _page_error(500, "internal", i18n.gettext("服务器内部错误，已记录。"))
        return jsonify({"error": "internal", "message": "internal error (logged)"}), 500


def _start_worker(app: Flask, engine: CaseClock) -> None:
    from timers.worker import Worker

    worker = Worker(engine)
    worker.start()
    app.extensions["caseclock_worker"] = worker
    atexit.register(worker.stop)
