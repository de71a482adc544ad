"""统计 → 人工服务: the office-hours queue's figures of a period (supervisors), with the
hour × weekday heat map (reports/queue_figures.py; formulas in docs/reports.md)."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, current_app, render_template, request

from console.auth import SUPERVISORS
from console.blueprint import route
from console.web import now
from core.db import db
from reports import periods
from reports.cache import app_cache
from reports.context import app_today, scope_for
from reports.indicators import Scope
from reports.queue_figures import QueueFigures, heatmap_chart, queue_figures


def _scope() -> Scope:
    args = request.args
    try:
        if args.get("from") and args.get("to"):
            period = periods.custom(periods.parse_date(args["from"]),
                                    periods.parse_date(args["to"]))
        elif (args.get("kind") or "month") == "month" and not args.get("month"):
            today = app_today(current_app)
            period = periods.month(today.year, today.month)
        else:
            kind = args.get("kind") or "month"
            period = periods.parse(kind, args.get(kind, ""), args.get("start", ""),
                                   args.get("end", ""))
    except periods.PeriodError as exc:
        abort(Response(render_template("console/error.html", status=400, message=str(exc)),
                       400))
    return scope_for(current_app, period)


def _figures(scope: Scope) -> QueueFigures:
    return app_cache(current_app).get(("queue", scope), lambda: queue_figures(
        db.session, scope, now()))


@route("/reports/queue", roles=SUPERVISORS)
def reports_queue() -> Any:
    scope = _scope()
    figures = _figures(scope)
    return render_template("console/reports_queue.html", scope=scope, figures=figures,
                           period_args={"from": scope.period.start.isoformat(),
                                        "to": scope.period.end.isoformat()})


@route("/reports/queue/heatmap.png", roles=SUPERVISORS)
def reports_queue_heatmap() -> Any:
    scope = _scope()
    png = app_cache(current_app).get(("queue-heatmap", scope),
                                     lambda: heatmap_chart(_figures(scope)))
    return Response(png, mimetype="image/png", headers={"Cache-Control": "private, max-age=60"})
