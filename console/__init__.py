"""Operator console: server-rendered pages for operators, departments, supervisors, admins.

``init_app`` is called by the application factory before blueprints are registered: it
sets the session cookie flags and turns on CSRF protection for every form in the app (the
factory exempts the token-authenticated API and the Twilio-signed webhooks, ``CSRF_EXEMPT``).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, redirect, url_for

from core.settings import setting


def init_app(app: Flask) -> None:
    from flask_wtf.csrf import CSRFError, CSRFProtect

    from console import errors, templating
    from console.auth import configure_session

    configure_session(app)
    # Tokens stay valid for the whole working session (a long review must still submit).
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", 12 * 3600)
    # The console may sit behind HTTPS without a Referer (strict privacy settings).
    app.config.setdefault("WTF_CSRF_SSL_STRICT", False)
    CSRFProtect(app)

    def csrf_refused(exc: CSRFError) -> Any:
        from console.blueprint import refuse

        return refuse(400, "表单已过期或来源不明（CSRF 校验失败），请刷新页面后重试")

    app.register_error_handler(CSRFError, csrf_refused)
    # Chinese error pages for people, JSON errors under /api/ (unknown paths included).
    errors.init_app(app)
    templating.init_app(app)
    # Live panels (screen pop, 实时监控): their own threads, one wallboard snapshot a second.
    from console.live_stream import StreamSlots
    from console.operators import simulated_operators
    from console.wallboard import SnapshotCache

    app.extensions["live_stream_slots"] = StreamSlots(
        int(setting(app.config, "LIVE_STREAMS_PER_PROCESS")))
    app.extensions["wallboard_cache"] = SnapshotCache()
    # ``flask call --operator`` (ivr/cli.py): the console owns the accounts it signs in.
    app.extensions["simulated_operators"] = simulated_operators
    # The bare address is where a newcomer starts: the console's sign-in page.
    app.add_url_rule("/", "root", lambda: redirect(url_for("console.login")))
