"""Call-log entries the drain could not write (the dead letters of ``ivr.eventlog``)."""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template
from redis.exceptions import RedisError

from console.auth import CENTRE
from console.blueprint import route
from core.redis_conn import connect_fast
from ivr.eventlog import DeadLetter, dead_letters


@route("/calls/dead-letters", roles=CENTRE)
def calllog_dead_letters() -> Any:
    url = current_app.config.get("REDIS_URL")
    total, problem = 0, None
    letters: list[DeadLetter] = []
    if not url:
        problem = "未配置 Redis：通话记录直接写入数据库，没有待处理的死信。"
    else:
        try:
            total, letters = dead_letters(connect_fast(url), limit=200)
        except RedisError as exc:
            problem = f"暂时无法连接 Redis（{type(exc).__name__}），请稍后刷新。"
    return render_template("console/calllog_dead_letters.html", total=total, letters=letters,
                           problem=problem)
