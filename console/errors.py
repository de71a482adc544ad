"""Error answers for the whole app: Chinese pages for people, JSON for programs under ``/api/``.

Werkzeug's own error pages are English; an unknown ``/api/v1/…`` path used to answer with
one. :func:`init_app` registers app-wide handlers: any HTTP error under ``/api/`` answers
``{"error": {"code", "message"}}`` (the shape of :func:`api.routes.error`), anything else a
Chinese page that needs neither the database nor a signed-in user, so it renders even while
the database is away. Blueprint handlers (the API's own, the console's 404) still come first.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

API_PREFIX = "/api/"

TITLES: dict[int, str] = {
    400: "请求无效",
    401: "需要登录",
    403: "无权访问",
    404: "页面不存在",
    405: "不支持此操作",
    409: "无法完成操作",
    413: "提交的内容过大",
    415: "提交的格式不受支持",
    422: "填写的内容有误",
    429: "操作过于频繁",
    500: "系统出错",
    502: "服务暂时不可用",
    503: "服务暂时不可用",
}

# What a person reads on the page (and an API client in ``message``), per status.
MESSAGES: dict[int, str] = {
    400: "请求无法处理，请返回上一页重新操作。",
    401: "请先登录后再访问。",
    403: "您的账号无权访问此页面。",
    404: "您访问的地址不存在，请检查地址，或从首页重新进入。",
    405: "此地址不支持这种访问方式（例如直接打开了只能提交表单的地址）。",
    409: "当前状态下不能进行此操作，请刷新页面后重试。",
    413: "提交的内容超过了允许的大小。",
    415: "提交的内容格式不受支持。",
    422: "填写的内容有误，请返回修改后重试。",
    429: "操作过于频繁，请稍后再试。",
    500: "系统暂时出现问题，操作未能完成。请稍后重试；如反复出现，请联系系统管理员。",
    502: "依赖的服务暂时不可用，请稍后重试。",
    503: "系统正在维护或暂时繁忙，请稍后重试。",
}

API_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    500: "internal_error",
    502: "bad_gateway",
    503: "unavailable",
}


def title_of(status: int) -> str:
    return TITLES.get(status, TITLES[500] if status >= 500 else TITLES[400])


def message_of(status: int) -> str:
    return MESSAGES.get(status, MESSAGES[500] if status >= 500 else MESSAGES[400])


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX)


def api_error(status: int) -> Response:
    """The API's error body for an HTTP status, with the reason in Chinese."""
    message = message_of(status)
    if status == 404:
        message = f"接口不存在：{request.method} {request.path}"
    elif status == 405:
        message = f"接口 {request.path} 不支持 {request.method} 方法"
    response = jsonify(error={"code": API_CODES.get(status, "error"), "message": message})
    response.status_code = status
    return response


def error_page(status: int, message: str | None = None) -> tuple[str, int]:
    """A Chinese page for ``status`` that touches neither the database nor the session."""
    return render_template("console/error_page.html", status=status, title=title_of(status),
                           message=message or message_of(status)), status


def handle_http_error(exc: HTTPException) -> Any:
    status = exc.code or 500
    # 405 keeps its Allow header (and 401 its challenge) from the original response.
    headers = {k: v for k, v in exc.get_headers() if k in ("Allow", "WWW-Authenticate")}
    if is_api_request():
        response = api_error(status)
        response.headers.update(headers)
        return response
    body, _status = error_page(status)
    return body, status, headers


def handle_unexpected(_exc: InternalServerError) -> Any:
    # Flask has logged the original exception already (``Flask.log_exception``).
    return api_error(500) if is_api_request() else error_page(500)


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(InternalServerError, handle_unexpected)
