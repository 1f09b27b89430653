"""The Flask app factory. Until the persona pages land: health and JSON views.

``create_app`` builds (or is given) one :class:`~engine.app.CaseClock`; nothing is
created at import, so tests can build many apps with their own databases and clocks.
"""

from __future__ import annotations

import atexit
from typing import Any

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from engine.app import CaseClock, settings_from_env
from engine.errors import CaseClockError


def create_app(
    test_config: dict[str, Any] | None = None,
    engine: CaseClock | None = None,
    start_worker: bool = False,
) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(JSON_AS_ASCII=False)
    if test_config:
        app.config.update(test_config)
    if engine is None:
        engine = CaseClock(settings_from_env(app.config.get("DATABASE_URL")))
        engine.init_schema()
    app.extensions["caseclock"] = engine
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    from . import api

    app.register_blueprint(api.bp)
    _register_errors(app)
    if start_worker:
        _start_worker(app, engine)
    return app


def _register_errors(app: Flask) -> None:
    @app.errorhandler(CaseClockError)
    def engine_error(exc: CaseClockError) -> Any:
        return jsonify(exc.to_dict()), exc.http_status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        return jsonify({"error": exc.name.lower().replace(" ", "_"), "message": exc.description}), (
            exc.code or 500
        )


def _start_worker(app: Flask, engine: CaseClock) -> None:
    from timers.worker import Worker

    worker = Worker(engine)
    worker.start()
    app.extensions["caseclock_worker"] = worker
    atexit.register(worker.stop)
