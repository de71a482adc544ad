"""How follow-up reacts to what happens to cases (``cases.events``).

The app factory lists these listeners (``app.CASE_LISTENERS``): an answered round gets a
follow-up, a recorded rating closes it (and alerts on a poor one), a transcribed survey
comment is attached to its rating instead of becoming a case.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from cases.case_models import Rating
from cases.events import CaseAnswered, RatingRecorded, RecordingTranscribed
from cases.notifications import Audience, Notification, NotificationKind, notify
from cases.vocab import SATISFIED_MIN_SCORE, AssignmentState
from followup.calls import SCORE_LABELS, audit_step, for_round
from followup.jobs import hand_off
from followup.models import FollowUp, FollowUpAttempt, FollowUpStatus
from followup.unreachable import rule_from

VIA_LABELS: dict[str, str] = {"callback": "自动回访", "operator": "人工回访"}


def init_app(app: Flask) -> None:
    """``APP_HOOKS``: a bad 回访未果 rule stops start-up."""
    rule_from(app.config.get("FOLLOWUP_UNREACHABLE_RULE"))


def case_answered(event: CaseAnswered) -> FollowUp:
    """A follow-up for this answered round, ``new``.

    Nothing is decided here (a worker schedules it with the configured policy), so the
    case's own audit trail for the answer stays as the lifecycle wrote it.
    """
    session, case, now = event.session, event.case, event.now
    followup = for_round(session, case.id, case.rework_count)
    if followup is None:
        followup = FollowUp(case=case, round=case.rework_count, phone=case.contact_phone,
                            status=FollowUpStatus.NEW, created_at=now, updated_at=now)
        session.add(followup)
        session.flush()
        hand_off(session, followup)  # scheduled by a job once the answer is committed
    return followup


def rating_recorded(event: RatingRecorded) -> None:
    """Before rework starts: close this round's follow-up (an operator's rating clears the
    operator task) and alert the supervisors and the answering departments on a poor one."""
    session, case, now = event.session, event.case, event.now
    score, comment, via = event.score, event.comment, event.via
    followup = for_round(session, case.id, case.rework_count)
    if followup is not None and followup.status != FollowUpStatus.RATED:
        followup.status = FollowUpStatus.RATED
        followup.score, followup.rated_via, followup.rated_at = score, via, now
        followup.next_attempt_at = None
    if score >= SATISFIED_MIN_SCORE:
        return
    rating = session.scalars(
        select(Rating).where(Rating.case_id == case.id).order_by(Rating.id.desc())).first()
    label = SCORE_LABELS[score]
    text = (comment or "").strip() or None
    title = f"差评：诉求{case.number}评价为“{label}”"
    body = (f"企业对诉求{case.number}的办理结果评价为“{label}”（{score}分，"
            f"{VIA_LABELS.get(via, via)}），诉求已挂账重办。")
    common: dict[str, Any] = {"kind": NotificationKind.POOR_RATING, "case": case, "title": title,
                              "body": body, "now": now, "score": score, "comment": text,
                              "rating_id": rating.id if rating is not None else None}
    notify(session, audience=Audience.SUPERVISOR, **common)
    replied = [a for a in case.assignments
               if a.round == case.rework_count and a.state == AssignmentState.REPLIED]
    for assignment in {a.department_id: a for a in replied}.values():
        notify(session, audience=Audience.DEPARTMENT, department_id=assignment.department_id,
               assignment_id=assignment.id, **common)


def comment_transcribed(event: RecordingTranscribed) -> bool:
    """A survey comment is not a new case: the transcript goes on the attempt, the rating and
    any poor-rating notifications, and into the case's audit trail. False if the recording
    is not a survey comment.
    """
    session, recording_id, text, now = event.session, event.recording_id, event.text, event.now
    attempt = session.scalars(
        select(FollowUpAttempt).where(FollowUpAttempt.comment_recording_id == recording_id)
    ).one_or_none()
    if attempt is None:
        return False
    comment = (text or "").strip() or "（未识别出语音内容，请收听录音）"
    if attempt.comment == comment:
        return True
    attempt.comment = comment
    case = attempt.followup.case
    if attempt.call_id is not None:
        rating = session.scalars(
            select(Rating).where(Rating.case_id == case.id, Rating.call_id == attempt.call_id)
        ).first()
        if rating is not None:
            rating.comment = comment
            for notification in session.scalars(
                    select(Notification).where(Notification.rating_id == rating.id)):
                notification.comment = comment
    audit_step(session, case, "followup_comment", now, comment, followup_id=attempt.followup_id,
               attempt=attempt.number, recording_id=recording_id)
    return True


