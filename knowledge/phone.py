"""The phone FAQ menu under 政策咨询, built from the knowledge base through the flow engine.

When published, in-force articles are flagged for the phone (at most eight, in the
administrator's order), the hotline flow gets a few more nodes: the main-menu key (2, 政策咨询)
that led to the node of role ``phone_faq`` (``call_flows/roles.py``) leads to ``kb_faq``, a
menu of their titles; each key plays the article's spoken answer, then
“问题已解决请按1，需要人工服务请按2”. 1 files a case closed at once by self-service (mode 即时办,
channel 热线自助, no follow-up call); 2 reaches a person — the service desk: operator in office
hours, voicemail otherwise — with the article's service area and sub-area preset; 0 goes back
to the list. The list's own 0 (a question not on it) leads to the 政策咨询 sub-area menu
(产业/人才/降本减负), whose silence reaches a person too; silence in the list reaches the
service desk under 政策咨询. Without phone articles key 2 goes straight to that sub-area menu.

The composed flow is validated like any flow (an invalid one is logged and not used) and
rebuilt when the articles change: the engine asks :class:`PhoneMenu` before each step, which
looks at the database at most once per ``ttl`` seconds — so an edit reaches the phone without
a restart, and a step costs no query in between. Nodes a change removed (a withdrawn
article's answer) stay answerable, unlisted, so a caller in the middle of one finishes it.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from call_flows.engine import FlowEngine
from call_flows.flow import REPEAT, Fallthrough, Flow, Node, Option
from call_flows.hooks import CallContext, HookRegistry, HookResult
from call_flows.roles import Role
from call_flows.validator import validate_flow
from cases.actions.triage import do_resolve_self_service
from cases.actors import Actor
from cases.audit import record_event
from cases.case_models import Case
from cases.errors import InvalidInput
from cases.intake import file_case
from cases.vocab import Channel
from core.db import db
from knowledge.models import Article
from knowledge.service import phone_articles
from workdays.calendar import WorkCalendar

log = logging.getLogger(__name__)

HOTLINE = "hotline"
FAQ_MENU = "kb_faq"
ANSWER_PREFIX = "kb_answer_"
RESOLVED = "kb_resolved"
RESOLVED_BYE = "kb_resolved_bye"
RESOLVED_HOOK = "kb_self_service_resolved"
ARTICLE_STATE = "kb_article"
ASK_RESOLVED = "问题已解决请按1，需要人工服务请按2，其他问题请按0；重听请按星号键。"
# Nodes a refresh removed (a withdrawn article's answer) stay answerable for callers who are
# in the middle of them; the most recent this many are kept.
MAX_RETIRED_NODES = 64
SELF_SERVICE = Actor("system", "电话自助服务")
# A retried webhook must not file the same self-service case twice.
DUPLICATE_WINDOW = timedelta(minutes=10)


@dataclass(frozen=True)
class PhoneArticle:
    """What the phone menu needs of an article."""

    id: int
    title: str
    spoken_answer: str
    category: str | None
    subcategory: str | None
    version: int


def _speakable(text: str) -> str:
    # Article text is data: the engine says it as it is (never fills placeholders in it).
    return " ".join(text.split())


def load_phone_articles(session: Session, today: date) -> list[PhoneArticle]:
    return [PhoneArticle(a.id, a.title, a.spoken_answer, a.category, a.subcategory, a.version)
            for a in phone_articles(session, today)]


def _menu(node_id: str, label: str, prompt: str, options: dict[str, Option],
          leave_to: str) -> Node:
    return Node(id=node_id, type="menu", label=label, prompt=prompt, options=options,
                no_input=Fallthrough(limit=1, target=leave_to, prompt="抱歉，没有听到您的按键。"),
                invalid=Fallthrough(limit=3, target=leave_to, prompt="您的输入有误。"))


def compose(base: Flow, articles: list[PhoneArticle]) -> Flow:
    """``base`` (the hotline flow) with the FAQ nodes for ``articles``; ``base`` if none."""
    if not articles:
        return base
    # The flow names the nodes (roles, validated at load); the key is the main menu's.
    main = base.node_for(Role.MAIN_MENU)
    area_menu = base.node_for(Role.PHONE_FAQ).id  # where 政策咨询 went before: its sub-areas
    policy = next((o for o in main.options.values() if o.target == area_menu), None)
    if policy is None:
        log.error("phone menu not used: no key of %r leads to %r", main.id, area_menu)
        return base
    # "Need a person" after an answer, and silence, go straight to a person.
    desk = base.node_for(Role.SERVICE_DESK).id
    nodes = dict(base.nodes)
    nodes[main.id] = dataclasses.replace(main, options={
        **main.options,
        policy.key: Option(policy.key, FAQ_MENU, set=dict(policy.set), label=policy.label)})
    choices = "；".join(f"{_speakable(a.title)}，请按{n}" for n, a in enumerate(articles, start=1))
    faq_options = {str(n): Option(str(n), f"{ANSWER_PREFIX}{a.id}", label=_speakable(a.title))
                   for n, a in enumerate(articles, start=1)}
    # A question not on the list: the 政策咨询 sub-area menu, one key (or silence) from a person.
    faq_options["0"] = Option("0", area_menu, set=dict(policy.set), label="其他问题")
    faq_options["*"] = Option("*", REPEAT)
    nodes[FAQ_MENU] = _menu(FAQ_MENU, "政策咨询常见问题",
                            f"政策咨询常见问题：{choices}；其他问题请按0；重听请按星号键。",
                            faq_options, desk)
    for article in articles:
        # The article's own area and sub-area (a new area without one clears an older one).
        area = {"category": article.category or policy.set.get("category", "policy")}
        if article.subcategory:
            area["subcategory"] = article.subcategory
        node_id = f"{ANSWER_PREFIX}{article.id}"
        nodes[node_id] = _menu(
            node_id, _speakable(article.title),
            f"{_speakable(article.spoken_answer)} {ASK_RESOLVED}",
            {"1": Option("1", RESOLVED, set={ARTICLE_STATE: str(article.id)}, label="已解决"),
             "2": Option("2", desk, set=area, label="人工服务"),
             "0": Option("0", FAQ_MENU, label="其他问题"),
             "*": Option("*", REPEAT)},
            desk)
    nodes[RESOLVED] = Node(id=RESOLVED, type="hook", label="自助办结", hook=RESOLVED_HOOK,
                           next=RESOLVED_BYE)
    nodes[RESOLVED_BYE] = Node(id=RESOLVED_BYE, type="hangup", label="自助结束",
                               prompt="很高兴为您解答。感谢您的来电，再见。")
    return dataclasses.replace(base, nodes=nodes)


class PhoneMenu:
    """The engine's ``refresh``: the hotline flow with the current phone articles."""

    def __init__(self, base: dict[str, Flow], registry: HookRegistry, *,
                 load: Callable[[], list[PhoneArticle]], ttl: float = 10.0) -> None:
        self.base = base
        self.registry = registry
        self.load = load
        self.ttl = ttl
        self._lock = threading.Lock()
        self._next_check = 0.0
        self._fingerprint: tuple[PhoneArticle, ...] | None = ()
        # Nodes earlier menus had and the current one has not (oldest first).
        self._retired: dict[str, Node] = {}

    def __call__(self, current: dict[str, Flow]) -> dict[str, Flow] | None:
        if time.monotonic() < self._next_check or HOTLINE not in self.base:
            return None
        with self._lock:
            if time.monotonic() < self._next_check:
                return None
            self._next_check = time.monotonic() + self.ttl
            try:
                articles = tuple(self.load())
            except Exception:  # the database may be down or not migrated yet
                log.warning("phone menu: could not read the knowledge base", exc_info=True)
                return None
            if articles == self._fingerprint:
                return None
            self._fingerprint = articles
            flow = compose(self.base[HOTLINE], list(articles))
            errors = [p for p in validate_flow(flow, self.registry) if p.severity == "error"]
            if errors:
                log.error("phone menu not used, the composed flow is invalid: %s",
                          "; ".join(map(str, errors)))
                return None
            log.info("phone menu: %d article(s)", len(articles))
            return {**current, HOTLINE: self._with_retired(current.get(HOTLINE), flow)}

    def _with_retired(self, previous: Flow | None, flow: Flow) -> Flow:
        """``flow`` plus the nodes of ``previous`` it no longer has, not reachable from the
        menu: a caller hearing an article that was just withdrawn (or a FAQ menu that went
        away) finishes it, and its keys still lead on, instead of hearing the apology."""
        for node_id, node in (previous.nodes.items() if previous is not None else ()):
            if node_id not in flow.nodes:
                self._retired.pop(node_id, None)
                self._retired[node_id] = node
        for node_id in flow.nodes:
            self._retired.pop(node_id, None)
        while len(self._retired) > MAX_RETIRED_NODES:
            self._retired.pop(next(iter(self._retired)))
        return dataclasses.replace(flow, nodes={**self._retired, **flow.nodes})


