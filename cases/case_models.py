"""The case aggregate: case, assignments, replies, meetings, escalation, ratings, audit.

Also the voicemail reservations: case numbers read back before their case is filed.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cases.models import Department, Enterprise
from cases.vocab import Ledger, Status
from core.db import Base, UtcDateTime, utcnow

# Partial-index predicates, spelled once so models, migration and benchmark agree.
QUEUE_WHERE = text("status = 'received'")
OVERDUE_CASE_WHERE = text("ledger_state = 'open' AND status = 'handling'")
HANGING_CASE_WHERE = text("ledger_state = 'hanging'")
# Today's state of the reports (当前逾期, 当前挂账): hanging, or open and still with units
# or the leading group (cases.timeliness.RUNNING).
NOW_CASE_WHERE = text("ledger_state = 'hanging' OR (ledger_state = 'open' "
                      "AND status IN ('handling', 'escalated'))")
ACTIVE_ASSIGNMENT_WHERE = text("state IN ('pending', 'accepted')")
OVERDUE_ASSIGNMENT_WHERE = text("state IN ('pending', 'accepted') AND overdue = false")
UNFILED_RESERVATION_WHERE = text("filed_at IS NULL")
OWNING_RESERVATION_WHERE = text("linked = false")
# SQLite matches a partial index only on the same spelling, and stores booleans as 0/1.
OWNING_RESERVATION_WHERE_SQLITE = text("linked = 0")


class Case(Base):
    """A request from an enterprise (诉求 / 工单), from any channel, and its ledger row."""

    __tablename__ = "cases"
    __table_args__ = (
        # Operator queue: unrouted cases most urgent first (due date, then waiting longest),
        # optionally by category.
        Index("ix_cases_queue", "due_date", "received_at", "id", postgresql_where=QUEUE_WHERE,
              sqlite_where=QUEUE_WHERE),
        Index("ix_cases_queue_category", "category", "due_date", "received_at", "id",
              postgresql_where=QUEUE_WHERE, sqlite_where=QUEUE_WHERE),
        # The queue searched for a word: its cases newest first (casesearch walks them).
        Index("ix_cases_queue_newest", "received_at", "id", postgresql_where=QUEUE_WHERE,
              sqlite_where=QUEUE_WHERE),
        # Overdue sweep: only rows that can still become hanging.
        Index("ix_cases_overdue", "due_date", postgresql_where=OVERDUE_CASE_WHERE,
              sqlite_where=OVERDUE_CASE_WHERE),
        # Supervisors' list of every case, newest first (keyset pages on received_at, id).
        Index("ix_cases_received_at", "received_at", "id"),
        # Caller identification and duplicate linking.
        Index("ix_cases_contact_phone", "contact_phone", "received_at"),
        # Reports: cases hanging now (挂账), a small share of all cases.
        Index("ix_cases_hanging", "id", postgresql_where=HANGING_CASE_WHERE,
              sqlite_where=HANGING_CASE_WHERE),
        # Reports: today's state per area from the index alone (a few percent of all cases).
        Index("ix_cases_now", "category", "ledger_state", "status", "due_date",
              postgresql_where=NOW_CASE_WHERE, sqlite_where=NOW_CASE_WHERE),
        # Reports: what the assignments' and ratings' figures read of their case (its area,
        # mode, ledger state), from the index alone instead of the table.
        Index("ix_cases_report_join", "id",
              postgresql_include=["category", "mode", "ledger_state"]),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    channel: Mapped[str] = mapped_column(String(32))
    category: Mapped[str | None] = mapped_column(String(16))
    subcategory: Mapped[str | None] = mapped_column(String(16))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    contact_name: Mapped[str | None] = mapped_column(String(64))
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text, default="")
    # 待审核: a transcribed voicemail an operator has not looked at yet.
    needs_review: Mapped[bool] = mapped_column(default=False)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"), index=True)
    recording_id: Mapped[int | None] = mapped_column(ForeignKey("recordings.id"), index=True)

    mode: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=Status.RECEIVED)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Local (HOTLINE_TZ) dates, stored so KPIs and the sweep compare dates in SQL.
    received_on: Mapped[date] = mapped_column(Date, index=True)
    due_date: Mapped[date | None] = mapped_column(Date, index=True)
    due_provisional: Mapped[bool] = mapped_column(default=False)
    due_reason: Mapped[str] = mapped_column(String(200), default="")
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    answered_on: Mapped[date | None] = mapped_column(Date, index=True)
    # The first due date this case ever missed (never cleared by an extension or a later
    # answer): 按时办结率 counts the case late in that date's period (reports.indicators).
    first_missed_due: Mapped[date | None] = mapped_column(Date, index=True)
    # The first answer (a rework clears ``answered_*``, never these): 答复 and 回访率 count the
    # case in the period of its first answer (cases.timeliness).
    first_answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    first_answered_on: Mapped[date | None] = mapped_column(Date, index=True)

    ledger_state: Mapped[str] = mapped_column(String(16), default=Ledger.OPEN)
    hanging_since: Mapped[datetime | None] = mapped_column(UtcDateTime)
    settled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    rework_count: Mapped[int] = mapped_column(Integer, default=0)
    # 回访未果: closed without a rating (未评价), and why the enterprise could not be reached.
    unrated_reason: Mapped[str | None] = mapped_column(String(200))
    # 并单: the earlier case this repeat request is handled under (cases.duplicates).
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    merged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Set while the case waits in the centre's queue after a department returned it (退单).
    returned_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    enterprise: Mapped[Enterprise | None] = relationship()
    assignments: Mapped[list[Assignment]] = relationship(
        back_populates="case", order_by="Assignment.id"
    )
    replies: Mapped[list[Reply]] = relationship(back_populates="case", order_by="Reply.id")
    events: Mapped[list[CaseEvent]] = relationship(back_populates="case", order_by="CaseEvent.id")
    ratings: Mapped[list[Rating]] = relationship(order_by="Rating.id")
    meetings: Mapped[list[JointMeeting]] = relationship(order_by="JointMeeting.id")
    escalations: Mapped[list[Escalation]] = relationship(order_by="Escalation.id")
    suggestions: Mapped[list[RoutingSuggestion]] = relationship(
        order_by="RoutingSuggestion.rank"
    )
    recordings: Mapped[list[CaseRecording]] = relationship(order_by="CaseRecording.id")


class Assignment(Base):
    """One department's part in a case: lead (承办单位) or co-handling (共同承办单位)."""

    __tablename__ = "assignments"
    __table_args__ = (
        # Department view: its open assignments by due date.
        Index("ix_assignments_department_open", "department_id", "due_date", "id",
              postgresql_where=ACTIVE_ASSIGNMENT_WHERE, sqlite_where=ACTIVE_ASSIGNMENT_WHERE),
        # Overdue sweep: active assignments not yet marked.
        Index("ix_assignments_overdue", "due_date", postgresql_where=OVERDUE_ASSIGNMENT_WHERE,
              sqlite_where=OVERDUE_ASSIGNMENT_WHERE),
        # Reports: 退单 and extension decisions in a period.
        Index("ix_assignments_returned_at", "returned_at",
              postgresql_where=text("returned_at IS NOT NULL"),
              sqlite_where=text("returned_at IS NOT NULL")),
        Index("ix_assignments_extension_decided_at", "extension_decided_at",
              postgresql_where=text("extension_decided_at IS NOT NULL"),
              sqlite_where=text("extension_decided_at IS NOT NULL")),
        # A case's assignments; a unit's earlier assignment on the case (reports: 受理 and
        # 重办 are the unit's first assignment, or a rework round after an earlier one).
        Index("ix_assignments_case_department", "case_id", "department_id", "id",
              postgresql_include=["round"]),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    role: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(16))
    # Rework round (重办) this assignment belongs to; 0 for the first handling.
    round: Mapped[int] = mapped_column(Integer, default=0)
    assigned_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    due_date: Mapped[date | None] = mapped_column(Date, index=True)
    due_provisional: Mapped[bool] = mapped_column(default=False)
    due_reason: Mapped[str] = mapped_column(String(200), default="")
    overdue: Mapped[bool] = mapped_column(default=False)
    # The first due date this assignment missed; kept when ``overdue`` is cleared.
    first_missed_due: Mapped[date | None] = mapped_column(Date, index=True)
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    returned_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    return_reason: Mapped[str | None] = mapped_column(Text)
    replied_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)

    extension_status: Mapped[str | None] = mapped_column(String(16))
    extension_due: Mapped[date | None] = mapped_column(Date)
    extension_reason: Mapped[str | None] = mapped_column(Text)
    extension_agreed_with_enterprise: Mapped[bool] = mapped_column(default=False)
    extension_requested_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    extension_decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    enterprise_informed: Mapped[bool] = mapped_column(default=False)

    case: Mapped[Case] = relationship(back_populates="assignments")
    department: Mapped[Department] = relationship()


