"""The queue's figures against rows whose answers are worked out here by hand (docs/reports.md
"人工服务"): 接通率, service level, 放弃率 with short abandons apart, ASA, AHT, callbacks in time,
per operator and by hour × weekday; and where they appear (kpis --json, 统计, the bulletin)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from callqueue.models import Agent, EntryKind, EntryStatus, Offer, QueueEntry, WrapUp
from core.db import db
from reports import periods
from reports.indicators import Scope
from reports.queue_figures import QueueRules, heatmap_chart, queue_figures

TZ = ZoneInfo("Asia/Shanghai")
NOVEMBER = Scope(period=periods.month(2026, 11), today=datetime(2026, 11, 30).date(), tz=TZ)
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=TZ)


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ).astimezone(UTC)


@pytest.fixture
def session(app: Any) -> Session:
    return db.session()


def agent(session: Session, username: str) -> Agent:
    found = Agent(user_id=abs(hash(username)) % 10_000, username=username,
                  display_name=f"{username}姓名", state="idle", state_since=local("2026-11-01"))
    session.add(found)
    session.flush()
    return found


def call(session: Session, n: int, at: str, status: EntryStatus, *, wait: int | None = None,
         talk: int | None = None, wrapup: int | None = None, who: Agent | None = None,
         reason: str | None = None) -> QueueEntry:
    enqueued = local(at)
    entry = QueueEntry(kind=EntryKind.CALL.value, call_sid=f"CA{n:032d}", from_number="+86138",
                       area="factor", place_at=enqueued, enqueued_at=enqueued,
                       status=status.value, wait_seconds=wait, talk_seconds=talk,
                       wrapup_seconds=wrapup, agent_id=who.id if who else None,
                       left_reason=reason,
                       answered_at=enqueued + timedelta(seconds=wait or 0) if talk is not None
                       or status == EntryStatus.CONNECTED else None)
    session.add(entry)
    session.flush()
    return entry


def callback(session: Session, n: int, at: str, status: EntryStatus, *, deadline: str,
             ended: str | None = None) -> None:
    session.add(QueueEntry(kind=EntryKind.CALLBACK.value, call_sid=f"CB{n:032d}",
                           from_number="+86138", area="policy", place_at=local(at),
                           enqueued_at=local(at), status=status.value,
                           deadline=local(deadline), ended_at=local(ended) if ended else None))


@pytest.fixture
def month(session: Session) -> dict[str, Agent]:
    op1, op2 = agent(session, "op1"), agent(session, "op2")
    done = EntryStatus.COMPLETED
    first = call(session, 1, "2026-11-24 10:05", done, wait=10, talk=100, wrapup=20, who=op1)
    call(session, 2, "2026-11-24 10:40", done, wait=25, talk=200, who=op2)
    call(session, 3, "2026-11-25 14:00", EntryStatus.ABANDONED, wait=3, reason="hangup")
    call(session, 4, "2026-11-25 14:10", EntryStatus.ABANDONED, wait=40, reason="hangup")
    call(session, 5, "2026-11-25 15:00", EntryStatus.LEFT, wait=50, reason="callback")
    call(session, 6, "2026-11-26 09:00", EntryStatus.UNAVAILABLE, wait=0)
    call(session, 7, "2026-11-30 08:45", EntryStatus.CONNECTED, wait=5, who=op1)
    call(session, 8, "2026-10-31 16:00", done, wait=1, talk=50, who=op1)  # October
    callback(session, 1, "2026-11-25 15:00", done, deadline="2026-11-25 16:00",
             ended="2026-11-25 15:30")
    callback(session, 2, "2026-11-26 10:00", done, deadline="2026-11-26 11:00",
             ended="2026-11-26 11:20")
    callback(session, 3, "2026-11-27 10:00", EntryStatus.WAITING, deadline="2026-11-27 11:00")
    callback(session, 4, "2026-11-30 08:30", EntryStatus.WAITING, deadline="2026-11-30 09:30")
    session.add_all([
        Offer(entry_id=first.id, agent_id=op2.id, status="no_answer",
              created_at=local("2026-11-24 10:05")),
        WrapUp(entry_id=first.id, agent_id=op1.id, outcome="answered",
               recorded_at=local("2026-11-24 10:08")),
    ])
    session.commit()
    return {"op1": op1, "op2": op2}


def test_the_months_figures_by_the_documented_rules(session: Session, month: Any) -> None:
    figures = queue_figures(session, NOVEMBER, NOW, QueueRules(20, 5))
    counts = figures.counts
    assert (counts["offered"], counts["queued"], counts["unavailable"]) == (7, 6, 1)
    assert (counts["answered"], counts["answered_within"]) == (3, 2)  # 10 s and 5 s waits
    assert (counts["abandoned"], counts["short_abandoned"]) == (1, 1)  # 40 s; 3 s is short
    assert counts["left_callback"] == 1
    assert figures.answer_rate.as_json() == {"numerator": 3, "denominator": 7, "value": 0.4286}
    # Service level and abandon rate: over queued callers less the short abandon (6 − 1).
    assert (figures.service_level.numerator, figures.service_level.denominator) == (2, 5)
    assert (figures.abandon_rate.numerator, figures.abandon_rate.denominator) == (1, 5)
    assert figures.asa == round((10 + 25 + 5) / 3, 1)
    # AHT: finished calls only (the one still connected has no talk time yet).
    assert figures.aht == (100 + 20 + 200) / 2
    # Callbacks: #1 in time, #2 late, #3 past its deadline undone; #4 not yet due.
    assert counts["callbacks_requested"] == 4
    assert (figures.callbacks_in_time.numerator, figures.callbacks_in_time.denominator) == (1, 3)
    assert counts["callbacks_done"] == 2


def test_the_settings_move_the_thresholds(session: Session, month: Any) -> None:
    strict = queue_figures(session, NOVEMBER, NOW, QueueRules(5, 2))
    assert (strict.service_level.numerator, strict.service_level.denominator) == (1, 6)
    assert strict.counts["short_abandoned"] == 0 and strict.counts["abandoned"] == 2


def test_per_operator_and_heat_map(session: Session, month: Any) -> None:
    figures = queue_figures(session, NOVEMBER, NOW, QueueRules(20, 5))
    by_name = {o.username: o for o in figures.operators}
    assert (by_name["op1"].answered, by_name["op1"].aht, by_name["op1"].asa) == (2, 120, 7.5)
    assert by_name["op1"].outcomes == {"咨询已解答": 1}
    assert (by_name["op2"].answered, by_name["op2"].unanswered_offers) == (1, 1)
    heat = figures.heatmap
    assert heat is not None
    tuesday, wednesday = 1, 2  # 2026-11-24 is a Tuesday
    assert heat[tuesday][10] == (2, 2)
    assert heat[wednesday][14] == (2, 0) and heat[wednesday][15] == (1, 0)
    assert sum(cell[0] for row in heat for cell in row) == 7
    assert heatmap_chart(figures)[:8] == b"\x89PNG\r\n\x1a\n"


def test_kpis_json_has_the_queue(app: Any, month: Any, clock: Any) -> None:
    clock.set_local("2026-11-30 09:00")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["reports", "kpis", "--from", "2026-11-01", "--to",
                                 "2026-11-30", "--json"])
    assert result.exit_code == 0, result.output
    queue = json.loads(result.output)["queue"]
    assert queue["answer_rate"] == {"numerator": 3, "denominator": 7, "value": 0.4286}
    assert queue["service_level"] == {"numerator": 2, "denominator": 5, "value": 0.4,
                                      "seconds": 20}
    assert queue["abandon_rate"]["numerator"] == 1 and queue["short_abandoned"] == 1
    assert queue["asa_seconds"] == 13.3 and queue["aht_seconds"] == 160.0
    assert queue["callbacks"]["within_deadline"]["numerator"] == 1
    assert [o["username"] for o in queue["operators"]] == ["op1", "op2"]
    assert len(queue["heatmap"]["offered"]) == 7 and len(queue["heatmap"]["offered"][0]) == 24
    text = runner.invoke(args=["reports", "kpis", "--from", "2026-11-01", "--to", "2026-11-30"])
    assert "接通率 42.9%（3/7）" in text.output and "服务水平（20秒内接听）40.0%" in text.output


def test_the_bulletin_has_a_queue_part(app: Any, month: Any, clock: Any, tmp_path: Any) -> None:
    from docx import Document

    clock.set_local("2026-12-01 09:00")
    out = tmp_path / "b.docx"
    result = app.test_cli_runner().invoke(args=["reports", "bulletin", "--month", "2026-11",
                                                "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = "\n".join(p.text for p in Document(str(out)).paragraphs)
    assert "二、热线人工服务" in text
    assert "接通率42.9%" in text and "20秒内接听率（服务水平）40.0%" in text
    assert "短时放弃1个" in text


def test_the_statistics_page_shows_the_queue(client: Any, month: Any, clock: Any) -> None:
    from console.auth import _fingerprint
    from console.models import User

    boss = User(username="sup", display_name="专班", role="supervisor",
                password_hash="x", active=True)
    db.session.add(boss)
    db.session.commit()
    with client.session_transaction() as sess:
        sess.update(uid=boss.id, fp=_fingerprint(boss), sv=boss.session_version)
    page = client.get("/console/reports/queue?from=2026-11-01&to=2026-11-30")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="answer-rate">42.9%' in html and 'id="service-level">40.0%' in html
    assert "op1姓名" in html
    chart = client.get("/console/reports/queue/heatmap.png?from=2026-11-01&to=2026-11-30")
    assert chart.mimetype == "image/png"
