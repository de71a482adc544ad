"""Operator calls leave a record: the recorded operator leg, and 登记诉求 from the call.

The hotline's ``<Dial>`` records the operator leg (after the caller heard that the call may be
recorded); its status callback arrives at ``/ivr/recording?kind=operator`` and is stored as a
recording of kind ``operator``. Such a recording is never a voicemail: the reconciliation
does not file it, and its transcript is kept on the case filed from the call (for the record,
not for routing) instead of becoming a case of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from cases.actors import Actor
from cases.case_models import Case, CaseRecording
from cases.errors import InvalidInput
from cases.events import RecordingTranscribed
from cases.intake import file_case
from cases.vocab import Channel
from ivr.models import Call, Recording
from workdays.calendar import WorkCalendar

OPERATOR = "operator"


def is_operator_recording(recording_id: Any) -> ColumnElement[bool]:
    """For ``VoicemailCallLog(not_voicemail=…)``: the recording is an operator call's."""
    return recording_id.in_(select(Recording.id).where(Recording.kind == OPERATOR))


def operator_transcribed(event: RecordingTranscribed) -> bool:
    """Claim an operator recording's transcript: kept on its case's link, nothing else."""
    recording = event.session.get(Recording, event.recording_id)
    if recording is None or recording.kind != OPERATOR:
        return False
    link = event.session.scalars(
        select(CaseRecording).where(CaseRecording.recording_id == recording.id)).one_or_none()
    if link is not None:
        link.transcript, link.transcribed_at = event.text.strip(), event.now
    return True


def operator_recording(session: Session, call_id: int) -> Recording | None:
    """The newest operator recording of the call."""
    return session.scalars(
        select(Recording).where(Recording.call_id == call_id, Recording.kind == OPERATOR)
        .order_by(Recording.id.desc()).limit(1)).first()


def file_case_from_call(
    session: Session, call_id: int, *, description: str, contact_name: str | None,
    contact_phone: str | None, category: str | None, subcategory: str | None,
    enterprise_id: int | None, actor: Actor, now: datetime,
    calendar: WorkCalendar | None = None, tz: tzinfo | None = None,
    transcript_of: Callable[[int], tuple[str, float] | None] | None = None,
) -> Case:
    """登记诉求 from an operator-answered call: a case (热线人工) linked to the call and to its
    operator recording, whose transcript is kept for the record — the one already made
    (``transcript_of(recording_id)``, text and confidence), or the one still to come."""
    call = session.get(Call, call_id)
    if call is None:
        raise InvalidInput({"call_id": "通话不存在"})
    recording = operator_recording(session, call.id)
    case = file_case(
        session, channel=Channel.HOTLINE_OPERATOR, description=description,
        received_at=call.started_at, category=category, subcategory=subcategory,
        enterprise_id=enterprise_id, contact_name=contact_name,
        contact_phone=contact_phone or call.from_number or None, call_id=call.id,
        recording_id=recording.id if recording else None, actor=actor, now=now,
        calendar=calendar, tz=tz)
    if recording is not None and session.scalar(
            select(CaseRecording.id).where(CaseRecording.recording_id == recording.id)) is None:
        link = CaseRecording(case_id=case.id, recording_id=recording.id, call_id=call.id,
                             linked_at=now)
        done = transcript_of(recording.id) if transcript_of is not None else None
        if done is not None:
            link.transcript, link.confidence, link.transcribed_at = done[0], done[1], now
        session.add(link)
        session.flush()
    return case
