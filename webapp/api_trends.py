"""The JSON API of the supervisor's on-time trends (bearer token, see :mod:`webapp.api`):
the figures ``/board/trends`` draws, for the people below the caller."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify, request

from . import api_schemas, oversight
from .api import bp, engine, need


@bp.get("/api/board/trends")
@bp.query(api_schemas.TrendsQuery)
@bp.response(200, api_schemas.Trends)
@bp.fails(403, 422)
def trends() -> Any:
    """The on-time rate of the people below me per week or month, by person or by step.

    ``?from=&to=&by=person|step&period=week|month`` (docs/web.md); bad input is a 422
    naming the field."""
    need("supervisor")
    app = engine()
    chosen = oversight.trend_query(request.args, app.services.timezone, app.clock.now())
    return jsonify(
        app.read(lambda s: oversight.trends(s, g.user.key, chosen, app.services.timezone))
    )
