"""``/api/v1/kb``: published articles only, no token, rate-limited; in the OpenAPI document."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from knowledge.ratelimit import FixedWindowLimiter
from knowledge.service import ArticleInput, create_article
from tests.knowledge.conftest import CENTRE, TODAY, db_now, publish


def test_search_and_read_published_articles_without_a_token(client: Any, session: Any
                                                             ) -> None:
    loan = publish(session, "融资问题怎么反映", "向中心反映。", ["贷款难找谁"],
                   spoken_answer="请拨打热线。", category="factor", subcategory="finance",
                   source_document="奉政办发〔2021〕35号")
    publish(session, "融资过期", "旧", valid_until=TODAY - timedelta(days=1))
    draft = create_article(session, ArticleInput(title="融资草稿", answer="x"), actor=CENTRE,
                           now=db_now())
    session.commit()
    response = client.get("/api/v1/kb/search", query_string={"q": "贷款难找谁"})
    assert response.status_code == 200
    body = response.get_json()
    assert [r["title"] for r in body["results"]] == ["融资问题怎么反映"]
    first = body["results"][0]
    assert first["summary"] == "请拨打热线。" and first["url"] == f"/api/v1/kb/articles/{loan}"
    assert "贷款" in first["matched"]
    article = client.get(f"/api/v1/kb/articles/{loan}").get_json()
    assert article["title"] == "融资问题怎么反映" and article["subcategory_label"] == "融资"
    assert article["source_document"] == "奉政办发〔2021〕35号" and article["version"] == 1
    assert client.get(f"/api/v1/kb/articles/{draft.id}").status_code == 404
    assert client.get("/api/v1/kb/articles/99999").status_code == 404
    assert client.get("/api/v1/kb/search").status_code == 400
    assert client.get("/api/v1/kb/search", query_string={"q": "长" * 201}).status_code == 422


def test_requests_beyond_the_limit_get_429_with_retry_after(app: Any, client: Any,
                                                            session: Any) -> None:
    app.config["KB_API_RATE_LIMIT"] = 3
    app.extensions.pop("kb_rate_limiter", None)
    codes = [client.get("/api/v1/kb/search?q=融资").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = client.get("/api/v1/kb/articles/1")
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    assert limited.get_json()["error"]["code"] == "rate_limited"
    other = client.get("/api/v1/kb/search?q=融资", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 200


def test_the_limit_is_shared_through_redis(redis_conn: Any) -> None:
    now = [1000.0]
    first = FixedWindowLimiter(2, 60, redis=redis_conn, clock=lambda: now[0])
    second = FixedWindowLimiter(2, 60, redis=redis_conn, clock=lambda: now[0])
    assert first.hit("1.2.3.4").allowed and second.hit("1.2.3.4").allowed
    verdict = first.hit("1.2.3.4")
    assert not verdict.allowed and verdict.retry_after == 20
    now[0] += 20  # the next window
    assert second.hit("1.2.3.4").allowed


def test_openapi_document_lists_the_public_paths(client: Any) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    search_op = document["paths"]["/kb/search"]["get"]
    assert search_op["security"] == [] and "429" in search_op["responses"]
    assert "/kb/articles/{id}" in document["paths"]
    assert "KbArticle" in document["components"]["schemas"]
    assert "/cases" in document["paths"]
