"""即时办结 citing a knowledge-base article; the audit keeps the article and its version."""

from __future__ import annotations

from datetime import date, datetime, tzinfo

from sqlalchemy.orm import Session

from cases.actions.triage import do_answer_instantly
from cases.actors import Actor
from cases.audit import record_event
from cases.case_models import Case
from cases.errors import ForbiddenTransition
from knowledge.service import public_article
from workdays.calendar import WorkCalendar


def _plain(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def answer_with_article(session: Session, case_id: int, *, article_id: int, version: int,
                        text: str, actor: Actor, now: datetime, today_local: date,
                        calendar: WorkCalendar | None = None, tz: tzinfo | None = None) -> Case:
    """Answer the case at once with ``text`` (the article's answer, possibly edited).

    The article must still be published and in force, and at the version the operator saw;
    otherwise nothing is answered and the operator is asked to look again.
    """
    article = public_article(session, article_id, today_local)
    if article is None:
        raise ForbiddenTransition("该知识条目已撤下或已失效，不能引用")
    if article.version != version:
        raise ForbiddenTransition("该知识条目刚刚更新过，请重新打开引用后再答复")
    case = do_answer_instantly(session, case_id, text=text, actor=actor, now=now,
                               calendar=calendar, tz=tz)
    # The same words are the same answer, whatever line breaks the client sent (CRLF).
    edited = _plain(text) != _plain(article.answer)
    record_event(session, case, actor=actor, action="kb_article_cited", now=now,
                 after={"article_id": article.id, "article_version": article.version,
                        "article_title": article.title, "answer_edited": edited})
    return case
