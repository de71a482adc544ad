"""The call log as the case domain sees it (``cases.call_log.CallLog``): plain values only."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, Select, or_, select
from sqlalchemy.orm import Session

from cases.call_log import VoicemailSource
from cases.case_models import CaseRecording, VoicemailReservation
from ivr import calllog
from ivr.models import INBOUND_FLOW, Call, Recording


def _source(recording: Recording) -> VoicemailSource:
    call = recording.call
    return VoicemailSource(
        recording_id=recording.id,
        recording_sid=recording.recording_sid,
        call_id=recording.call_id,
        caller=call.from_number if call else None,
        category=call.category if call else None,
        subcategory=call.subcategory if call else None,
    )


# Builds a clause that is true for recordings that are not voicemails (e.g. a comment spoken
# in a follow-up survey call), given the recording id column; supplied by other packages.
NotVoicemail = Callable[[Any], ColumnElement[bool]]


class VoicemailCallLog:
    """Given to the case domain by the app factory (``cases.services.CaseServices``)."""

    def __init__(self, not_voicemail: Sequence[NotVoicemail] = ()) -> None:
        self.not_voicemail = tuple(not_voicemail)

    def recording(self, session: Session, recording_id: int) -> VoicemailSource | None:
        recording = session.get(Recording, recording_id)
        return _source(recording) if recording is not None else None

    def recording_id(self, session: Session, recording_sid: str) -> int | None:
        return session.scalar(select(Recording.id).where(Recording.recording_sid == recording_sid))

    def caller(self, session: Session, call_id: int) -> str | None:
        return session.scalar(select(Call.from_number).where(Call.id == call_id))

    def call_ids(self, call_sid: BindParameter[str]) -> Select[tuple[int]]:
        return select(Call.id).where(Call.call_sid == call_sid)

    def log_voicemail(self, session: Session, *, call_sid: str, recording_sid: str,
                      caller: str | None, at: datetime) -> VoicemailSource:
        call = calllog.get_or_create_call(session, call_sid, now=at, from_number=caller or "")
        # No status: the recording status callback marks it completed (and transcribes it).
        recording = calllog.upsert_recording(session, recording_sid, now=at, call=call).recording
        source = _source(recording)
        return source if source.call_id is not None else replace(source, call_id=call.id)

    def unfiled_voicemails(self, session: Session, *, completed_after: datetime,
                           completed_before: datetime, limit: int) -> list[VoicemailSource]:
        vr = VoicemailReservation
        recordings = session.scalars(
            select(Recording).outerjoin(Call, Call.id == Recording.call_id)
            .where(
                Recording.status == "completed",
                Recording.created_at >= completed_after,
                Recording.created_at <= completed_before,
                or_(Call.id.is_(None),
                    (Call.flow == INBOUND_FLOW) & Call.direction.startswith("inbound")),
                ~select(CaseRecording.id)
                .where(CaseRecording.recording_id == Recording.id).exists(),
                ~select(vr.id).where(vr.recording_sid == Recording.recording_sid).exists(),
                *(~clause(Recording.id) for clause in self.not_voicemail),
            )
            .order_by(Recording.id).limit(limit)
        ).all()
        return [_source(recording) for recording in recordings]
