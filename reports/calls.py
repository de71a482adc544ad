"""Hotline indicators from the call log: calls, operator answers, voicemails, surveys."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.orm import Session

from followup.models import ATTEMPT_STATUS_LABELS, FollowUpAttempt
from ivr.models import Call, CallEvent, Recording
from reports.indicators import Scope
from transcription.statuses import TranscriptionStatus
from workdays.office_hours import OfficeHours

# Where a caller is still choosing: hanging up here (no operator, no message) is abandoning.
MENU_NODES = ("greeting", "caller_check", "main_menu", "factor_menu", "status_lookup",
              "voicemail_offer")
HOTLINE_FLOW = "hotline"

CALL_LABELS = {
    "calls": "来电", "in_office_hours": "工作时间来电", "after_hours": "非工作时间来电",
    "to_operator": "转人工", "operator_answered": "人工接听",
    "answered_within_target": "限时内接听", "ring_time_known": "接听时长已知",
    "abandoned_in_menu": "菜单中挂断", "voicemails": "留言", "transcribed": "留言已转写",
    "status_lookups": "进度查询（按9）", "survey_calls": "回访外呼",
}


@dataclass
class CallFigures:
    counts: dict[str, int]
    survey_outcomes: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {**self.counts, "survey_outcomes": dict(self.survey_outcomes)}


def _entered(node: str) -> Any:
    return exists().where(CallEvent.call_id == Call.id, CallEvent.kind == "enter",
                          CallEvent.node == node)


def call_figures(session: Session, scope: Scope, office_hours: OfficeHours,
                 target_seconds: int) -> CallFigures:
    """The hotline's figures for the period (inbound hotline calls by start time)."""
    inbound = and_(Call.flow == HOTLINE_FLOW, Call.direction == "inbound",
                   scope.during(Call.started_at))
    # Operator legs are recorded too (for the record); only the caller's message is a voicemail.
    is_voicemail = and_(Recording.status == "completed", Recording.kind == "voicemail")
    has_recording = exists().where(Recording.call_id == Call.id, is_voicemail)
    rows = session.execute(
        select(Call.started_at, Call.reached_operator, Call.operator_answer_seconds,
               _entered("operator").label("to_operator"),
               _entered("status_lookup").label("lookup"), has_recording.label("recorded"),
               Call.last_node)
        .where(inbound)
    ).all()
    counts: Counter[str] = Counter({name: 0 for name in CALL_LABELS})
    for row in rows:
        counts["calls"] += 1
        counts["in_office_hours" if office_hours.is_open(row.started_at) else "after_hours"] += 1
        counts["to_operator"] += bool(row.to_operator)
        counts["operator_answered"] += bool(row.reached_operator)
        if row.reached_operator and row.operator_answer_seconds is not None:
            counts["ring_time_known"] += 1
            counts["answered_within_target"] += row.operator_answer_seconds <= target_seconds
        counts["status_lookups"] += bool(row.lookup)
        counts["abandoned_in_menu"] += bool(not row.reached_operator and not row.recorded
                                            and row.last_node in MENU_NODES)
    voicemails = session.execute(
        select(func.count(), func.coalesce(func.sum(
            case((Recording.transcription_status == TranscriptionStatus.DONE, 1), else_=0)), 0))
        .select_from(Recording).join(Call, Call.id == Recording.call_id)
        .where(inbound, is_voicemail)
    ).one()
    counts["voicemails"], counts["transcribed"] = int(voicemails[0]), int(voicemails[1])
    outcomes: dict[str, int] = {status: int(n) for status, n in session.execute(
        select(FollowUpAttempt.status, func.count())
        .where(scope.during(FollowUpAttempt.started_at))
        .group_by(FollowUpAttempt.status))}
    counts["survey_calls"] = sum(outcomes.values())
    return CallFigures(dict(counts), {ATTEMPT_STATUS_LABELS.get(k, k): v
                                      for k, v in outcomes.items()})

