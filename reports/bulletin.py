"""The monthly bulletin (工作简报) as ``.docx``, and its life: draft, edit, issue.

A bulletin belongs to one month (unique). The first-working-day job creates the draft
(:func:`create_draft`, once even with two schedulers: the unique month decides) and tells the
supervisors; they add the free-text section and issue it, which stores the file as issued.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt, RGBColor
from sqlalchemy import func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from cases.case_models import Case
from cases.notifications import Audience, NotificationKind, notify
from cases.vocab import CATEGORY_LABELS, MODE_LABELS
from reports import hot_topics, overview
from reports.accountability import Entry, accountability
from reports.indicators import RATE_LABELS, Scope
from reports.models import Bulletin, BulletinStatus, TypicalCase
from reports.periods import Period
from workdays.calendar import WorkCalendar

TITLE = "企业“最多跑一地”综合服务中心工作简报"
ISSUER = "奉化区企业服务专班"
SECTIONS = ("一、总体情况", "二、图表", "三、各单位办理情况", "四、热点问题", "五、典型案例",
            "六、督查问责", "七、工作动态")
HEADLINE = (("received", "受理诉求（件）"), ("instant", "即时办（件）"), ("answered", "答复（件）"),
            ("overdue_now", "当前逾期（件）"), ("hanging_now", "当前挂账（件）"))
UNIT_COLUMNS = (("received", "受理"), ("answered", "答复"), ("due", "应办结"),
                ("on_time", "按时"), ("on_time_rate", "按时办结率"), ("overdue_now", "逾期"),
                ("returned", "退单"), ("satisfaction_rate", "满意率"))


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


def gather(session: Session, scope: Scope, calendar: WorkCalendar, *, issue_number: int,
           editorial: str, issued_on: date) -> BulletinContent:
    """Everything the bulletin shows for the scope's month."""
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
    )


def _change(value: int) -> str:
    return f"+{value}" if value > 0 else str(value)


def _points(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:+.1f}个百分点"


def _table(document: Any, header: list[str], rows: list[list[str]]) -> None:
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = text
        cell.paragraphs[0].runs[0].bold = True
    for row in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, row, strict=True):
            cell.text = text


def _font(document: Any) -> None:
    style = document.styles["Normal"]
    style.font.name = "宋体"
    style.font.size = Pt(11)
    # East Asian text takes the font from the eastAsia attribute.
    fonts = style.element.rPr.rFonts if style.element.rPr is not None else None
    if fonts is not None:
        fonts.set("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia",
                  "宋体")