def database_loader(today: Callable[[], date]) -> Callable[[], list[PhoneArticle]]:
    """Reads the phone articles on a session of its own (not the request's transaction)."""

    def load() -> list[PhoneArticle]:
        with Session(db.engine) as session:
            return load_phone_articles(session, today())

    return load


# -- the hook -------------------------------------------------------------------------------


def resolve_by_phone(session: Session, article_id: int, *, caller: str, call_id: int | None,
                     now: datetime, calendar: WorkCalendar | None = None,
                     tz: tzinfo | None = None) -> Case | None:
    """File and close the self-service case for a caller the article's answer satisfied."""
    article = session.get(Article, article_id)
    if article is None:
        return None
    description = f"电话自助咨询：{article.title}"
    recent = session.scalar(select(Case.id).where(
        Case.channel == Channel.HOTLINE_SELF_SERVICE, Case.contact_phone == caller,
        Case.description == description, Case.received_at >= now - DUPLICATE_WINDOW))
    if recent is not None:
        return None
    def file(phone: str | None) -> Case:
        return file_case(session, channel=Channel.HOTLINE_SELF_SERVICE, description=description,
                         category=article.category or "policy",
                         subcategory=article.subcategory, contact_phone=phone, call_id=call_id,
                         actor=SELF_SERVICE, now=now, calendar=calendar, tz=tz)

    try:
        case = file(caller or None)
    except InvalidInput as exc:
        if "contact_phone" not in exc.fields:
            raise
        case = file(None)  # a withheld number
    do_resolve_self_service(session, case.id, text=article.spoken_answer or article.answer,
                            actor=SELF_SERVICE, now=now, calendar=calendar, tz=tz)
    record_event(session, case, actor=SELF_SERVICE, action="kb_article_cited", now=now,
                 after={"article_id": article.id, "article_version": article.version,
                        "article_title": article.title, "answer_edited": False})
    return case


