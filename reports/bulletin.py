"""The monthly bulletin (工作简报) as ``.docx``, and its life: draft, edit, issue.

A bulletin belongs to one month (unique). The first-working-day job creates the draft
(:func:`create_draft`, once even with two schedulers: the unique month decides) and tells the
supervisors; they add the free-text section and issue it, which stores the file as issued.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from cases.case_models import Case
from cases.notifications import Audience, NotificationKind, notify
from cases.vocab import CATEGORY_LABELS, MODE_LABELS
from core.centre import CENTRE_NAME
from core.dialect import insert_or_ignore
from reports import hot_topics, overview
from reports.accountability import Entry, accountability, by_unit
from reports.document_layout import KAITI, Closing, Masthead, OfficialDocument
from reports.indicators import RATE_LABELS, Scope
from reports.models import Bulletin, BulletinStatus, TypicalCase
from reports.periods import Period
from reports.queue_figures import QueueFigures, heatmap_chart, queue_figures
from workdays.calendar import WorkCalendar

MASTHEAD = "企业服务工作简报"
CENTRE = CENTRE_NAME
EDITOR = "奉化区企业服务专班"  # 编发单位
# The notice: “以简报形式通报至企服成员单位，并报区委作风办和相关领导”.
REPORT_TO = "区委作风办，相关领导"
COPY_TO = "企服成员单位"
NUMERALS = "一二三四五六七八九十"
HEADLINE = (("received", "受理诉求（件）"), ("instant", "即时办（件）"), ("answered", "答复（件）"),
            ("late", "逾期办结（件）"))
# Today's state: no previous period to compare with.
NOW_ROWS = (("overdue_now", "当前逾期（件）"), ("hanging_now", "当前挂账（件）"))
UNIT_COLUMNS = (("received", "受理"), ("answered", "答复"), ("due", "应办结"),
                ("on_time", "按时"), ("on_time_rate", "按时办结率"), ("late", "逾期办结"),
                ("returned", "退单"), ("satisfaction_rate", "满意率"))
# Counts that belong to the period (not today's state): a unit is listed when it has one.
PERIOD_COUNTS = ("received", "answered", "due", "returned", "rated", "reworked",
                 "extension_approved", "extension_rejected")


class BulletinError(Exception):
    """A bulletin action that is not allowed (message in Chinese for users)."""


@dataclass(frozen=True)
class BulletinContent:
    period: Period
    issue_number: int
    issued_on: date
    overview: overview.Overview
    charts: list[bytes]
    topics: hot_topics.HotTopics
    typical: list[tuple[Case, str]]
    entries: list[Entry]
    editorial: str
    # The office-hours queue's figures of the month (reports/queue_figures.py).
    queue: QueueFigures | None = None


def gather(session: Session, scope: Scope, calendar: WorkCalendar, *, issue_number: int,
           editorial: str, issued_on: date, now: datetime | None = None) -> BulletinContent:
    """Everything the bulletin shows for the scope's month (``now``: which callback
    deadlines have passed; the start of the issue day when not given)."""
    period = scope.period
    typical = session.execute(
        select(Case, TypicalCase.note).join(TypicalCase, TypicalCase.case_id == Case.id)
        .where(or_(scope.between(Case.received_on), scope.between(Case.answered_on),
                   scope.during(TypicalCase.marked_at)))
        .order_by(Case.received_at)
    ).all()
    view = overview.build(session, scope, calendar)
    return BulletinContent(
        period=period, issue_number=issue_number, issued_on=issued_on, overview=view,
        charts=[overview.volume_chart(session, scope), overview.trend_chart(session, scope),
                overview.units_chart(session, scope, calendar, view.units)],
        topics=hot_topics.hot_topics(session, scope),
        typical=[(case, note) for case, note in typical],
        entries=accountability(session, scope, calendar),
        editorial=editorial,
        queue=queue_figures(session, scope,
                            now or datetime.combine(issued_on, time(), scope.tz)),
    )


def _change(value: int) -> str:
    return f"+{value}" if value > 0 else str(value)


def _points(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:+.1f}个百分点"


def _chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _overall(doc: OfficialDocument, content: BulletinContent) -> None:
    view = content.overview
    t = view.totals
    doc.paragraph(
        f"本月共受理企业诉求{t['received']}件（环比{_change(view.change('received'))}件），"
        f"其中即时办{t['instant']}件、流转办{t['routed']}件、专班商办{t['joint']}件、"
        f"研判上报{t['escalated']}件；答复{t['answered']}件。"
        f"按时办结率{t.on_time_rate.percent()}（{t['on_time']}/{t['due']}，"
        f"环比{_points(view.rate_change('on_time_rate'))}），逾期办结{t['late']}件；"
        f"满意率{t.satisfaction_rate.percent()}（{t['satisfied']}/{t['rated']}），"
        f"回访率{t.followup_rate.percent()}，即时办结率{t.instant_rate.percent()}。"
        f"截至{_chinese_date(content.overview.scope.today)}，当前逾期未答复{t['overdue_now']}件，"
        f"当前挂账{t['hanging_now']}件。")
    rows = [[label, str(t[name]), str(view.previous[name]), _change(view.change(name))]
            for name, label in HEADLINE]
    rows += [[label, t.rate(name).percent(), view.previous.rate(name).percent(),
              _points(view.rate_change(name))] for name, label in RATE_LABELS.items()]
    rows += [[label, str(t[name]), "—", "—"] for name, label in NOW_ROWS]
    doc.table(["指标", "本月", "上月", "环比"], rows, [60, 30, 30, 36])
    doc.paragraph("注：逾期办结指应办结日期在本月、未按期答复的诉求；当前逾期、当前挂账为截至"
                  "统计日的状态，无上月对比。")


def _queue(doc: OfficialDocument, content: BulletinContent) -> None:
    """热线人工服务: the office-hours queue's figures and its hour × weekday chart."""
    queue = content.queue
    if queue is None or not queue.counts.get("offered"):
        doc.paragraph("本月无转人工服务的来电。")
        return
    c = queue.counts
    seconds = queue.rules.service_level_seconds
    doc.paragraph(
        f"工作时间转人工服务来电{c['offered']}个，其中进入排队{c['queued']}个、"
        f"无坐席直接转留言或回电{c['unavailable']}个；人工接通{c['answered']}个，"
        f"接通率{queue.answer_rate.percent()}；{seconds}秒内接听率（服务水平）"
        f"{queue.service_level.percent()}；排队中放弃{c['abandoned']}个，放弃率"
        f"{queue.abandon_rate.percent()}（另有{queue.rules.short_abandon_seconds}秒内挂断的"
        f"短时放弃{c['short_abandoned']}个，不计入）；平均应答时长"
        f"{_seconds(queue.asa)}，平均处理时长{_seconds(queue.aht)}；预约回电"
        f"{c['callbacks_requested']}个，按期回电率{queue.callbacks_in_time.percent()}。")
    if queue.operators:
        doc.table(["坐席", "接听", "平均应答", "平均处理", "未接听振铃"], [
            [o.name, str(o.answered), _seconds(o.asa), _seconds(o.aht),
             str(o.unanswered_offers)] for o in queue.operators], [40, 20, 30, 30, 30])
    doc.picture(heatmap_chart(queue))


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}秒"


