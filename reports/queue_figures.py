"""The office-hours queue's figures: 接通率, service level, 放弃率, ASA, AHT, callbacks in time,
per operator and by hour × weekday (docs/reports.md, "Queue figures").

Self-contained: it reads the queue's tables (``callqueue.models``) for the period's local
days and computes every figure from one rule each; the wallboard (实时监控) takes today's, the
统计 page, the bulletin and ``flask reports kpis --json`` (key ``queue``) a period's.
Waits and talk times are whole seconds stored on each entry when they end, so the figures are
sums and comparisons in SQL on both databases.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, select, true
from sqlalchemy.orm import Session
from sqlalchemy.sql import Subquery

from callqueue.models import (
    OUTCOME_LABELS,
    Agent,
    EntryKind,
    EntryStatus,
    Offer,
    OfferStatus,
    QueueEntry,
    WrapUp,
)
from core.ratio import Ratio
from core.settings import setting
from reports.charts import _figure, _png
from reports.indicators import Scope

WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


@dataclass(frozen=True)
class QueueRules:
    """The two judgement calls, as settings (README, "Configuration")."""

    service_level_seconds: int = 20
    short_abandon_seconds: int = 5

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> QueueRules:
        return cls(int(setting(config, "QUEUE_SERVICE_LEVEL_SECONDS")),
                   int(setting(config, "QUEUE_SHORT_ABANDON_SECONDS")))

    @classmethod
    def of(cls, scope: Scope) -> QueueRules:
        """The rules in a report's settings (``reports.settings``, from the same variables)."""
        return cls(scope.settings.queue_service_level_seconds,
                   scope.settings.queue_short_abandon_seconds)


@dataclass
class OperatorFigures:
    username: str
    name: str
    answered: int
    wait_total: int
    handled: int
    handle_total: int
    unanswered_offers: int
    outcomes: dict[str, int] = field(default_factory=dict)

    @property
    def aht(self) -> float | None:
        return round(self.handle_total / self.handled, 1) if self.handled else None

    @property
    def asa(self) -> float | None:
        return round(self.wait_total / self.answered, 1) if self.answered else None

    def as_json(self) -> dict[str, Any]:
        return {"username": self.username, "name": self.name, "answered": self.answered,
                "asa_seconds": self.asa, "aht_seconds": self.aht,
                "unanswered_offers": self.unanswered_offers, "outcomes": dict(self.outcomes)}


@dataclass
class QueueFigures:
    rules: QueueRules
    counts: dict[str, int]
    operators: list[OperatorFigures] = field(default_factory=list)
    # [weekday 0–6][hour 0–23] → (offered, answered)
    heatmap: list[list[tuple[int, int]]] | None = None

    def _count(self, name: str) -> int:
        return self.counts.get(name, 0)

    @property
    def answer_rate(self) -> Ratio:
        """接通率: answered by an operator / callers who reached the service desk."""
        return Ratio(self._count("answered"), self._count("offered"))

    @property
    def service_level(self) -> Ratio:
        """Answered within the service-level seconds / queued callers less short abandons."""
        return Ratio(self._count("answered_within"),
                     self._count("queued") - self._count("short_abandoned"))

    @property
    def abandon_rate(self) -> Ratio:
        """放弃率: abandoned in the queue (not short) / queued callers less short abandons."""
        return Ratio(self._count("abandoned"),
                     self._count("queued") - self._count("short_abandoned"))

    @property
    def callbacks_in_time(self) -> Ratio:
        """Callback requests done by their deadline / requests decided (done, closed, or past
        their deadline)."""
        return Ratio(self._count("callbacks_in_time"), self._count("callbacks_decided"))

    @property
    def asa(self) -> float | None:
        """Average speed of answer: mean wait of answered callers, seconds."""
        answered = self._count("answered")
        return round(self._count("wait_total") / answered, 1) if answered else None

    @property
    def aht(self) -> float | None:
        """Average handling time: mean talk + wrap-up of finished answered calls, seconds."""
        handled = self._count("handled")
        return round(self._count("handle_total") / handled, 1) if handled else None

    def as_json(self) -> dict[str, Any]:
        counts = self.counts
        data: dict[str, Any] = {
            "offered": counts["offered"], "queued": counts["queued"],
            "unavailable": counts["unavailable"], "answered": counts["answered"],
            "abandoned": counts["abandoned"], "short_abandoned": counts["short_abandoned"],
            "left_for_callback": counts["left_callback"],
            "left_for_voicemail": counts["left_voicemail"],
            "timed_out": counts["left_timeout"],
            "answer_rate": self.answer_rate.as_json(),
            "service_level": {**self.service_level.as_json(),
                              "seconds": self.rules.service_level_seconds},
            "abandon_rate": {**self.abandon_rate.as_json(),
                             "short_abandon_seconds": self.rules.short_abandon_seconds},
            "asa_seconds": self.asa, "aht_seconds": self.aht,
            "callbacks": {"requested": counts["callbacks_requested"],
                          "done": counts["callbacks_done"],
                          "within_deadline": self.callbacks_in_time.as_json()},
            "operators": [o.as_json() for o in self.operators],
        }
        if self.heatmap is not None:
            data["heatmap"] = {"weekdays": list(WEEKDAYS), "hours": list(range(24)),
                               "offered": [[c[0] for c in row] for row in self.heatmap],
                               "answered": [[c[1] for c in row] for row in self.heatmap]}
        return data


