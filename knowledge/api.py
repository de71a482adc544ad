"""``/api/v1/kb``: published articles for the web platform and the WeChat channel.

No token: only published, in-force content is served, and each client address is limited
(``KB_API_RATE_LIMIT`` requests a minute, default 60).
"""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, jsonify, request

from core.clock import clock_of
from core.db import db
from core.redis_conn import connect_within
from knowledge.models import Article
from knowledge.ratelimit import REDIS_TIMEOUT, FixedWindowLimiter
from knowledge.search import search
from knowledge.service import public_article
from routing.rules import CATEGORIES, SUBCATEGORIES

bp = Blueprint("kb_api", __name__, url_prefix="/api/v1/kb")
DEFAULT_RATE_LIMIT = 60
MAX_QUERY = 200
MAX_RESULTS = 10


def _today() -> date:
    now = clock_of(current_app.config)()
    return now.astimezone(ZoneInfo(current_app.config["HOTLINE_TZ"])).date()


def _error(status: int, code: str, message: str) -> Response:
    response = jsonify(error={"code": code, "message": message})
    response.status_code = status
    return response


def _limiter() -> FixedWindowLimiter:
    limiter = current_app.extensions.get("kb_rate_limiter")
    if limiter is None:
        redis = None
        if current_app.config.get("REDIS_URL"):
            # Tens of milliseconds at most: see knowledge.ratelimit for the rule without it.
            redis = connect_within(current_app.config["REDIS_URL"], REDIS_TIMEOUT)
        limit = int(current_app.config.get("KB_API_RATE_LIMIT") or DEFAULT_RATE_LIMIT)
        limiter = current_app.extensions["kb_rate_limiter"] = FixedWindowLimiter(limit,
                                                                                 redis=redis)
    return limiter


@bp.before_request
def _rate_limit() -> Response | None:
    verdict = _limiter().hit(request.remote_addr or "unknown")
    if not verdict.allowed:
        response = _error(429, "rate_limited", "请求过于频繁，请稍后再试")
        response.headers["Retry-After"] = str(verdict.retry_after)
        response.headers["Cache-Control"] = "no-store"  # a refusal is for this client only
        return response
    return None


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers.setdefault("Cache-Control", "public, max-age=60")
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _summary(article: Article) -> str:
    return article.spoken_answer or article.answer[:120]


def article_body(article: Article) -> dict[str, Any]:
    return {
        "id": article.id,
        "title": article.title,
        "questions": article.questions,
        "answer": article.answer,
        "spoken_answer": article.spoken_answer,
        "category": article.category,
        "category_label": CATEGORIES.get(article.category or ""),
        "subcategory": article.subcategory,
        "subcategory_label": SUBCATEGORIES.get(article.category or "", {}).get(
            article.subcategory or ""),
        "unit": article.unit_name,
        "source_document": article.source_document or None,
        "source_url": article.source_url or None,
        "valid_from": article.valid_from.isoformat() if article.valid_from else None,
        "valid_until": article.valid_until.isoformat() if article.valid_until else None,
        "version": article.version,
        "updated_at": article.updated_at.isoformat(),
    }


@bp.get("/search")
def kb_search() -> Response:
    query = (request.args.get("q") or "").strip()
    if not query:
        return _error(400, "missing_query", "请提供查询参数 q")
    if len(query) > MAX_QUERY:
        return _error(422, "query_too_long", f"查询不能超过{MAX_QUERY}字")
    hits = search(db.session, query, today=_today(), limit=MAX_RESULTS)
    articles = {a.id: a for a in db.session.query(Article).filter(
        Article.id.in_([h.article_id for h in hits]))}
    results = [{"id": h.article_id, "title": h.title, "score": h.score, "matched": h.matched,
                "summary": _summary(articles[h.article_id]),
                "url": f"/api/v1/kb/articles/{h.article_id}"} for h in hits]
    return jsonify(query=query, results=results)


@bp.get("/articles/<int:article_id>")
def kb_article(article_id: int) -> Response:
    article = public_article(db.session, article_id, _today())
    if article is None:
        return _error(404, "not_found", "条目不存在或未发布")
    return jsonify(article_body(article))


def _string(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **extra}


def _nullable(description: str, **extra: Any) -> dict[str, Any]:
    return {**_string(description, **extra), "nullable": True}


def add_to_openapi(document: dict[str, Any]) -> dict[str, Any]:
    """Add the knowledge-base paths and schemas to the API's OpenAPI document."""
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    limited = {"description": "请求过于频繁（按来源地址限流），见 Retry-After", **error}
    document["paths"]["/kb/search"] = {"get": {
        "summary": "检索知识库（仅已发布且在有效期内的条目，无需令牌）",
        "operationId": "searchKnowledgeBase",
        "security": [],
        "parameters": [
            {"name": "q", "in": "query", "required": True,
             "schema": {"type": "string", "maxLength": MAX_QUERY},
             "description": "企业的问题，如“贷款难找谁”"}],
        "responses": {
            "200": {"description": f"按相关度排序的条目（最多{MAX_RESULTS}条）",
                    "content": {"application/json": {"schema": {
                        "$ref": "#/components/schemas/KbSearchResult"}}}},
            "400": {"description": "缺少 q", **error},
            "422": {"description": "q 过长", **error},
            "429": limited,
        },
    }}
    document["paths"]["/kb/articles/{id}"] = {"get": {
        "summary": "读取知识条目（仅已发布且在有效期内，无需令牌）",
        "operationId": "getKnowledgeBaseArticle",
        "security": [],
        "parameters": [{"name": "id", "in": "path", "required": True,
                        "schema": {"type": "integer"}}],
        "responses": {
            "200": {"description": "条目", "content": {"application/json": {"schema": {
                "$ref": "#/components/schemas/KbArticle"}}}},
            "404": {"description": "不存在、未发布或已失效", **error},
            "429": limited,
        },
    }}
    schemas = document["components"]["schemas"]
    schemas["KbSearchResult"] = {"type": "object", "properties": {
        "query": _string("查询"),
        "results": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "integer"},
            "title": _string("标题"),
            "score": {"type": "number", "description": "相关度（越大越相关）"},
            "matched": {"type": "array", "items": {"type": "string"},
                        "description": "命中的词"},
            "summary": _string("简要答复"),
            "url": _string("条目地址"),
        }}},
    }}
    schemas["KbArticle"] = {"type": "object", "properties": {
        "id": {"type": "integer"},
        "title": _string("标题"),
        "questions": {"type": "array", "items": {"type": "string"}, "description": "常见问法"},
        "answer": _string("答复全文（空行分段，“- ”开头为列表项）"),
        "spoken_answer": _string("简短答复（电话朗读用）"),
        "category": _nullable("类别", enum=list(CATEGORIES)),
        "category_label": _nullable("类别名称"),
        "subcategory": _nullable("子类"),
        "subcategory_label": _nullable("子类名称"),
        "unit": _string("承办单位"),
        "source_document": _nullable("政策依据（文号）"),
        "source_url": _nullable("政策原文链接"),
        "valid_from": _nullable("生效日期", format="date"),
        "valid_until": _nullable("失效日期", format="date"),
        "version": {"type": "integer", "description": "内容版本"},
        "updated_at": _string("更新时间", format="date-time"),
    }}
    return document
