"""Knowledge-base pages: browse and search, edit, review workflow, settings; case suggestions.

Departments see published articles and their own unit's; anything else is a 404 to them.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import abort, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from cases.case_models import Case
from cases.errors import InvalidInput
from cases.intake import VOICEMAIL_PLACEHOLDER
from cases.vocab import CATEGORY_LABELS, SUBCATEGORY_LABELS
from console import queries
from console.auth import ADMINS, CENTRE, EVERYONE, SUPERVISORS
from console.blueprint import bp, route
from console.views_cases import case_action
from console.web import actor, calendar, now, perform, text, today, tz, user
from core.db import db
from knowledge import answers, richtext, search, service
from knowledge.models import STATE_LABELS, Article, ArticleState

SUGGESTIONS = 3


def _visible(article_id: int) -> Article:
    article = db.session.get(Article, article_id)
    if article is None:
        abort(404)
    account = user()
    if account.role == "department" and article.state != ArticleState.PUBLISHED \
            and article.department_id != account.department_id:
        abort(404)
    return article


def _date(name: str, label: str) -> date | None:
    value = text(name)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput({name: f"{label}格式应为 年-月-日"}) from None


def _form_input() -> service.ArticleInput:
    # A liaison's articles always belong to the liaison's unit (the form shows no choice).
    account = user()
    unit = str(account.department_id) if account.role == "department" else text("department_id")
    return service.ArticleInput(
        title=text("title"), answer=text("answer"),
        questions=text("questions").splitlines(), spoken_answer=text("spoken_answer"),
        category=text("category") or None, subcategory=text("subcategory") or None,
        department_id=int(unit) if unit.isdigit() else None,
        source_document=text("source_document"), source_url=text("source_url"),
        valid_from=_date("valid_from", "生效日期"), valid_until=_date("valid_until", "失效日期"))


def _form_page(article: Article | None) -> str:
    units = queries.active_departments(db.session)
    return render_template("console/kb_form.html", article=article,
                           units=units, categories=CATEGORY_LABELS,
                           subcategories=SUBCATEGORY_LABELS)


@route("/kb", roles=EVERYONE)
def kb_list() -> Any:
    query = (request.args.get("q") or "").strip()
    state = request.args.get("state") or ""
    account = user()
    hits: dict[int, search.Hit] = {}
    statement = select(Article).options(selectinload(Article.department))
    if query:
        found = search.search(db.session, query, today=today(), limit=50,
                              published_only=False)
        hits = {h.article_id: h for h in found}
        statement = statement.where(Article.id.in_(hits))
    if state in STATE_LABELS:
        statement = statement.where(Article.state == state)
    if account.role == "department":
        statement = statement.where((Article.state == ArticleState.PUBLISHED)
                                    | (Article.department_id == account.department_id))
    rows = list(db.session.scalars(statement.order_by(Article.updated_at.desc()).limit(200)))
    if query:
        rows.sort(key=lambda a: -hits[a.id].score)
    return render_template("console/kb_list.html", rows=rows, hits=hits, q=query, state=state,
                           states=STATE_LABELS, categories=CATEGORY_LABELS, today=today())


@route("/kb/new", roles=EVERYONE, methods=("GET", "POST"))
def kb_new() -> Any:
    if request.method == "GET":
        return _form_page(None)
    return perform(lambda: service.create_article(db.session, _form_input(), actor=actor(),
                                                  now=now()),
                   success="已保存为草稿", on_error=lambda: _form_page(None),
                   redirect_to=lambda a: url_for("console.kb_detail", article_id=a.id))


@route("/kb/<int:article_id>", roles=EVERYONE)
def kb_detail(article_id: int) -> Any:
    article = _visible(article_id)
    return render_template(
        "console/kb_article.html", article=article, answer_html=richtext.to_html(article.answer),
        can_edit=service.editable_by(actor(), article), actions=service.ACTION_LABELS,
        states=STATE_LABELS,
        categories=CATEGORY_LABELS, subcategories=SUBCATEGORY_LABELS, today=today())


@route("/kb/<int:article_id>/edit", roles=EVERYONE, methods=("GET", "POST"))
def kb_edit(article_id: int) -> Any:
    article = _visible(article_id)
    if not service.editable_by(actor(), article):
        abort(404)
    if request.method == "GET":
        return _form_page(article)
    return perform(lambda: service.update_article(db.session, article_id, _form_input(),
                                                  actor=actor(), now=now(), note=text("note")),
                   success="已保存", on_error=lambda: _form_page(article),
                   redirect_to=url_for("console.kb_detail", article_id=article_id))


@route("/kb/<int:article_id>/state", roles=EVERYONE, methods=("POST",))
def kb_transition(article_id: int) -> Any:
    _visible(article_id)
    action = text("action")
    return perform(lambda: service.transition(db.session, article_id, action, actor=actor(),
                                              now=now(), note=text("note")),
                   success=f"已{service.ACTION_LABELS.get(action, '处理')}",
                   redirect_to=url_for("console.kb_detail", article_id=article_id),
                   on_error=lambda: kb_detail(article_id))


@route("/kb/review", roles=SUPERVISORS)
def kb_review() -> Any:
    waiting = db.session.scalars(select(Article).where(Article.state == ArticleState.REVIEW)
                                 .order_by(Article.updated_at))
    due = service.due_for_review(db.session, today=today(), now=now())
    return render_template("console/kb_review.html", waiting=list(waiting), due=due,
                           today=today())


def _settings_page() -> str:
    candidates = db.session.scalars(
        select(Article).where(service.in_force(today()), Article.spoken_answer != "")
        .order_by(Article.phone.desc(), Article.phone_order, Article.title))
    return render_template("console/kb_settings.html", candidates=list(candidates),
                           synonyms=search.synonyms_text(db.session),
                           limit=service.MAX_PHONE_ARTICLES)


@route("/kb/settings", roles=ADMINS)
def kb_settings() -> Any:
    return _settings_page()


@route("/kb/settings/synonyms", roles=ADMINS, methods=("POST",))
def kb_synonyms() -> Any:
    return perform(lambda: search.replace_synonyms(db.session, request.form.get("synonyms", ""),
                                                   now()),
                   success=lambda n: f"同义词已保存（{n}组）",
                   redirect_to=url_for("console.kb_settings"), on_error=_settings_page)


@route("/kb/settings/phone", roles=ADMINS, methods=("POST",))
def kb_phone_menu() -> Any:
    def call() -> Any:
        chosen: list[tuple[int, int]] = []
        for article_id in request.form.getlist("article_id"):
            order = text(f"order_{article_id}")
            if order:
                if not order.isdigit() or not article_id.isdigit():
                    raise InvalidInput({"order": "顺序应为数字"})
                chosen.append((int(order), int(article_id)))
        return service.set_phone_menu(db.session, [i for _o, i in sorted(chosen)],
                                      actor=actor(), now=now())

    return perform(call, success="电话菜单已更新（下一通来电起生效）",
                   redirect_to=url_for("console.kb_settings"), on_error=_settings_page)


# -- the case page --------------------------------------------------------------------------


def case_panel(case: Case) -> dict[str, Any]:
    """Up to three suggested articles for the case, and the one being cited (``?cite=``)."""
    text_value = "" if case.description == VOICEMAIL_PLACEHOLDER else case.description or ""
    found = search.search(db.session, text_value, today=today(), limit=SUGGESTIONS)
    articles = {a.id: a for a in db.session.scalars(
        select(Article).where(Article.id.in_([h.article_id for h in found])))}
    cited = None
    cite = request.args.get("cite", "")
    if cite.isdigit():
        cited = service.public_article(db.session, int(cite), today())
    return {"suggestions": [(h, articles[h.article_id]) for h in found], "cited": cited}


@bp.context_processor
def _kb_globals() -> dict[str, Any]:
    return {"kb_case_panel": case_panel}


@route("/cases/<int:case_id>/answer-kb", roles=CENTRE, methods=("POST",))
def case_answer_kb(case_id: int) -> Any:
    def call() -> Any:
        article_id, version = text("article_id"), text("article_version")
        if not (article_id.isdigit() and version.isdigit()):
            raise InvalidInput({"article_id": "请选择要引用的知识条目"})
        return answers.answer_with_article(
            db.session, case_id, article_id=int(article_id), version=int(version),
            text=text("text"), actor=actor(), now=now(), today_local=today(),
            calendar=calendar(), tz=tz())

    return case_action(case_id, "已引用知识库即时办结", call)


