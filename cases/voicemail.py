"""Voicemails as cases: filed at the ``<Record>`` action, transcripts attached when ready.

Twilio may repeat the action request and the recording may reach us only through the status
callback or reconciliation (the fallback URL records without an action), so both entry points
are idempotent per recording and either one can file the case.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from call_flows.workdays import WorkCalendar
from cases import followups, receipts
from cases.actors import Actor
from cases.audit import record_event
from cases.case_models import Case, CaseRecording
from cases.enterprises import enterprises_for_phone, phone_or_none
from cases.intake import VOICEMAIL_PLACEHOLDER, file_case
from cases.suggestions import store_suggestions
from cases.vocab import OPEN_STATUSES, Channel
from ivr.models import Recording

log = logging.getLogger(__name__)

VOICEMAIL_ACTOR = Actor("system", "8718热线留言")
# A repeat request within this window is linked to the open case (重复诉求并单).
DUPLICATE_WINDOW = timedelta(days=7)
EMPTY_TRANSCRIPT = "电话留言（未识别出语音内容，请收听录音）"


@dataclass
class VoicemailFiling:
    case: Case
    # True when the message was linked to an existing open case instead of a new one.
    linked: bool
    # False when this recording had been filed before (a retried request).
    created: bool


def _existing(session: Session, recording_id: int) -> CaseRecording | None:
    return session.scalars(
        select(CaseRecording).where(CaseRecording.recording_id == recording_id)
    ).one_or_none()


def _case_of_call(session: Session, call_id: int | None) -> Case | None:
    if call_id is None:
        return None
    return session.scalars(
        select(Case).join(CaseRecording).where(CaseRecording.call_id == call_id)
        .order_by(CaseRecording.id)
    ).first()


def find_duplicate(
    session: Session,
    *,
    phone: str | None,
    enterprise_id: int | None,
    category: str | None,
    now: datetime,
) -> Case | None:
    """The newest open case from the same caller in the same category within 7 days."""
    if phone is None and enterprise_id is None:
        return None
    same_caller = Case.contact_phone == phone if phone else Case.enterprise_id == enterprise_id
    if phone and enterprise_id is not None:
        same_caller = same_caller | (Case.enterprise_id == enterprise_id)
    same_category = Case.category.is_(None) if category is None else Case.category == category
    return session.scalars(
        select(Case)
        .where(same_caller, same_category, Case.status.in_(OPEN_STATUSES),
               Case.received_at >= now - DUPLICATE_WINDOW)
        .order_by(Case.received_at.desc(), Case.id.desc())
    ).first()


def file_voicemail(
    session: Session,
    *,
    recording_id: int,
    call_id: int | None,
    caller: str | None,
    category: str | None,
    subcategory: str | None,
    now: datetime,
    calendar: WorkCalendar | None = None,
    tz: tzinfo | None = None,
) -> VoicemailFiling:
    """The case for a voicemail: the one already filed for it, a linked duplicate, or a new one."""
    found = _existing(session, recording_id)
    if found is not None:
        return VoicemailFiling(found_case(session, found), found.duplicate, False)
    try:
        with session.begin_nested():
            filing = _file(session, recording_id, call_id, caller, category, subcategory, now,
                           calendar, tz)
    except IntegrityError:
        # A concurrent retry of the same request won the race; use its case.
        found = _existing(session, recording_id)
        if found is None:
            raise
        return VoicemailFiling(found_case(session, found), found.duplicate, False)
    return filing


def found_case(session: Session, link: CaseRecording) -> Case:
    case = session.get(Case, link.case_id)
    assert case is not None
    return case


def _file(session: Session, recording_id: int, call_id: int | None, caller: str | None,
          category: str | None, subcategory: str | None, now: datetime,
          calendar: WorkCalendar | None, tz: tzinfo | None) -> VoicemailFiling:
    phone = phone_or_none(caller)
    enterprises = enterprises_for_phone(session, phone)
    # A number shared by several enterprises identifies none of them.
    enterprise_id = enterprises[0].id if len(enterprises) == 1 else None
    same_call = _case_of_call(session, call_id)
    duplicate = same_call or find_duplicate(
        session, phone=phone, enterprise_id=enterprise_id, category=category, now=now
    )
    if duplicate is not None:
        session.add(CaseRecording(case_id=duplicate.id, recording_id=recording_id,
                                  call_id=call_id, duplicate=same_call is None, linked_at=now))
        session.flush()
        record_event(session, duplicate, actor=VOICEMAIL_ACTOR, action="voicemail_linked",
                     now=now, after={"recording_id": recording_id, "call_id": call_id},
                     note="重复诉求并单" if same_call is None else "同一通话的留言")
        duplicate.needs_review = True
        return VoicemailFiling(duplicate, True, True)
    case = file_case(
        session,
        channel=Channel.HOTLINE_VOICEMAIL,
        description="",
        category=category,
        subcategory=subcategory,
        enterprise_id=enterprise_id,
        contact_name=enterprises[0].contact_name if enterprise_id is not None else None,
        contact_phone=phone,
        call_id=call_id,
        recording_id=recording_id,
        actor=VOICEMAIL_ACTOR,
        now=now,
        calendar=calendar,
        tz=tz,
    )
    session.add(CaseRecording(case_id=case.id, recording_id=recording_id, call_id=call_id,
                              linked_at=now))
    session.flush()
    receipts.voicemail_filed(session, case, now)
    return VoicemailFiling(case, False, True)


def transcript_ready(
    session: Session,
    recording_id: int,
    text: str,
    confidence: float,
    *,
    now: datetime,
    calendar: WorkCalendar | None = None,
    tz: tzinfo | None = None,
) -> Case | None:
    """Attach a transcript to the case of ``recording_id`` (filing one if none exists yet).

    The transcript becomes the case description (unless an operator already wrote one),
    routing suggestions are recomputed from it with their matched keywords, and the case is
    marked 待审核 for an operator. Calling it again with the same transcript changes nothing.
    Returns ``None`` if the recording does not exist.
    """
    recording = session.get(Recording, recording_id)
    if recording is None:
        log.warning("transcript for unknown recording id %s", recording_id)
        return None
    if followups.comment_transcribed(session, recording_id, text, now=now):
        return None  # a comment in a survey call, not a voicemail
    link = _existing(session, recording_id)
    if link is None:
        call = recording.call
        file_voicemail(
            session, recording_id=recording_id, call_id=call.id if call else None,
            caller=call.from_number if call else None,
            category=call.category if call else None,
            subcategory=call.subcategory if call else None,
            now=now, calendar=calendar, tz=tz,
        )
        link = _existing(session, recording_id)
        assert link is not None
    case = found_case(session, link)
    text = (text or "").strip()
    if link.transcribed_at is not None and link.transcript == text \
            and link.confidence == confidence:
        return case
    previous = link.transcript
    link.transcript, link.confidence, link.transcribed_at = text, confidence, now
    # Only the case's own recording writes the description; linked ones add to suggestions.
    primary = case.recording_id == recording_id
    if primary and case.description in (VOICEMAIL_PLACEHOLDER, EMPTY_TRANSCRIPT, previous):
        case.description = text or EMPTY_TRANSCRIPT
    case.needs_review = True
    record_event(session, case, actor=VOICEMAIL_ACTOR, action="transcript_attached", now=now,
                 before={"transcript": previous} if previous is not None else {},
                 after={"recording_id": recording_id, "transcript": text,
                        "confidence": round(confidence, 3)})
    session.flush()
    store_suggestions(session, case, _suggestion_text(session, case), source="transcript",
                      now=now)
    return case


def _suggestion_text(session: Session, case: Case) -> str:
    """The description plus the transcripts of other messages linked to the case."""
    extra = session.scalars(
        select(CaseRecording.transcript).where(
            CaseRecording.case_id == case.id,
            CaseRecording.recording_id != case.recording_id,
            CaseRecording.transcript.is_not(None))
        .order_by(CaseRecording.id)
    )
    return "\n".join([case.description, *extra])