def render(content: BulletinContent) -> bytes:
    """The bulletin as a .docx file."""
    document = Document()
    _font(document)
    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run(TITLE)
    run.bold = True
    run.font.size = Pt(20)
    run.font.color.rgb = RGBColor(0xC0, 0x00, 0x00)
    number = document.add_paragraph(f"第{content.issue_number}期")
    number.alignment = WD_ALIGN_PARAGRAPH.CENTER
    byline = document.add_paragraph(
        f"{ISSUER}　　　　{content.issued_on.year}年{content.issued_on.month}月"
        f"{content.issued_on.day}日")
    byline.alignment = WD_ALIGN_PARAGRAPH.CENTER
    document.add_paragraph(f"统计周期：{content.period.label}"
                           f"（{content.period.start:%Y-%m-%d}至{content.period.end:%Y-%m-%d}）")

    view = content.overview
    t = view.totals
    document.add_heading(SECTIONS[0], level=1)
    document.add_paragraph(
        f"本月共受理企业诉求{t['received']}件（环比{_change(view.change('received'))}件），"
        f"其中即时办{t['instant']}件、流转办{t['routed']}件、专班商办{t['joint']}件、"
        f"研判上报{t['escalated']}件；答复{t['answered']}件。"
        f"按时办结率{t.on_time_rate.percent()}（{t['on_time']}/{t['due']}，"
        f"环比{_points(view.rate_change('on_time_rate'))}），"
        f"满意率{t.satisfaction_rate.percent()}（{t['satisfied']}/{t['rated']}），"
        f"回访率{t.followup_rate.percent()}，即时办结率{t.instant_rate.percent()}。"
        f"截至统计日，逾期未答复{t['overdue_now']}件，挂账{t['hanging_now']}件。")
    rows = [[label, str(t[name]), str(view.previous[name]), _change(view.change(name))]
            for name, label in HEADLINE]
    rows += [[label, t.rate(name).percent(), view.previous.rate(name).percent(),
              _points(view.rate_change(name))] for name, label in RATE_LABELS.items()]
    _table(document, ["指标", "本月", "上月", "环比"], rows)

    document.add_heading(SECTIONS[1], level=1)
    for chart in content.charts:
        document.add_picture(io.BytesIO(chart), width=Cm(15))

    document.add_heading(SECTIONS[2], level=1)
    if view.units:
        _table(document, ["单位", *(label for _n, label in UNIT_COLUMNS)], [
            [row.name, *(row.figures.rate(n).percent() if n in RATE_LABELS
                         else str(row.figures[n]) for n, _l in UNIT_COLUMNS)]
            for row in view.units])
    else:
        document.add_paragraph("本月无交办单位的诉求。")

    document.add_heading(SECTIONS[3], level=1)
    topics = content.topics
    if not topics.areas and not topics.rising and not topics.repeat_enterprises:
        document.add_paragraph("本月诉求较少，暂无热点。")
    for area in topics.areas:
        document.add_paragraph(
            f"{area.label}（{area.cases}件）：" + "、".join(k.word for k in area.keywords),
            style="List Bullet")
    if topics.rising:
        document.add_paragraph("较上月上升：" + "、".join(
            f"{r.word}（{r.previous}→{r.current}）" for r in topics.rising), style="List Bullet")
    if topics.repeat_enterprises:
        document.add_paragraph("重复来诉企业：" + "、".join(
            f"{e.name}（{e.cases}次）" for e in topics.repeat_enterprises), style="List Bullet")

    document.add_heading(SECTIONS[4], level=1)
    if not content.typical:
        document.add_paragraph("本月未选定典型案例。")
    for case, note in content.typical:
        paragraph = document.add_paragraph(style="List Number")
        paragraph.add_run(f"{case.number}（{CATEGORY_LABELS.get(case.category or '', '其他')}，"
                          f"{MODE_LABELS.get(case.mode or '', '待分办')}）").bold = True
        paragraph.add_run(f"：{case.description}")
        if note:
            paragraph.add_run(f" 点评：{note}")

    document.add_heading(SECTIONS[5], level=1)
    if content.entries:
        _table(document, ["单位", "诉求编号", "情形", "说明"],
               [[e.department, e.number, e.rule_label, e.detail] for e in content.entries])
    else:
        document.add_paragraph("本月无列入督查问责的情形。")

    document.add_heading(SECTIONS[6], level=1)
    for line in (content.editorial or "（待专班填写）").splitlines():
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


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
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(Bulletin).values(**values).on_conflict_do_nothing(index_elements=["month"])
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


def issue(session: Session, bulletin: Bulletin, document: bytes, *, by: str, now: datetime
          ) -> None:
    """Record who issued it and when, and keep the file exactly as issued."""
    if bulletin.status == BulletinStatus.ISSUED:
        raise BulletinError("简报已印发")
    bulletin.status = BulletinStatus.ISSUED
    bulletin.issued_at = now
    bulletin.issued_by = by[:100]
    bulletin.document = document


def mark_typical(session: Session, case_id: int, *, note: str, by: str, now: datetime
                 ) -> TypicalCase | None:
    """Mark a case as typical (典型案例); None if it already is."""
    if session.scalar(select(TypicalCase.id).where(TypicalCase.case_id == case_id)):
        return None
    typical = TypicalCase(case_id=case_id, note=note.strip()[:2000], marked_by=by[:100],
                          marked_at=now)
    session.add(typical)
    return typical