def _charts(doc: OfficialDocument, content: BulletinContent) -> None:
    for chart in content.charts:
        doc.picture(chart)


def units_of_the_month(content: BulletinContent) -> list[overview.UnitRow]:
    """Units with something in the month (today's overdue alone does not list a unit)."""
    return [row for row in content.overview.units
            if any(row.figures[name] for name in PERIOD_COUNTS)]


def _units(doc: OfficialDocument, content: BulletinContent) -> None:
    rows = units_of_the_month(content)
    if not rows:
        doc.paragraph("本月无交办单位的诉求。")
        return
    doc.table(["单位", *(label for _n, label in UNIT_COLUMNS)], [
        [row.name, *(row.figures.rate(n).percent() if n in RATE_LABELS
                     else str(row.figures[n]) for n, _l in UNIT_COLUMNS)]
        for row in rows], [36, 14, 14, 15, 12, 19, 17, 12, 17])


def _topics(doc: OfficialDocument, content: BulletinContent) -> None:
    topics = content.topics
    if not topics.areas and not topics.rising and not topics.repeat_enterprises:
        doc.paragraph("本月诉求较少，暂无热点。")
    for area in topics.areas:
        if area.keywords:
            doc.paragraph(f"{area.label}（{area.cases}件）：" +
                          "、".join(k.word for k in area.keywords) + "。")
    if topics.rising:
        doc.paragraph("较上月上升：" + "、".join(
            f"{r.word}（{r.previous}→{r.current}件）" for r in topics.rising) + "。")
    if topics.repeat_enterprises:
        doc.paragraph("重复来诉企业：" + "、".join(
            f"{e.name}（{e.cases}次）" for e in topics.repeat_enterprises) + "。")


def _typical(doc: OfficialDocument, content: BulletinContent) -> None:
    if not content.typical:
        doc.paragraph("本月未选定典型案例。")
    for index, (case, note) in enumerate(content.typical, start=1):
        paragraph = doc.paragraph()
        area = CATEGORY_LABELS.get(case.category or "", "其他")
        mode = MODE_LABELS.get(case.mode or "", "待分办")
        doc.run(paragraph, f"{index}. {case.number}（{area}，{mode}）", bold=True)
        doc.run(paragraph, f"：{case.description}")
        if note:
            doc.run(paragraph, f" 点评：{note}", east_asia=KAITI)