def register(registry: HookRegistry) -> None:
    """The self-service hook (``HOOK_PROVIDERS`` in app.py)."""

    @registry.hook(RESOLVED_HOOK)
    def self_service_resolved(ctx: CallContext, _digits: str | None) -> HookResult:
        raw = ctx.state.get(ARTICLE_STATE, "")
        if not raw.isdigit():
            return HookResult()
        tz = ctx.services.get("tz")
        provider = ctx.services.get("calendars")
        try:
            with db.session.begin_nested():
                resolve_by_phone(db.session, int(raw), caller=ctx.from_number,
                                 call_id=ctx.services.get("call_id"), now=ctx.now,
                                 calendar=provider.get() if provider else None, tz=tz)
        except Exception:  # the caller still hears the goodbye; the log says what failed
            log.exception("self-service case for article %s (call %s) not filed", raw,
                          ctx.call_sid)
        return HookResult()


def attach_phone_menu(engine: FlowEngine, registry: HookRegistry, *,
                      clock: Callable[[], datetime], tz: tzinfo, ttl: float) -> PhoneMenu:
    """Make ``engine`` serve the hotline with the current phone menu (see module doc)."""
    menu = PhoneMenu(dict(engine.flows), registry, ttl=ttl,
                     load=database_loader(lambda: clock().astimezone(tz).date()))
    engine.refresh = menu
    return menu
