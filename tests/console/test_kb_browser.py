"""In a real browser: the case page suggests an article; the operator answers citing it."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect
from sqlalchemy import select

from cases.actors import Actor
from cases.case_models import Case, CaseEvent
from cases.vocab import Mode, Status
from core.db import db
from knowledge.service import ArticleInput, create_article
from tests.console.conftest import Accounts
from tests.console.test_browser import (  # noqa: F401  (fixtures and the skip mark)
    Desk,
    live_config,
    live_server,
    pytestmark,
)


def test_operator_cites_a_suggested_article_and_answers_at_once(
        live_server: str, browser: Any,  # noqa: F811  (the imported fixtures)
        accounts: Accounts, window_case: Any, clock: Any) -> None:
    session = db.session()
    article = create_article(session, ArticleInput(
        title="融资问题怎么反映", questions=["企业贷款难找谁"],
        answer="融资属于要素保障。\n\n- 拨打8718热线\n- 到服务窗口反映",
        source_document="奉政办发〔2021〕35号"), actor=Actor("operator", "维护"),
        now=clock(), publish=True)
    create_article(session, ArticleInput(title="窗口地址", answer="三楼L区。"),
                   actor=Actor("operator", "维护"), now=clock(), publish=True)
    session.commit()
    case = window_case("企业反映贷款难，资金周转困难，想知道融资找谁")

    desk = Desk(browser, live_server)
    try:
        desk.enter(accounts.operator, f"/console/cases/{case.id}")
        suggestion = desk.page.locator(".kb-suggestion", has_text="融资问题怎么反映")
        expect(suggestion).to_contain_text("命中：")
        expect(desk.page.locator(".kb-suggestion", has_text="窗口地址")).to_have_count(0)
        suggestion.get_by_role("link", name="引用此条答复").click()
        answer = desk.page.locator("#kb-cite textarea[name=text]")
        expect(answer).to_have_value("融资属于要素保障。\n\n- 拨打8718热线\n- 到服务窗口反映")
        answer.fill("融资属于要素保障，请拨打8718热线或到服务窗口反映。")
        desk.shot("kb-case-cite")
        desk.page.get_by_role("button", name="引用并即时办结").click()
        desk.expect_flash("已引用知识库即时办结")
        expect(desk.page.locator(".audit")).to_contain_text("引用知识库条目")
        expect(desk.page.locator(".audit")).to_contain_text("融资问题怎么反映")
        desk.go("/console/kb")
        expect(desk.page.locator(".kb-list")).to_contain_text("融资问题怎么反映")
    finally:
        desk.close()

    db.session.expire_all()
    answered = db.session.get(Case, case.id)
    assert (answered.status, answered.mode) == (Status.ANSWERED, Mode.INSTANT)
    assert answered.replies[-1].text == "融资属于要素保障，请拨打8718热线或到服务窗口反映。"
    cited = db.session.scalars(select(CaseEvent).where(
        CaseEvent.case_id == case.id, CaseEvent.action == "kb_article_cited")).one()
    assert (cited.after["article_id"], cited.after["article_version"]) == (article.id, 1)
