"""Writing the knowledge base: validation, the review workflow, roles, history, the index.

Who may do what:

- a department liaison creates and edits its own unit's articles (never another unit's, never
  the centre's) and submits them for review; an edit of a published article takes it back to
  draft until the centre has reviewed it again;
- the centre (operators, supervisors, administrators) edits any article, publishes, returns to
  draft with a note, withdraws and confirms an article is still right (复核);
- administrators choose and order the phone menu's articles.

Every action appends a row to the article's history with the content after it; the content
version increases whenever the text or its metadata change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from cases.actors import CENTRE, Actor, require_kind
from cases.errors import ForbiddenTransition, InvalidInput, NotFound, NotYourCase
from cases.models import Department
from knowledge import search
from knowledge.models import SPOKEN_ANSWER_MAX, Article, ArticleState, ArticleVersion
from routing.rules import CATEGORIES, SUBCATEGORIES

MAX_PHONE_ARTICLES = 8
REVIEW_EVERY = timedelta(days=183)  # not reviewed for six months
EXPIRY_WARNING = timedelta(days=30)
MAX_QUESTIONS = 20

ACTION_LABELS: dict[str, str] = {
    "created": "新建",
    "imported": "导入",
    "edited": "修改",
    "submitted": "提交审核",
    "published": "审核发布",
    "returned": "退回修改",
    "withdrawn": "撤下",
    "reviewed": "复核确认",
    "phone_menu": "调整电话菜单",
}

CONTENT_FIELDS = ("title", "questions", "answer", "spoken_answer", "category", "subcategory",
                  "department_id", "source_document", "source_url", "valid_from", "valid_until")


@dataclass
class ArticleInput:
    """The editable fields of an article, as plain values."""

    title: str
    answer: str
    questions: list[str] = field(default_factory=list)
    spoken_answer: str = ""
    category: str | None = None
    subcategory: str | None = None
    department_id: int | None = None
    source_document: str = ""
    source_url: str = ""
    valid_from: date | None = None
    valid_until: date | None = None


def validate(session: Session, data: ArticleInput) -> ArticleInput:
    """Trimmed values, or :class:`InvalidInput` with a Chinese message per field."""
    errors: dict[str, str] = {}
    title = (data.title or "").strip()
    answer = (data.answer or "").strip().replace("\r\n", "\n")
    spoken = " ".join((data.spoken_answer or "").split())
    questions = list(dict.fromkeys(q.strip() for q in data.questions if q and q.strip()))
    if not title:
        errors["title"] = "请填写标题"
    elif len(title) > 120:
        errors["title"] = "标题不能超过120字"
    if not answer:
        errors["answer"] = "请填写答复"
    if len(spoken) > SPOKEN_ANSWER_MAX:
        errors["spoken_answer"] = f"电话答复不能超过{SPOKEN_ANSWER_MAX}字（现{len(spoken)}字）"
    if len(questions) > MAX_QUESTIONS or any(len(q) > 200 for q in questions):
        errors["questions"] = f"问法最多{MAX_QUESTIONS}条，每条不超过200字"
    category = data.category or None
    subcategory = data.subcategory or None
    if category is not None and category not in CATEGORIES:
        errors["category"] = "类别应为：" + "、".join(CATEGORIES.values())
    elif subcategory is not None and subcategory not in SUBCATEGORIES.get(category or "", {}):
        errors["subcategory"] = "该类别下没有此子类"
    if data.department_id is not None and session.get(Department, data.department_id) is None:
        errors["department_id"] = "承办单位不存在"
    if data.valid_from and data.valid_until and data.valid_until < data.valid_from:
        errors["valid_until"] = "失效日期不能早于生效日期"
    if len(data.source_document or "") > 200 or len(data.source_url or "") > 500:
        errors["source_document"] = "政策依据过长"
    url = (data.source_url or "").strip()
    if url and not url.startswith(("http://", "https://")):
        errors["source_url"] = "政策链接应以 http:// 或 https:// 开头"
    if errors:
        raise InvalidInput(errors)
    return ArticleInput(
        title=title, answer=answer, questions=questions, spoken_answer=spoken,
        category=category, subcategory=subcategory, department_id=data.department_id,
        source_document=(data.source_document or "").strip(), source_url=url,
        valid_from=data.valid_from, valid_until=data.valid_until,
    )


def _content(article: Article) -> dict[str, Any]:
    values = {name: getattr(article, name) for name in CONTENT_FIELDS}
    for key in ("valid_from", "valid_until"):
        values[key] = values[key].isoformat() if values[key] else None
    values["phone"] = article.phone
    return values


def _history(session: Session, article: Article, action: str, actor: Actor, now: datetime,
             changed: Sequence[str] = (), note: str = "") -> None:
    session.add(ArticleVersion(
        article=article, version=article.version, action=action, state=article.state,
        content=_content(article), changed=list(changed), note=note,
        actor=actor.label[:100], at=now))


def _require_unit(actor: Actor, department_id: int | None, what: str) -> None:
    """Departments act only on their own unit's articles; the centre on any."""
    if actor.kind == "department":
        if department_id != actor.department_id:
            raise NotYourCase(f"只能{what}本单位的知识条目")
        return
    require_kind(actor, CENTRE, what)


