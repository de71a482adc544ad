"""``/api/v1``: thin JSON handlers. Token auth, no cookies, so CSRF does not apply."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from api import service
from api.openapi import document
from api.schemas import MAX_BODY_BYTES
from api.tokens import authenticate
from cases.errors import CaseError, http_status
from core.clock import clock_of
from core.config import hotline_zone
from core.db import db

bp = Blueprint("api", __name__, url_prefix="/api/v1")
PUBLIC_ENDPOINTS = frozenset({"api.openapi"})


def _now() -> datetime:
    return clock_of(current_app.config)()


def error(status: int, code: str, message: str, fields: dict[str, str] | None = None
          ) -> Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    response = jsonify(error=body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="8718"'
    return response


@bp.before_request
def _authenticate() -> Response | None:
    # Refuse oversized bodies before anything reads them (Flask 3.1: per-request limit).
    request.max_content_length = MAX_BODY_BYTES
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    found = authenticate(db.session, token.strip() if scheme.lower() == "bearer" else None,
                         now=_now())
    if found is None:
        return error(401, "unauthorized", "缺少或无效的接口令牌")
    g.api_token = found
    return None


@bp.errorhandler(CaseError)
def _case_error(exc: CaseError) -> Response:
    db.session.rollback()
    status = 409 if isinstance(exc, service.IdempotencyConflict) else http_status(exc)
    fields = getattr(exc, "fields", None)
    # A program reads the field names it sent; the message names them too.
    message = "；".join(f"{k}：{v}" for k, v in fields.items()) if fields else exc.message
    return error(status, exc.code, message, fields)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_exc: RequestEntityTooLarge) -> Response:
    return error(413, "too_large", f"请求体不能超过{MAX_BODY_BYTES // 1024}KB")


@bp.errorhandler(BadRequest)
def _bad_request(_exc: BadRequest) -> Response:
    return error(400, "invalid_json", "请求体不是有效的JSON")


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(document())


@bp.post("/cases")
def create_case() -> Response:
    if not request.is_json:
        return error(415, "unsupported_media_type",
                     "请求体须为JSON（Content-Type: application/json）")
    payload = request.get_json()
    key = request.headers.get("Idempotency-Key", "").strip() or None
    if key is not None and len(key) > service.MAX_KEY_LENGTH:
        return error(422, "invalid", "Idempotency-Key 过长",
                     {"Idempotency-Key": f"不能超过{service.MAX_KEY_LENGTH}个字符"})
    result = service.submit_case(db.session, token=g.api_token, payload=payload,
                                 idempotency_key=key, now=_now(),
                                 tz=hotline_zone(current_app.config))
    db.session.commit()
    response = jsonify(result.body)
    response.status_code = result.status
    response.headers.update(result.headers)
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.get("/cases/<number>")
def get_case(number: str) -> Response:
    body = service.case_status(db.session, token=g.api_token, number=number)
    db.session.commit()  # the token's last-used time
    return jsonify(body)
