"""What the console and the periodic jobs ask about follow-ups."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session, selectinload

from cases.case_models import Case
from cases.vocab import Status
from followup.models import FollowUp, FollowUpAttempt, FollowUpStatus


def is_survey_comment(recording_id: Any) -> ColumnElement[bool]:
    """True for a recording that is a comment spoken in a survey call (not a voicemail)."""
    return select(FollowUpAttempt.id).where(
        FollowUpAttempt.comment_recording_id == recording_id).exists()


def operator_tasks(session: Session, *, limit: int = 200) -> list[FollowUp]:
    """Follow-ups an operator must make by phone (人工回访), longest waiting first.

    Each row has ``case`` (number, contact, answer), ``operator_reason`` and ``attempts``
    (every automatic call with its outcome). Recording the rating through
    ``cases.actions.rating.do_record_rating(..., via="operator")`` removes the
    task.
    """
    return list(session.scalars(
        select(FollowUp)
        .join(FollowUp.case)
        .options(selectinload(FollowUp.case), selectinload(FollowUp.attempts))
        .where(FollowUp.status == FollowUpStatus.OPERATOR, Case.status == Status.ANSWERED,
               Case.rework_count == FollowUp.round)
        .order_by(FollowUp.operator_since, FollowUp.id)
        .limit(limit)))


def followups_of_case(session: Session, case_id: int) -> list[FollowUp]:
    """Every follow-up of a case (one per answered round) with its attempts, oldest first."""
    return list(session.scalars(
        select(FollowUp).options(selectinload(FollowUp.attempts))
        .where(FollowUp.case_id == case_id).order_by(FollowUp.round)))


def new_followups(session: Session, *, created_before: datetime, limit: int = 500) -> list[int]:
    """Follow-ups nobody scheduled yet (the after-commit nudge was lost)."""
    return list(session.scalars(
        select(FollowUp.id).where(FollowUp.status == FollowUpStatus.NEW,
                                  FollowUp.created_at <= created_before)
        .order_by(FollowUp.id).limit(limit)))


def due_followups(session: Session, *, now: datetime, limit: int = 500
                  ) -> list[tuple[int, int, datetime]]:
    """``(id, attempts made, due time)`` of scheduled follow-ups whose call is due."""
    rows = session.execute(
        select(FollowUp.id, FollowUp.attempt_count, FollowUp.next_attempt_at)
        .where(FollowUp.status == FollowUpStatus.SCHEDULED, FollowUp.next_attempt_at <= now)
        .order_by(FollowUp.next_attempt_at).limit(limit))
    return [(fid, count, at) for fid, count, at in rows]