def get_article(session: Session, article_id: int) -> Article:
    article = session.get(Article, article_id)
    if article is None:
        raise NotFound("知识条目不存在")
    return article


def create_article(session: Session, data: ArticleInput, *, actor: Actor, now: datetime,
                   publish: bool = False, action: str = "created") -> Article:
    """A new article: a draft, or published at once by the centre (imports)."""
    if actor.kind == "department" and data.department_id is None:
        data.department_id = actor.department_id
    _require_unit(actor, data.department_id, "新建")
    clean = validate(session, data)
    article = Article(**asdict(clean), state=ArticleState.DRAFT, version=1,
                      created_by=actor.label[:100], updated_by=actor.label[:100],
                      created_at=now, updated_at=now)
    if publish:
        require_kind(actor, CENTRE, "发布知识条目")
        article.state = ArticleState.PUBLISHED
        article.reviewed_at, article.reviewed_by = now, actor.label[:100]
    session.add(article)
    session.flush()
    _history(session, article, action, actor, now, changed=CONTENT_FIELDS)
    search.index_article(session, article)
    return article


def update_article(session: Session, article_id: int, data: ArticleInput, *, actor: Actor,
                   now: datetime, note: str = "") -> Article:
    """Edit the content; a department's edit of a published article goes back to draft."""
    article = get_article(session, article_id)
    _require_unit(actor, article.department_id, "修改")
    if actor.kind == "department" and data.department_id != article.department_id:
        data.department_id = article.department_id  # a unit cannot give its article away
    clean = validate(session, data)
    before = _content(article)
    for name, value in asdict(clean).items():
        setattr(article, name, value)
    changed = [k for k, v in _content(article).items() if before.get(k) != v]
    if not changed:
        return article
    article.version += 1
    article.updated_at, article.updated_by = now, actor.label[:100]
    if actor.kind == "department" and article.state in (ArticleState.PUBLISHED,
                                                        ArticleState.REVIEW):
        article.state = ArticleState.DRAFT
    if article.phone and not article.spoken_answer:
        article.phone = False
    _history(session, article, "edited", actor, now, changed=changed, note=note)
    search.index_article(session, article)
    return article


_TRANSITIONS: dict[str, tuple[tuple[str, ...], str, frozenset[str] | None]] = {
    # action: (from states, to state, roles; None = the article's unit or the centre)
    "submitted": ((ArticleState.DRAFT,), ArticleState.REVIEW, None),
    "published": ((ArticleState.DRAFT, ArticleState.REVIEW, ArticleState.WITHDRAWN),
                  ArticleState.PUBLISHED, CENTRE),
    "returned": ((ArticleState.REVIEW,), ArticleState.DRAFT, CENTRE),
    "withdrawn": ((ArticleState.PUBLISHED,), ArticleState.WITHDRAWN, CENTRE),
    "reviewed": ((ArticleState.PUBLISHED,), ArticleState.PUBLISHED, CENTRE),
}


