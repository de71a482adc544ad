"""Review workflow, roles, history and versions, the phone menu, articles due for review."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from cases.actors import Actor
from cases.errors import ForbiddenTransition, InvalidInput, NotAllowed, NotYourCase
from knowledge.models import ArticleState
from knowledge.service import (
    ArticleInput,
    create_article,
    due_for_review,
    phone_articles,
    public_article,
    set_phone_menu,
    transition,
    update_article,
)
from tests.knowledge.conftest import ADMIN, CENTRE, TODAY, db_now, liaison, publish, unit_id


def test_department_drafts_submits_centre_publishes(session: Session) -> None:
    now = db_now()
    dept = liaison(session)
    article = create_article(session, ArticleInput(title="续贷咨询", answer="请联系。"),
                             actor=dept, now=now)
    assert article.department_id == dept.department_id and article.state == ArticleState.DRAFT
    with pytest.raises(NotAllowed):
        transition(session, article.id, "published", actor=dept, now=now)
    transition(session, article.id, "submitted", actor=dept, now=now)
    with pytest.raises(InvalidInput):
        transition(session, article.id, "returned", actor=CENTRE, now=now)  # needs a note
    transition(session, article.id, "returned", actor=CENTRE, now=now, note="请补充依据")
    transition(session, article.id, "submitted", actor=dept, now=now)
    transition(session, article.id, "published", actor=CENTRE, now=now)
    assert article.state == ArticleState.PUBLISHED and article.reviewed_at == now
    assert public_article(session, article.id, TODAY) is article
    assert [v.action for v in article.history] == [
        "created", "submitted", "returned", "submitted", "published"]
    assert article.history[2].note == "请补充依据"
    with pytest.raises(ForbiddenTransition):
        transition(session, article.id, "submitted", actor=dept, now=now)


def test_a_department_edits_only_its_own_units_articles(session: Session) -> None:
    now = db_now()
    own = liaison(session)
    other = liaison(session, "区经信局")
    article = create_article(session, ArticleInput(title="续贷", answer="答复"), actor=own,
                             now=now)
    with pytest.raises(NotYourCase):
        update_article(session, article.id, ArticleInput(title="改", answer="改"), actor=other,
                       now=now)
    with pytest.raises(NotYourCase):
        transition(session, article.id, "submitted", actor=other, now=now)
    with pytest.raises(NotYourCase):
        create_article(session, ArticleInput(title="冒名", answer="x",
                                             department_id=own.department_id),
                       actor=other, now=now)
    centre_article = publish(session, "中心条目", "答复")
    with pytest.raises(NotYourCase):
        update_article(session, centre_article, ArticleInput(title="改", answer="改"),
                       actor=own, now=now)
    # …and cannot hand its article to another unit.
    moved = update_article(session, article.id, ArticleInput(
        title="续贷", answer="新答复", department_id=other.department_id), actor=own, now=now)
    assert moved.department_id == own.department_id


def test_a_departments_edit_of_a_published_article_needs_review_again(session: Session
                                                                       ) -> None:
    now = db_now()
    dept = liaison(session)
    article = create_article(session, ArticleInput(
        title="续贷", answer="旧答复", department_id=dept.department_id), actor=CENTRE, now=now,
        publish=True)
    update_article(session, article.id, ArticleInput(title="续贷", answer="新答复"), actor=dept,
                   now=now + timedelta(minutes=1))
    assert article.state == ArticleState.DRAFT and article.version == 2
    assert article.history[-1].changed == ["answer"]
    assert article.history[-1].content["answer"] == "新答复"
    assert article.history[0].content["answer"] == "旧答复"
    assert public_article(session, article.id, TODAY) is None
    # An unchanged save is no new version; the centre's edits keep it published.
    transition(session, article.id, "published", actor=CENTRE, now=now)
    unit = dept.department_id
    update_article(session, article.id, ArticleInput(title="续贷", answer="新答复",
                                                     department_id=unit), actor=CENTRE, now=now)
    assert article.version == 2
    update_article(session, article.id, ArticleInput(title="续贷", answer="第三版",
                                                     department_id=unit), actor=CENTRE, now=now)
    assert article.version == 3 and article.state == ArticleState.PUBLISHED


def test_validation_messages(session: Session) -> None:
    with pytest.raises(InvalidInput) as caught:
        create_article(session, ArticleInput(
            title="", answer="", spoken_answer="长" * 301, category="factor",
            subcategory="tax", source_url="ftp://x"), actor=CENTRE, now=db_now())
    assert set(caught.value.fields) == {"title", "answer", "spoken_answer", "subcategory",
                                        "source_url"}
    assert "301" in caught.value.fields["spoken_answer"]


def test_phone_menu_admin_only_published_with_spoken_answer_at_most_eight(
        session: Session) -> None:
    now = db_now()
    ids = [publish(session, f"电话条目{n}", "答复", spoken_answer=f"电话答复{n}")
           for n in range(9)]
    silent = publish(session, "无电话答复", "答复")
    with pytest.raises(NotAllowed):
        set_phone_menu(session, ids[:2], actor=CENTRE, now=now)
    with pytest.raises(InvalidInput):
        set_phone_menu(session, ids, actor=ADMIN, now=now)
    with pytest.raises(InvalidInput):
        set_phone_menu(session, [silent], actor=ADMIN, now=now)
    set_phone_menu(session, [ids[2], ids[0]], actor=ADMIN, now=now)
    assert [a.id for a in phone_articles(session, TODAY)] == [ids[2], ids[0]]
    set_phone_menu(session, [ids[0]], actor=ADMIN, now=now)
    assert [a.id for a in phone_articles(session, TODAY)] == [ids[0]]
    transition(session, ids[0], "withdrawn", actor=CENTRE, now=now, note="过时")
    assert phone_articles(session, TODAY) == []


def test_due_for_review(session: Session) -> None:
    now = db_now()
    soon = publish(session, "即将失效", "答复", valid_until=TODAY + timedelta(days=20))
    publish(session, "长期有效", "答复", valid_until=TODAY + timedelta(days=90))
    stale = publish(session, "半年未复核", "答复")
    fresh = publish(session, "刚复核", "答复")
    from knowledge.models import Article

    session.get(Article, stale).reviewed_at = now - timedelta(days=200)
    assert [a.id for a in due_for_review(session, today=TODAY, now=now)] == [soon, stale]
    transition(session, stale, "reviewed", actor=Actor("supervisor", "专班"), now=now)
    assert [a.id for a in due_for_review(session, today=TODAY, now=now)] == [soon]
    assert fresh


def test_unit_ids_resolve(session: Session) -> None:
    assert unit_id(session, "区经信局") > 0