def _n(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _total(condition: Any, value: Any) -> Any:
    return func.coalesce(func.sum(case((condition, value), else_=0)), 0)


def queue_figures(session: Session, scope: Scope, now: datetime, rules: QueueRules | None = None,
                  *, operators: bool = True, heatmap: bool = True) -> QueueFigures:
    """The period's figures (callers by the local day they reached the queue); ``now``
    decides which callback deadlines have passed."""
    rules = rules or QueueRules.of(scope)
    e = QueueEntry
    answered = e.answered_at.is_not(None)
    abandoned = e.status == EntryStatus.ABANDONED.value
    short = and_(abandoned, e.wait_seconds < rules.short_abandon_seconds)
    finished = and_(e.status == EntryStatus.COMPLETED.value, e.talk_seconds.is_not(None))
    left = e.status == EntryStatus.LEFT.value
    calls = and_(e.kind == EntryKind.CALL.value, scope.during(e.enqueued_at))
    callers = select(
        func.count().label("offered"),
        _n(e.status != EntryStatus.UNAVAILABLE.value).label("queued"),
        _n(e.status == EntryStatus.UNAVAILABLE.value).label("unavailable"),
        _n(answered).label("answered"),
        _n(and_(answered, e.wait_seconds <= rules.service_level_seconds)
           ).label("answered_within"),
        _n(and_(abandoned, e.wait_seconds >= rules.short_abandon_seconds)).label("abandoned"),
        _n(short).label("short_abandoned"),
        _n(and_(left, e.left_reason == "callback")).label("left_callback"),
        _n(and_(left, e.left_reason == "voicemail")).label("left_voicemail"),
        _n(and_(left, e.left_reason == "timeout")).label("left_timeout"),
        _total(answered, e.wait_seconds).label("wait_total"),
        _n(finished).label("handled"),
        _total(finished, e.talk_seconds + func.coalesce(e.wrapup_seconds, 0)
               ).label("handle_total"),
    ).where(calls).subquery()
    # One round trip for the callers' and the callbacks' figures (each part one row).
    requested, done = _callbacks(scope, now)
    row = session.execute(select(callers, requested, done).select_from(
        callers.join(requested, true()).join(done, true()))).one()
    counts = {key: int(value or 0) for key, value in row._mapping.items()}
    figures = QueueFigures(rules, counts)
    if operators:
        figures.operators = _operators(session, scope)
    if heatmap:
        figures.heatmap = _heatmap(session, scope)
    return figures


def _callbacks(scope: Scope, now: datetime) -> tuple[Subquery, Subquery]:
    """Callback requests of the period (in time, decided), and callbacks done in it."""
    e = QueueEntry
    done = e.status == EntryStatus.COMPLETED.value
    requested = select(
        func.count().label("callbacks_requested"),
        _n(and_(done, e.ended_at <= e.deadline)).label("callbacks_in_time"),
        _n(case((done, True), (e.status == EntryStatus.FAILED.value, True),
                (e.deadline < now, True), else_=False)).label("callbacks_decided"),
    ).where(e.kind == EntryKind.CALLBACK.value, scope.during(e.enqueued_at)).subquery()
    finished = select(func.count().label("callbacks_done")).where(
        e.kind == EntryKind.CALLBACK.value, done, scope.during(e.ended_at)).subquery()
    return requested, finished


def _operators(session: Session, scope: Scope) -> list[OperatorFigures]:
    e = QueueEntry
    finished = and_(e.status == EntryStatus.COMPLETED.value, e.talk_seconds.is_not(None))
    rows = session.execute(
        select(e.agent_id, func.count().label("answered"),
               _total(e.wait_seconds.is_not(None), e.wait_seconds).label("wait_total"),
               _n(finished).label("handled"),
               _total(finished, e.talk_seconds + func.coalesce(e.wrapup_seconds, 0)
                      ).label("handle_total"))
        .where(e.kind == EntryKind.CALL.value, e.answered_at.is_not(None),
               scope.during(e.enqueued_at))
        .group_by(e.agent_id)).all()
    unanswered = dict(session.execute(
        select(Offer.agent_id, func.count())
        .where(Offer.status.in_((OfferStatus.NO_ANSWER.value, OfferStatus.FAILED.value)),
               scope.during(Offer.created_at))
        .group_by(Offer.agent_id)).tuples().all())
    outcomes: dict[int, dict[str, int]] = {}
    for agent_id, outcome, count in session.execute(
            select(WrapUp.agent_id, WrapUp.outcome, func.count())
            .where(scope.during(WrapUp.recorded_at))
            .group_by(WrapUp.agent_id, WrapUp.outcome)).tuples():
        outcomes.setdefault(agent_id, {})[OUTCOME_LABELS.get(outcome, outcome)] = int(count)
    by_agent = {r.agent_id: r for r in rows}
    ids = set(by_agent) | set(unanswered) | set(outcomes)
    agents = {a.id: a for a in session.scalars(select(Agent).where(Agent.id.in_(ids)))}
    result = []
    for agent_id in sorted(ids, key=lambda i: agents[i].username if i in agents else ""):
        if agent_id not in agents:
            continue
        r = by_agent.get(agent_id)
        result.append(OperatorFigures(
            agents[agent_id].username, agents[agent_id].display_name,
            int(r.answered) if r else 0, int(r.wait_total) if r else 0,
            int(r.handled) if r else 0, int(r.handle_total) if r else 0,
            int(unanswered.get(agent_id, 0)), outcomes.get(agent_id, {})))
    return result


def _heatmap(session: Session, scope: Scope) -> list[list[tuple[int, int]]]:
    offered = [[0] * 24 for _ in range(7)]
    answered = [[0] * 24 for _ in range(7)]
    for at, was_answered in session.execute(
            select(QueueEntry.enqueued_at, QueueEntry.answered_at.is_not(None))
            .where(QueueEntry.kind == EntryKind.CALL.value,
                   scope.during(QueueEntry.enqueued_at))).tuples():
        local = at.astimezone(scope.tz)
        offered[local.weekday()][local.hour] += 1
        answered[local.weekday()][local.hour] += bool(was_answered)
    return [[(offered[d][h], answered[d][h]) for h in range(24)] for d in range(7)]


def heatmap_chart(figures: QueueFigures, title: str = "来电分布（星期 × 小时）") -> bytes:
    """PNG: callers who reached the service desk per weekday and hour, shaded by count and
    labelled with the 接通率 of the cell; only the hours that had calls (at least 8–18)."""
    grid = figures.heatmap or [[(0, 0)] * 24 for _ in range(7)]
    used = [h for h in range(24) if any(grid[d][h][0] for d in range(7))]
    first, last = min([8, *used]), max([18, *used])
    hours = list(range(first, last + 1))
    figure = _figure(8.0, 3.8)
    axes = figure.subplots()
    values = [[grid[d][h][0] for h in hours] for d in range(7)]
    image = axes.imshow(values, aspect="auto", cmap="Blues")
    for d in range(7):
        for i, h in enumerate(hours):
            offered, answered = grid[d][h]
            if offered:
                rate = f"{answered * 100 // offered}%"
                axes.text(i, d, f"{offered}\n{rate}", ha="center", va="center", fontsize=6,
                          color="white" if offered > max(max(values)) / 2 else "#1f2933")
    axes.set_xticks(range(len(hours)), labels=[f"{h}时" for h in hours], fontsize=7)
    axes.set_yticks(range(7), labels=list(WEEKDAYS), fontsize=8)
    axes.set_title(title)
    figure.colorbar(image, ax=axes, label="来电（人）")
    return _png(figure)
