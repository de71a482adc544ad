"""Knowledge-base fixtures: actors, a small fixed corpus, the starter set."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.actors import Actor
from cases.models import Department
from core.db import db
from knowledge.service import ArticleInput, create_article

TODAY = date(2026, 11, 24)  # the local date of the tests' clock
CENTRE = Actor("operator", "知识库测试工作人员")
ADMIN = Actor("admin", "知识库测试管理员")


def unit_id(session: Session, name: str) -> int:
    return session.scalars(select(Department.id).where(Department.name == name)).one()


def liaison(session: Session, unit: str = "区金融发展服务中心") -> Actor:
    return Actor("department", f"{unit}联络员", unit_id(session, unit))


def publish(session: Session, title: str, answer: str, questions: list[str] | None = None,
            **extra: Any) -> int:
    article = create_article(session, ArticleInput(title=title, answer=answer,
                                                   questions=questions or [], **extra),
                             actor=CENTRE, now=db_now(), publish=True)
    return article.id


def db_now() -> Any:
    from tests.conftest import MutableClock

    return MutableClock()()


@pytest.fixture
def session(app: Any) -> Session:
    return db.session()


@pytest.fixture
def corpus(session: Session) -> dict[str, int]:
    """Four articles whose ranking for a few queries is known."""
    ids = {
        "loan": publish(session, "企业贷款难怎么办", "融资问题可以向区金融发展服务中心反映。",
                        ["资金周转困难", "银行不给续贷"], spoken_answer="融资问题请反映。"),
        "land": publish(session, "工业用地和厂房", "土地厂房问题由区自然资源规划分局办理。",
                        ["厂房不够用", "想租标准厂房"]),
        "tax": publish(session, "税收优惠政策咨询", "纳税和退税问题由区税务局答复。",
                       ["能不能退税", "发票怎么开"]),
        "hours": publish(session, "热线服务时间", "热线24小时受理，工作时间转人工。",
                         ["晚上有人接电话吗"]),
    }
    session.commit()
    return ids


@pytest.fixture
def starter(session: Session) -> Session:
    from knowledge.seed import seed_knowledge

    seed_knowledge(session, False)
    session.commit()
    return session
