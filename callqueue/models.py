"""The queue's tables: operators (agents), callers' places, offers to operators, wrap-ups.

Everything a waiting caller or a callback request needs lives here, in the database, so any
web node answers the next ``waitUrl`` request and a killed node loses nothing.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from callqueue.presence import State
from cases.case_models import Case
from core.db import Base, UtcDateTime, utcnow
from ivr.models import Call
from knowledge.models import Article

# The four service areas of docs/decisions.md §1 are the operators' skills.
AREAS: tuple[str, ...] = ("factor", "policy", "special", "other")


class QueueLock(Base):
    """One row; every change to the queue updates it first, so changes never interleave
    (a row lock on PostgreSQL, the write lock on SQLite)."""

    __tablename__ = "queue_lock"

    id: Mapped[int] = mapped_column(primary_key=True)
    changes: Mapped[int] = mapped_column(Integer, default=0)


class Agent(Base):
    """An operator as the queue sees them: device, skills and presence.

    ``user_id`` and ``username`` are the console account's (``console`` owns accounts and
    creates this row; the queue never reads the accounts table).
    """

    __tablename__ = "queue_agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, unique=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    # E.164 number, ``sip:`` URI, or ``client:<identity>`` (the browser softphone).
    device: Mapped[str | None] = mapped_column(String(200))
    # Comma-separated service areas (AREAS) this operator answers.
    skills: Mapped[str] = mapped_column(String(128), default=",".join(AREAS))
    state: Mapped[str] = mapped_column(String(16), default=State.OFFLINE.value)
    state_since: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # Entered 空闲 at: the longest-idle operator gets the next caller.
    idle_since: Mapped[datetime | None] = mapped_column(UtcDateTime)
    wrapup_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The offer ringing or being talked on; the entry the wrap-up is about.
    offer_id: Mapped[int | None] = mapped_column(Integer)
    last_entry_id: Mapped[int | None] = mapped_column(Integer)
    notice: Mapped[str | None] = mapped_column(String(200))
    notice_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The console's last sign of life (its live stream); see Trigger.CONSOLE_LOST.
    seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    @property
    def skill_set(self) -> frozenset[str]:
        return frozenset(s for s in self.skills.split(",") if s)


class EntryKind(StrEnum):
    CALL = "call"  # a caller on the line
    CALLBACK = "callback"  # 预约回电: the caller's place, kept, for an operator to call back


class EntryStatus(StrEnum):
    WAITING = "waiting"  # in the queue (a callback: due to be called back)
    OFFERED = "offered"  # an operator's device is ringing for it
    CONNECTED = "connected"  # talking to an operator (a callback: the operator is dialling)
    COMPLETED = "completed"  # the conversation took place and ended
    ABANDONED = "abandoned"  # the caller hung up while waiting
    LEFT = "left"  # left the queue: pressed 1 or 2, or waited the longest allowed (left_reason)
    UNAVAILABLE = "unavailable"  # nobody on duty for the area: never queued
    FAILED = "failed"  # a callback that could not be made (closed by an operator)


OPEN_STATUSES = frozenset({EntryStatus.WAITING, EntryStatus.OFFERED, EntryStatus.CONNECTED})


class QueueEntry(Base):
    """One caller's place: a call waiting on the line, or a callback request."""

    __tablename__ = "queue_entries"
    __table_args__ = (
        UniqueConstraint("kind", "call_sid", name="uq_queue_entries_kind_call_sid"),
        Index("ix_queue_entries_open", "status", "place_at"),
        Index("ix_queue_entries_enqueued_at", "enqueued_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default=EntryKind.CALL.value)
    call_sid: Mapped[str] = mapped_column(String(64))
    call_id: Mapped[int | None] = mapped_column(ForeignKey(Call.id), index=True)
    from_number: Mapped[str] = mapped_column(String(64), default="")
    area: Mapped[str] = mapped_column(String(32))
    subarea: Mapped[str | None] = mapped_column(String(32))
    # The place in the queue (a callback keeps the place of the call it came from).
    place_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # When this entry was made: the caller reached the queue, or asked for the callback.
    enqueued_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16), default=EntryStatus.WAITING.value)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey(Agent.id), index=True)
    # Seconds from reaching the queue to being answered, hanging up or leaving it (the
    # figures sum it; set once, when the wait ends).
    wait_seconds: Mapped[int | None] = mapped_column(Integer)
    talk_seconds: Mapped[int | None] = mapped_column(Integer)
    wrapup_seconds: Mapped[int | None] = mapped_column(Integer)
    # callback | voicemail | timeout (LEFT), hangup (ABANDONED)
    left_reason: Mapped[str | None] = mapped_column(String(16))
    origin_id: Mapped[int | None] = mapped_column(ForeignKey("queue_entries.id"))
    # Callbacks: when it must be done by, how often it was tried, when to try again.
    deadline: Mapped[datetime | None] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    agent: Mapped[Agent | None] = relationship()


class OfferStatus(StrEnum):
    PLACING = "placing"  # decided; the REST request to ring the device is on its way
    RINGING = "ringing"
    ANSWERED = "answered"  # the operator picked up; not yet talking to the caller
    BRIDGED = "bridged"  # talking (a callback: the caller answered)
    ENDED = "ended"
    NO_ANSWER = "no_answer"
    FAILED = "failed"  # the device could not be reached, or the REST request failed
    DROPPED = "dropped"  # the call ended before the two talked
    CANCELLED = "cancelled"  # the caller left while the device was ringing


LIVE_OFFERS = frozenset({OfferStatus.PLACING, OfferStatus.RINGING, OfferStatus.ANSWERED,
                         OfferStatus.BRIDGED})


class Offer(Base):
    """One attempt to give an entry to an operator: their device rung for it."""

    __tablename__ = "queue_offers"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey(QueueEntry.id), index=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey(Agent.id), index=True)
    status: Mapped[str] = mapped_column(String(16), default=OfferStatus.PLACING.value)
    operator_call_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    error: Mapped[str | None] = mapped_column(String(200))

    entry: Mapped[QueueEntry] = relationship()
    agent: Mapped[Agent] = relationship()


class Outcome(StrEnum):
    REGISTERED = "registered"
    INSTANT = "instant"
    ANSWERED = "answered"
    TRANSFERRED = "transferred"
    INVALID = "invalid"


OUTCOME_LABELS: dict[str, str] = {
    Outcome.REGISTERED: "已登记诉求",
    Outcome.INSTANT: "即时答复",
    Outcome.ANSWERED: "咨询已解答",
    Outcome.TRANSFERRED: "转接",
    Outcome.INVALID: "无效来电",
}


class WrapUp(Base):
    """话后整理: what came of an answered call, recorded by the operator (in the call log)."""

    __tablename__ = "call_outcomes"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey(QueueEntry.id), unique=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey(Agent.id), index=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey(Call.id), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    case_id: Mapped[int | None] = mapped_column(ForeignKey(Case.id))
    article_id: Mapped[int | None] = mapped_column(ForeignKey(Article.id))
    note: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)

    entry: Mapped[QueueEntry] = relationship()
    agent: Mapped[Agent] = relationship()
    article: Mapped[Article | None] = relationship()
