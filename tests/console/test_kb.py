"""Knowledge-base pages and the case page's suggestions: cite an article, answer with it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from cases.actors import Actor
from cases.case_models import Case, CaseEvent
from cases.vocab import Mode, Status
from core.db import db
from knowledge.models import Article, ArticleState
from knowledge.service import ArticleInput, create_article, update_article
from tests.console.conftest import DEPT_A, DEPT_B, Accounts, department_id

CENTRE = Actor("operator", "知识库维护")


def article(clock: Any, title: str, answer: str, questions: list[str] | None = None,
            publish: bool = True, **extra: Any) -> Article:
    created = create_article(db.session(), ArticleInput(title=title, answer=answer,
                                                        questions=questions or [], **extra),
                             actor=CENTRE, now=clock(), publish=publish)
    db.session.commit()
    return created


def page(client: Any, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return response.get_data(as_text=True)


def test_case_page_suggests_articles_with_matched_words_and_answers_citing_one(
        client: Any, accounts: Accounts, sign_in: Any, window_case: Any, clock: Any) -> None:
    loan = article(clock, "融资问题怎么反映", "第一段。\n\n- 向中心反映", ["企业贷款难找谁"])
    article(clock, "厂房租赁", "厂房问题。")
    article(clock, "融资过期条目", "旧答复", ["贷款"], valid_until=clock().date()
            - timedelta(days=1))
    article(clock, "融资草稿", "草稿", ["贷款"], publish=False)
    case = window_case("企业反映贷款难，资金周转困难，想问融资找谁")
    sign_in(accounts.operator)
    html = page(client, f"/console/cases/{case.id}")
    assert "知识库建议" in html and "融资问题怎么反映" in html and "命中：" in html
    assert "融资过期条目" not in html and "融资草稿" not in html and "厂房租赁" not in html
    cited = page(client, f"/console/cases/{case.id}?cite={loan.id}")
    assert 'name="article_version" value="1"' in cited and "第一段。" in cited

    response = client.post(f"/console/cases/{case.id}/answer-kb", data={
        "article_id": str(loan.id), "article_version": "1", "text": "第一段。（已核实）"})
    assert response.status_code == 303
    db.session.expire_all()
    answered = db.session.get(Case, case.id)
    assert answered.status == Status.ANSWERED and answered.mode == Mode.INSTANT
    assert answered.replies[-1].text == "第一段。（已核实）"
    cited_event = db.session.scalars(select(CaseEvent).where(
        CaseEvent.case_id == case.id, CaseEvent.action == "kb_article_cited")).one()
    assert cited_event.after == {"article_id": loan.id, "article_version": 1,
                                 "article_title": "融资问题怎么反映", "answer_edited": True}
    assert "引用知识库条目" in page(client, f"/console/cases/{case.id}")


def test_an_article_cited_unchanged_from_a_browser_is_not_audited_as_edited(
        client: Any, accounts: Accounts, sign_in: Any, window_case: Any, clock: Any) -> None:
    """Browsers send a textarea's line breaks as CRLF; the article keeps LF. Unchanged is
    unchanged: the audit says so, and neither the reply nor the text carries CRs."""
    from messaging.models import SmsMessage

    loan = article(clock, "融资问题怎么反映", "第一段。\n\n- 向中心反映\n- 留下联系电话")
    case = window_case("企业反映贷款难", contact_phone="13957410001")
    sign_in(accounts.operator)
    response = client.post(f"/console/cases/{case.id}/answer-kb", data={
        "article_id": str(loan.id), "article_version": "1",
        "text": "第一段。\r\n\r\n- 向中心反映\r\n- 留下联系电话\r\n"})
    assert response.status_code == 303
    db.session.expire_all()
    cited_event = db.session.scalars(select(CaseEvent).where(
        CaseEvent.case_id == case.id, CaseEvent.action == "kb_article_cited")).one()
    assert cited_event.after["answer_edited"] is False
    answered = db.session.get(Case, case.id)
    assert answered.replies[-1].text == loan.answer
    sms = db.session.scalars(select(SmsMessage).where(SmsMessage.case_id == case.id)).one()
    assert "\r" not in repr(sms.params)
    assert "答复有修改：</del>" not in page(client, f"/console/cases/{case.id}")
    assert "答复有修改：否" in page(client, f"/console/cases/{case.id}")


def test_citing_an_outdated_version_or_a_withdrawn_article_answers_nothing(
        client: Any, accounts: Accounts, sign_in: Any, window_case: Any, clock: Any) -> None:
    loan = article(clock, "融资问题怎么反映", "旧答复")
    case = window_case("融资")
    update_article(db.session(), loan.id, ArticleInput(title="融资问题怎么反映", answer="新答复"),
                   actor=CENTRE, now=clock())
    db.session.commit()
    sign_in(accounts.operator)
    response = client.post(f"/console/cases/{case.id}/answer-kb", data={
        "article_id": str(loan.id), "article_version": "1", "text": "旧答复"})
    assert response.status_code == 409
    assert "刚刚更新过" in response.get_data(as_text=True)
    response = client.post(f"/console/cases/{case.id}/answer-kb", data={
        "article_id": "999", "article_version": "1", "text": "x"})
    assert response.status_code == 409
    db.session.expire_all()
    assert db.session.get(Case, case.id).status == Status.RECEIVED
    # Departments cannot answer cases at all.
    sign_in(accounts.dept_a)
    assert client.post(f"/console/cases/{case.id}/answer-kb", data={}).status_code == 403


def test_department_drafts_for_its_unit_and_sees_no_other_units_drafts(
        client: Any, accounts: Accounts, sign_in: Any, clock: Any) -> None:
    session = db.session()
    other_draft = article(clock, "经信局草稿", "x", publish=False,
                          department_id=department_id(session, DEPT_B))
    published = article(clock, "已发布条目", "答复")
    sign_in(accounts.dept_a)
    response = client.post("/console/kb/new", data={
        "title": "续贷政策咨询", "answer": "请联系区金融发展服务中心。", "questions": "续贷\n转贷",
        "department_id": str(department_id(session, DEPT_B))})
    assert response.status_code == 303
    mine = db.session.scalars(select(Article).where(Article.title == "续贷政策咨询")).one()
    assert mine.department_id == department_id(session, DEPT_A)
    assert mine.questions == ["续贷", "转贷"] and mine.state == ArticleState.DRAFT
    listing = page(client, "/console/kb")
    assert "续贷政策咨询" in listing and "已发布条目" in listing and "经信局草稿" not in listing
    page(client, f"/console/kb/{other_draft.id}", status=404)
    page(client, f"/console/kb/{published.id}/edit", status=404)  # the centre's article
    response = client.post(f"/console/kb/{mine.id}/state", data={"action": "published"})
    assert response.status_code == 403
    response = client.post(f"/console/kb/{mine.id}/state", data={"action": "submitted"})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Article, mine.id).state == ArticleState.REVIEW


def test_centre_reviews_and_publishes_with_history(client: Any, accounts: Accounts,
                                                   sign_in: Any, clock: Any) -> None:
    draft = article(clock, "待审条目", "答复", publish=False)
    sign_in(accounts.supervisor)
    client.post(f"/console/kb/{draft.id}/state", data={"action": "submitted"})
    assert "待审条目" in page(client, "/console/kb/review")
    response = client.post(f"/console/kb/{draft.id}/state", data={"action": "returned"})
    assert response.status_code == 422  # a reason is required
    client.post(f"/console/kb/{draft.id}/state", data={"action": "published"})
    response = client.post(f"/console/kb/{draft.id}/edit", data={
        "title": "待审条目", "answer": "修改后的答复", "note": "更新依据"})
    assert response.status_code == 303
    html = page(client, f"/console/kb/{draft.id}")
    assert "v2" in html and "审核发布" in html and "更新依据" in html and "修改后的答复" in html
    assert "已发布" in html
    searched = page(client, "/console/kb?q=修改后的答复")
    assert "待审条目" in searched and "命中词" in searched


def test_admin_edits_synonyms_and_orders_the_phone_menu(client: Any, accounts: Accounts,
                                                        sign_in: Any, clock: Any) -> None:
    first = article(clock, "热线服务时间", "24小时", spoken_answer="热线24小时受理。")
    second = article(clock, "窗口地址", "三楼", spoken_answer="窗口在三楼。")
    sign_in(accounts.admin)
    assert "热线服务时间" in page(client, "/console/kb/settings")
    response = client.post("/console/kb/settings/phone", data={
        "article_id": [str(first.id), str(second.id)],
        f"order_{first.id}": "2", f"order_{second.id}": "1"})
    assert response.status_code == 303
    db.session.expire_all()
    assert [(a.title, a.phone_order) for a in db.session.scalars(
        select(Article).where(Article.phone.is_(True)).order_by(Article.phone_order))] == [
        ("窗口地址", 1), ("热线服务时间", 2)]
    response = client.post("/console/kb/settings/synonyms",
                           data={"synonyms": "贷款 融资\n厂房 用房"})
    assert response.status_code == 303
    assert "贷款 融资\n厂房 用房" in page(client, "/console/kb/settings")
    response = client.post("/console/kb/settings/phone", data={
        "article_id": [str(first.id)], f"order_{first.id}": "x"})
    assert response.status_code == 422


def test_an_untranscribed_voicemail_gets_no_suggestions(client: Any, accounts: Accounts,
                                                        sign_in: Any, window_case: Any,
                                                        clock: Any) -> None:
    article(clock, "电话留言多久处理", "工作时间处理。", ["留言以后多久有回音"])
    waiting = window_case("", channel="hotline_voicemail")  # filed before its transcript
    sign_in(accounts.operator)
    html = page(client, f"/console/cases/{waiting.id}")
    assert "知识库中没有相关条目" in html and "电话留言多久处理" not in html
