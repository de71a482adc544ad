"""Hotline figures from the call log: office hours, operator answers, menus, voicemails."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from call_flows.flow import load_flows
from ivr.models import Call, CallEvent, Recording
from reports import periods
from reports.calls import Hotline, call_figures, call_nodes
from reports.indicators import Scope
from tests.cases.factories import CALENDAR, local
from tests.flow_copies import renamed_flow
from workdays.office_hours import OfficeHours, parse_windows

TZ = ZoneInfo("Asia/Shanghai")
SCOPE = Scope(period=periods.month(2026, 11), today=date(2026, 11, 30), tz=TZ)
HOURS = OfficeHours(parse_windows("08:30-12:00,13:30-17:30"), CALENDAR, TZ)
HOTLINE = Hotline(HOURS, call_nodes(load_flows()["hotline"]))


def call(session: Session, sid: str, when: str, *, nodes: tuple[str, ...], last: str,
         **fields: Any) -> Call:
    started = local(when)
    row = Call(call_sid=f"CA{sid:0>32}", from_number="+8613800138000", started_at=started,
               status="completed", last_node=last, **fields)
    session.add(row)
    session.flush()
    for index, node in enumerate(nodes):
        session.add(CallEvent(call_id=row.id, kind="enter", node=node,
                              at=started + timedelta(seconds=index)))
    return row


def test_call_figures(session: Session) -> None:
    call(session, "1", "2026-11-24 10:00", nodes=("greeting", "main_menu", "operator"),
         last="goodbye", reached_operator=True, operator_answer_seconds=9)
    call(session, "2", "2026-11-24 11:00", nodes=("greeting", "main_menu", "operator"),
         last="goodbye", reached_operator=True, operator_answer_seconds=25)
    late = call(session, "3", "2026-11-24 21:00", nodes=("greeting", "main_menu", "voicemail"),
                last="voicemail_done")
    session.add(Recording(recording_sid="RE" + "3" * 32, call_id=late.id, status="completed",
                          transcription_status="done"))
    # The operator leg of call 1 is recorded for the record: a recording, not a voicemail.
    operator_leg = session.scalars(select(Call).where(Call.call_sid == f"CA{'1':0>32}")).one()
    session.add(Recording(recording_sid="RE" + "1" * 32, call_id=operator_leg.id,
                          status="completed", kind="operator", transcription_status="done"))
    call(session, "4", "2026-11-25 09:00", nodes=("greeting", "main_menu"), last="main_menu")
    call(session, "5", "2026-11-28 10:00", nodes=("greeting", "main_menu", "status_lookup"),
         last="status_lookup")  # a Saturday: after hours
    call(session, "6", "2026-10-30 10:00", nodes=("greeting",), last="greeting")  # October
    session.commit()
    got = call_figures(session, SCOPE, HOTLINE, target_seconds=15).counts
    assert got == {
        "calls": 5, "in_office_hours": 3, "after_hours": 2, "to_operator": 2,
        "operator_answered": 2, "ring_time_known": 2, "answered_within_target": 1,
        "abandoned_in_menu": 2, "voicemails": 1, "transcribed": 1, "status_lookups": 1,
        "survey_calls": 0,
    }


def test_the_figures_follow_renamed_nodes(session: Session, tmp_path: Path) -> None:
    flow = renamed_flow(tmp_path, "hotline", main_menu="root_menu", operator="queue_in",
                        status_lookup="case_lookup")
    call(session, "1", "2026-11-24 10:00", nodes=("greeting", "root_menu", "queue_in"),
         last="goodbye", reached_operator=True, operator_answer_seconds=9)
    call(session, "2", "2026-11-24 11:00", nodes=("greeting", "root_menu"), last="root_menu")
    call(session, "3", "2026-11-24 11:30", nodes=("greeting", "root_menu", "case_lookup"),
         last="case_lookup")
    session.commit()
    got = call_figures(session, SCOPE, Hotline(HOURS, call_nodes(flow)), target_seconds=15)
    assert (got.counts["to_operator"], got.counts["abandoned_in_menu"],
            got.counts["status_lookups"]) == (1, 2, 1)


def test_every_menu_before_the_operator_or_voicemail_counts_as_in_menu() -> None:
    menus = call_nodes(load_flows()["hotline"]).menus
    assert {"main_menu", "factor_menu", "policy_menu", "special_menu", "status_lookup",
            "status_verify"} <= menus
    assert not menus & {"operator", "queue_offer", "voicemail", "voicemail_done", "goodbye"}