class Reply(Base):
    """An answer given to the enterprise: by a department, or by the centre (即时办)."""

    __tablename__ = "replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    # ``ReplyKind``: 答复 / 解释说明 / 进度反馈.
    kind: Mapped[str] = mapped_column(String(16), default="answer", server_default="answer")
    text: Mapped[str] = mapped_column(Text)
    # The policy a 解释说明 relies on (文件名称、条款).
    policy_basis: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(100))
    replied_at: Mapped[datetime] = mapped_column(UtcDateTime)

    case: Mapped[Case] = relationship(back_populates="replies")
    department: Mapped[Department | None] = relationship()


class JointMeeting(Base):
    """The task force's joint meeting (专班商办会) for a case with co-handling units."""

    __tablename__ = "joint_meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    scheduled_at: Mapped[datetime] = mapped_column(UtcDateTime)
    held_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Unit names, including invited bodies that are not departments (区纪委区监委, 区委作风办).
    attendees: Mapped[list[str]] = mapped_column(JSON, default=list)
    minutes: Mapped[str | None] = mapped_column(Text)
    convened_by: Mapped[str] = mapped_column(String(100))


class Escalation(Base):
    """研判上报: the task force's analysis and the leading group's decision."""

    __tablename__ = "escalations"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    analysis: Mapped[str] = mapped_column(Text)
    escalated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    escalated_by: Mapped[str] = mapped_column(String(100))
    # The leading group's decision is due by this day (working days after escalation).
    decision_due: Mapped[date | None] = mapped_column(Date)
    decision: Mapped[str | None] = mapped_column(Text)
    decision_deadline: Mapped[date | None] = mapped_column(Date)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Who in the leading group decided (e.g. 分管副区长), as recorded by the task force.
    decided_by: Mapped[str | None] = mapped_column(String(100))