def _accountability(doc: OfficialDocument, content: BulletinContent) -> None:
    if not content.entries:
        doc.paragraph("本月无列入督查问责的情形。")
        return
    doc.paragraph("；".join(f"{unit.department}：{unit.reasons}"
                           for unit in by_unit(content.entries)) + "。")
    doc.table(["单位", "诉求编号", "情形", "说明"],
              [[e.department, e.number, e.rule_label, e.detail] for e in content.entries],
              [36, 28, 20, 72])


def _editorial(doc: OfficialDocument, content: BulletinContent) -> None:
    for line in (content.editorial or "（待专班填写）").splitlines():
        if line.strip():
            doc.paragraph(line.strip())


@dataclass(frozen=True)
class Section:
    """One numbered part of the bulletin: its title and what writes its body."""

    title: str
    write: Callable[[OfficialDocument, BulletinContent], None]


# The bulletin's parts, in order; numbering (一、二、…) follows the position, so a part is
# added by inserting it here (e.g. the office-hours queue's figures).
PARTS: tuple[Section, ...] = (
    Section("总体情况", _overall), Section("热线人工服务", _queue), Section("图表", _charts),
    Section("各单位办理情况", _units), Section("热点问题", _topics),
    Section("典型案例", _typical), Section("督查问责", _accountability),
    Section("工作动态", _editorial),
)
SECTIONS = tuple(f"{NUMERALS[i]}、{part.title}" for i, part in enumerate(PARTS))


def render(content: BulletinContent) -> bytes:
    """The bulletin as a .docx file in the layout of a government 简报 (GB/T 9704-2012)."""
    doc = OfficialDocument()
    doc.masthead(Masthead(MASTHEAD, f"第{content.issue_number}期", EDITOR,
                          _chinese_date(content.issued_on)))
    period = content.period
    doc.title(f"{period.label}企业诉求办理情况通报")
    doc.paragraph(f"统计周期：{_chinese_date(period.start)}至{_chinese_date(period.end)}。"
                  f"现将{CENTRE}{period.label}企业诉求受理、办理和评价情况通报如下。")
    for heading, part in zip(SECTIONS, PARTS, strict=True):
        doc.heading(heading)
        part.write(doc, content)
    doc.closing(Closing(REPORT_TO, COPY_TO, EDITOR, _chinese_date(content.issued_on)))
    return doc.bytes()


# -- the bulletin's life ------------------------------------------------------------------------


def month_key(period: Period) -> str:
    return f"{period.start:%Y-%m}"


def create_draft(session: Session, period: Period, *, by: str, now: datetime) -> Bulletin | None:
    """Create the month's draft and tell the supervisors; None if it already exists.

    ``INSERT … ON CONFLICT DO NOTHING`` on the unique month: whichever scheduler gets there
    first creates it, the other one does nothing (and sends nothing).
    """
    key = month_key(period)
    # One statement, so it takes the write lock first (SQLite) and numbers atomically.
    number = select(func.coalesce(func.max(Bulletin.issue_number), 0) + 1).scalar_subquery()
    values = {"month": key, "issue_number": number, "status": BulletinStatus.DRAFT,
              "editorial": "", "created_at": now, "created_by": by[:100]}
    stmt = insert_or_ignore(session, Bulletin, values, index_elements=["month"])
    new_id = session.execute(stmt.returning(Bulletin.id)).scalar_one_or_none()
    if new_id is None:
        return None
    bulletin = session.get(Bulletin, new_id)
    assert bulletin is not None
    notify(session, audience=Audience.SUPERVISOR, kind=NotificationKind.BULLETIN, case=None,
           title=f"{period.label}工作简报（第{bulletin.issue_number}期）草稿已生成",
           body="请在“统计 → 简报”中补充工作动态后印发。", now=now)
    return bulletin


def bulletin_for(session: Session, period: Period) -> Bulletin | None:
    return session.scalars(select(Bulletin).where(Bulletin.month == month_key(period))).first()


def save_editorial(session: Session, bulletin: Bulletin, text: str) -> None:
    if bulletin.status == BulletinStatus.ISSUED:
        raise BulletinError("简报已印发，不能再修改")
    bulletin.editorial = text.strip()[:20000]


def issue(session: Session, bulletin: Bulletin, document: bytes, *, by: str, now: datetime,
          figures: dict[str, Any] | None = None) -> None:
    """Record who issued it and when, and keep the file — and the figures it states —
    exactly as issued."""
    if bulletin.status == BulletinStatus.ISSUED:
        raise BulletinError("简报已印发")
    bulletin.status = BulletinStatus.ISSUED
    bulletin.issued_at = now
    bulletin.issued_by = by[:100]
    bulletin.document = document
    bulletin.figures = figures


def mark_typical(session: Session, case_id: int, *, note: str, by: str, now: datetime
                 ) -> TypicalCase | None:
    """Mark a case as typical (典型案例); None if it already is."""
    if session.scalar(select(TypicalCase.id).where(TypicalCase.case_id == case_id)):
        return None
    typical = TypicalCase(case_id=case_id, note=note.strip()[:2000], marked_by=by[:100],
                          marked_at=now)
    session.add(typical)
    return typical
