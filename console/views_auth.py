"""Signing in and out, and each role's home page."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for
from sqlalchemy import select

from console import throttle
from console.auth import EVERYONE, current_user, login_user, logout_user, safe_next
from console.blueprint import bp, route
from console.models import User
from console.passwords import hash_password, needs_rehash, verify_password
from console.web import now
from core.db import db

HOME_BY_ROLE: dict[str, str] = {
    "operator": "console.queue",
    "department": "console.department_cases",
    "supervisor": "console.supervisor_overview",
    "admin": "console.supervisor_overview",
}
LOCKED = "登录失败次数较多，请{seconds}秒后再试"
WRONG = "用户名或密码错误"


def home_url(role: str) -> str:
    return url_for(HOME_BY_ROLE.get(role, "console.queue"))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """Sign-in form; answers 429 while the username or address is throttled."""
    if request.method == "GET":
        user = current_user()
        if user is not None:
            return redirect(home_url(user.role))
        return render_template("console/login.html", next=request.args.get("next", ""))
    username = (request.form.get("username") or "").strip()[:64]
    password = request.form.get("password") or ""
    ip = request.remote_addr or "unknown"
    at = now()
    session = db.session
    verdict = throttle.charge(session, username, ip, at)
    if not verdict.allowed:
        page = render_template("console/login.html",
                               error=LOCKED.format(seconds=verdict.retry_after),
                               username=username, next=request.form.get("next", ""))
        return page, 429, {"Retry-After": str(verdict.retry_after),
                           "Cache-Control": "no-store"}
    found = session.scalars(select(User).where(User.username == username)).one_or_none()
    # End the read before the slow hash check, so the writes below open a transaction of
    # their own (on SQLite a read turned write fails if another sign-in wrote meanwhile).
    session.commit()
    ok = verify_password(found.password_hash if found else None, password)
    if not ok or found is None or not found.active:
        return render_template("console/login.html", error=WRONG, username=username,
                               next=request.form.get("next", "")), 401
    throttle.refund(session, username, ip, at)
    if needs_rehash(found.password_hash):
        found.password_hash = hash_password(password)
    found.last_login_at = at
    session.commit()
    login_user(found)
    return redirect(safe_next(request.form.get("next"), home_url(found.role)), code=303)


@route("/logout", roles=EVERYONE, methods=("POST",))
def logout() -> Any:
    """Sign out here and everywhere: every cookie issued to this user stops working."""
    logout_user(db.session)
    return redirect(url_for("console.login"), code=303)


@route("/", roles=EVERYONE)
def home() -> Any:
    user = current_user()
    assert user is not None
    return redirect(home_url(user.role))