def transition(session: Session, article_id: int, action: str, *, actor: Actor,
               now: datetime, note: str = "") -> Article:
    """Move an article through the review workflow (see ``_TRANSITIONS``)."""
    if action not in _TRANSITIONS:
        raise InvalidInput({"action": "未知的操作"})
    sources, target, roles = _TRANSITIONS[action]
    article = get_article(session, article_id)
    label = ACTION_LABELS[action]
    if roles is None:
        _require_unit(actor, article.department_id, label)
    else:
        require_kind(actor, roles, label)
    if article.state not in sources:
        raise ForbiddenTransition(f"条目当前为“{article.state_label}”，不能{label}")
    note = (note or "").strip()
    if action in ("returned", "withdrawn") and not note:
        raise InvalidInput({"note": f"请填写{label}的理由"})
    article.state = target
    if action in ("published", "reviewed"):
        article.reviewed_at, article.reviewed_by = now, actor.label[:100]
    # The phone-menu flag stays: only published articles in force are on the menu
    # (phone_articles), and republishing puts a withdrawn one back in its place.
    article.updated_at = now
    _history(session, article, action, actor, now, note=note)
    search.sync_filters(session, article)
    return article


def set_phone_menu(session: Session, article_ids: Sequence[int], *, actor: Actor,
                   now: datetime) -> list[Article]:
    """The phone menu's articles in order (administrators); at most eight, published, spoken."""
    require_kind(actor, {"admin"}, "调整电话菜单")
    ids = list(dict.fromkeys(article_ids))
    if len(ids) > MAX_PHONE_ARTICLES:
        raise InvalidInput({"article_ids": f"电话菜单最多{MAX_PHONE_ARTICLES}条"})
    chosen = [get_article(session, i) for i in ids]
    for article in chosen:
        if article.state != ArticleState.PUBLISHED or not article.spoken_answer:
            raise InvalidInput({"article_ids": f"“{article.title}”未发布或没有电话答复，"
                                               "不能放入电话菜单"})
    for article in session.scalars(select(Article).where(Article.phone.is_(True))):
        if article.id not in ids:
            article.phone, article.phone_order = False, 0
            _history(session, article, "phone_menu", actor, now, note="移出电话菜单")
            search.sync_filters(session, article)
    for order, article in enumerate(chosen, start=1):
        article.phone, article.phone_order = True, order
        _history(session, article, "phone_menu", actor, now, note=f"电话菜单第{order}项")
        search.sync_filters(session, article)
    return chosen


# -- reading --------------------------------------------------------------------------------


def in_force(today: date) -> Any:
    """SQL condition: published and valid on ``today``."""
    return and_(Article.state == ArticleState.PUBLISHED,
                or_(Article.valid_from.is_(None), Article.valid_from <= today),
                or_(Article.valid_until.is_(None), Article.valid_until >= today))


def public_article(session: Session, article_id: int, today: date) -> Article | None:
    """The article if it is published and in force on ``today`` (what the public may read)."""
    return session.scalar(select(Article).where(Article.id == article_id, in_force(today)))


def phone_articles(session: Session, today: date) -> list[Article]:
    """The phone menu: flagged, published, in force, with a spoken answer, in order."""
    return list(session.scalars(
        select(Article).where(Article.phone.is_(True), in_force(today),
                              Article.spoken_answer != "")
        .order_by(Article.phone_order, Article.id).limit(MAX_PHONE_ARTICLES)))


def due_for_review(session: Session, *, today: date, now: datetime) -> list[Article]:
    """Published articles expiring within 30 days or not reviewed for six months."""
    return list(session.scalars(
        select(Article).where(
            Article.state == ArticleState.PUBLISHED,
            or_(and_(Article.valid_until.is_not(None),
                     Article.valid_until <= today + EXPIRY_WARNING),
                Article.reviewed_at.is_(None),
                Article.reviewed_at < now - REVIEW_EVERY))
        .order_by(Article.valid_until.is_(None), Article.valid_until, Article.reviewed_at)))


def editable_by(actor: Actor, article: Article) -> bool:
    return actor.kind in CENTRE or (actor.kind == "department"
                                    and article.department_id == actor.department_id)
