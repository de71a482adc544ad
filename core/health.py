"""``/healthz``: is the database reachable, is Redis reachable."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from core.db import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    checks: dict[str, str] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # report, don't crash: this is the page you read when it is down
        checks["database"] = f"error: {exc.__class__.__name__}"
    url = current_app.config.get("REDIS_URL")
    if url:
        from workers.queues import connect

        try:
            connect(url).ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {exc.__class__.__name__}"
    else:
        checks["redis"] = "not configured"
    healthy = all(v in {"ok", "not configured"} for v in checks.values())
    # Reported, but not a reason to take the node out of the balancer: webhooks and case
    # work go on without the object store; only playing and storing audio wait for it.
    checks["recordings"] = _recording_store_check()
    return jsonify(status="ok" if healthy else "degraded", **checks), 200 if healthy else 503


def _recording_store_check() -> str:
    from recordings.config import open_store

    try:
        open_store(current_app.config).head("healthz-probe")
    except Exception as exc:
        return f"error: {exc.__class__.__name__}"
    return "ok"
