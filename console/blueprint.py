"""The console blueprint: every route declares the roles allowed in, checked before it runs.

``route(rule, roles=...)`` registers a view together with its roles; a request for an
endpoint without declared roles is refused (fail closed). Not signed in: GET requests go to
the login page, anything else gets 401. Signed in with the wrong role: 403.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from console.auth import current_user, route_roles
from recordings.http import media_sources

bp = Blueprint(
    "console", __name__, url_prefix="/console", template_folder="templates",
    static_folder="static", static_url_path="/static",
)

# endpoint → roles allowed; filled by :func:`route`, read by the tests' route table.
ROUTE_ROLES: dict[str, frozenset[str]] = {}
# Endpoints open without signing in.
OPEN_ENDPOINTS: frozenset[str] = frozenset({"console.login", "console.static"})


def route(rule: str, *, roles: Collection[str], methods: tuple[str, ...] = ("GET",)
          ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``bp.route`` plus the roles allowed to use it."""
    allowed = route_roles(roles)

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        ROUTE_ROLES[f"{bp.name}.{view.__name__}"] = allowed
        return bp.route(rule, methods=list(methods))(view)

    return decorator


def refuse(status: int, message: str) -> tuple[str, int]:
    return render_template("console/error.html", status=status, message=message), status


def _has_nul() -> bool:
    """NUL in a field or query value: PostgreSQL cannot store it, so refuse it up front."""
    fields = [*request.args.items(multi=True), *request.form.items(multi=True)]
    return any("\x00" in value for _name, value in fields)


@bp.before_request
def _check_access() -> BaseResponse | tuple[str, int] | None:
    if _has_nul():
        return refuse(400, "输入包含不允许的控制字符（NUL），请删除后重试")
    endpoint = request.endpoint or ""
    if endpoint in OPEN_ENDPOINTS:
        return None
    user = current_user()
    if user is None:
        if request.method == "GET":
            return redirect(url_for("console.login", next=request.full_path.rstrip("?")))
        return refuse(401, "请先登录")
    allowed = ROUTE_ROLES.get(endpoint)
    if allowed is None:
        return refuse(404, "页面不存在")
    if user.role not in allowed:
        return refuse(403, "您的角色无权访问此页面")
    return None


@bp.after_request
def _no_store(response: Response) -> Response:
    # Case pages hold enterprises' details: keep them out of shared caches and history.
    if request.endpoint != "console.static":
        response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; "
        f"media-src {media_sources(current_app.config)}; object-src 'none'; "
        "frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
    )
    return response
