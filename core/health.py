"""``/healthz``: is the database reachable, is Redis reachable.

Other packages add informational checks to ``app.extensions["health_reports"]`` (name →
callable returning "ok" or "error: …"); they are shown but never make the node unhealthy.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import text

from core.db import db
from core.redis_conn import connect_fast

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    checks: dict[str, str] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # report, don't crash: this is the page you read when it is down
        checks["database"] = f"error: {exc.__class__.__name__}"
    url = current_app.config.get("REDIS_URL")
    if url:
        try:
            connect_fast(url).ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {exc.__class__.__name__}"
    else:
        checks["redis"] = "not configured"
    healthy = all(v in {"ok", "not configured"} for v in checks.values())
    for name, report in current_app.extensions.get("health_reports", {}).items():
        checks[name] = report()
    return jsonify(status="ok" if healthy else "degraded", **checks), 200 if healthy else 503