class Rating(Base):
    """满意度评价 from a follow-up (回访): 5 非常满意 … 1 非常不满意."""

    __tablename__ = "ratings"
    __table_args__ = (
        # A case's ratings; reports: rated after the first answer (回访), a round's rating.
        Index("ix_ratings_case_round", "case_id", "round", "rated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    via: Mapped[str] = mapped_column(String(16))
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"))
    rated_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    rated_by: Mapped[str] = mapped_column(String(100))
    round: Mapped[int] = mapped_column(Integer, default=0)


class RoutingSuggestion(Base):
    """A suggested department with the keywords that matched, and whether it was chosen."""

    __tablename__ = "routing_suggestions"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    rank: Mapped[int] = mapped_column(Integer)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    department_name: Mapped[str] = mapped_column(String(64))
    score: Mapped[float] = mapped_column(Float)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    category: Mapped[str | None] = mapped_column(String(16))
    subcategory: Mapped[str | None] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))  # description | transcript | menu | town
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The operator's final routing next to the suggestion: None until the case is routed.
    chosen: Mapped[bool | None] = mapped_column()


class CaseRecording(Base):
    """A voicemail filed under a case, with its transcript; duplicates link here (并单)."""

    __tablename__ = "case_recordings"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id"), unique=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"), index=True)
    # True when a repeat request was linked to an existing open case (重复诉求并单).
    duplicate: Mapped[bool] = mapped_column(default=False)
    transcript: Mapped[str | None] = mapped_column(Text)
    confidence: Mapped[float | None] = mapped_column(Float)
    transcribed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    linked_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CaseEvent(Base):
    """Append-only audit trail: who did what to a case, when, and what changed."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_name: Mapped[str] = mapped_column(String(100))
    actor_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    action: Mapped[str] = mapped_column(String(32))
    before: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    after: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(Text, default="")

    case: Mapped[Case] = relationship(back_populates="events")


class CaseNumberCounter(Base):
    """Last sequence number handed out per local day (case numbers are YYMMDD + sequence)."""

    __tablename__ = "case_number_counters"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class VoicemailReservation(Base):
    """The case number read back after a voicemail, reserved in the webhook (outbox row).

    The ``<Record>`` action only reserves the number; a job files the case later with
    exactly this number (or links the recording to the case that owns it).
    """

    __tablename__ = "voicemail_reservations"
    __table_args__ = (
        # The filing job's scan and the "earlier unfiled message" lookup: only unfiled rows.
        Index("ix_voicemail_reservations_unfiled", "id",
              postgresql_where=UNFILED_RESERVATION_WHERE, sqlite_where=UNFILED_RESERVATION_WHERE),
        # The webhook's "earlier unfiled message from the same caller" lookup: it stays a few
        # index probes even when no worker has filed anything for a while.
        Index("ix_voicemail_reservations_unfiled_caller", "caller",
              postgresql_where=UNFILED_RESERVATION_WHERE, sqlite_where=UNFILED_RESERVATION_WHERE),
        # A new number belongs to exactly one reservation, which files its case.
        Index("ix_voicemail_reservations_owner", "case_number", unique=True,
              postgresql_where=OWNING_RESERVATION_WHERE,
              sqlite_where=OWNING_RESERVATION_WHERE_SQLITE),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recording_sid: Mapped[str] = mapped_column(String(64), unique=True)
    call_sid: Mapped[str] = mapped_column(String(64), index=True)
    # E.164, or None when the caller's number is withheld or not a phone number.
    caller: Mapped[str | None] = mapped_column(String(32))
    category: Mapped[str | None] = mapped_column(String(16))
    subcategory: Mapped[str | None] = mapped_column(String(16))
    case_number: Mapped[str] = mapped_column(String(16))
    # True when the number is an existing case's or an earlier reservation's (并单 / same call).
    linked: Mapped[bool] = mapped_column(default=False)
    reserved_at: Mapped[datetime] = mapped_column(UtcDateTime)
    filed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    # Failed filings stay unfiled, visible here, and are retried by the next run.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


class AuditLogError(RuntimeError):
    """Raised when code tries to change or delete an audit event."""


@event.listens_for(CaseEvent, "before_update")
def _no_update(_mapper: Any, _connection: Any, target: CaseEvent) -> None:
    raise AuditLogError(f"case event {target.id} is append-only")


@event.listens_for(CaseEvent, "before_delete")
def _no_delete(_mapper: Any, _connection: Any, target: CaseEvent) -> None:
    raise AuditLogError(f"case event {target.id} is append-only")
