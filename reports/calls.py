"""Hotline indicators from the call log: calls, operator answers, voicemails, surveys."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.orm import Session

from call_flows.flow import Flow
from call_flows.roles import HOTLINE_FLOW, Role
from followup.models import ATTEMPT_STATUS_LABELS, FollowUpAttempt
from ivr.models import Call, CallEvent, Recording
from reports.indicators import Scope
from transcription.statuses import TranscriptionStatus
from workdays.office_hours import OfficeHours

CALL_LABELS = {
    "calls": "来电", "in_office_hours": "工作时间来电", "after_hours": "非工作时间来电",
    "to_operator": "转人工", "operator_answered": "人工接听",
    "answered_within_target": "限时内接听", "ring_time_known": "接听时长已知",
    "abandoned_in_menu": "菜单中挂断", "voicemails": "留言", "transcribed": "留言已转写",
    "status_lookups": "进度查询（按9）", "survey_calls": "回访外呼",
}


@dataclass(frozen=True)
class CallNodes:
    """The hotline flow's node ids the figures read the call log by (:func:`call_nodes`)."""

    operator: str
    status_lookup: str
    # Where a caller is still choosing: hanging up at one (no operator, no message) is
    # abandoning.
    menus: frozenset[str]


def call_nodes(flow: Flow) -> CallNodes:
    """The nodes of ``flow`` (the hotline as loaded) by their roles, never by their ids.

    A caller is still choosing at every node before the operator queue or the voicemail
    (the two ways the hotline serves a call); hangups there are the flow ending the call.
    """
    served = {Role.OPERATOR, Role.VOICEMAIL}
    menus = {node_id for node_id in flow.nodes_before(served)
             if flow.nodes[node_id].type != "hangup"}
    return CallNodes(operator=flow.node_for(Role.OPERATOR).id,
                     status_lookup=flow.node_for(Role.STATUS_LOOKUP).id,
                     menus=frozenset(menus))


@dataclass(frozen=True)
class Hotline:
    """What the call figures need of the running hotline (plain values: reports.context)."""

    office_hours: OfficeHours
    nodes: CallNodes


@dataclass
class CallFigures:
    counts: dict[str, int]
    survey_outcomes: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {**self.counts, "survey_outcomes": dict(self.survey_outcomes)}


def _entered(node: str) -> Any:
    return exists().where(CallEvent.call_id == Call.id, CallEvent.kind == "enter",
                          CallEvent.node == node)


def call_figures(session: Session, scope: Scope, hotline: Hotline,
                 target_seconds: int) -> CallFigures:
    """The hotline's figures for the period (inbound hotline calls by start time)."""
    office_hours, nodes = hotline.office_hours, hotline.nodes
    inbound = and_(Call.flow == HOTLINE_FLOW, Call.direction == "inbound",
                   scope.during(Call.started_at))
    # Operator legs are recorded too (for the record); only the caller's message is a voicemail.
    is_voicemail = and_(Recording.status == "completed", Recording.kind == "voicemail")
    has_recording = exists().where(Recording.call_id == Call.id, is_voicemail)
    rows = session.execute(
        select(Call.started_at, Call.reached_operator, Call.operator_answer_seconds,
               _entered(nodes.operator).label("to_operator"),
               _entered(nodes.status_lookup).label("lookup"), has_recording.label("recorded"),
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
                                            and row.last_node in nodes.menus)
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

