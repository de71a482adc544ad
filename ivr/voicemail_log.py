"""The call log as the case domain sees it (``cases.call_log.CallLog``): plain values only."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.call_log import VoicemailSource
from ivr import calllog
from ivr.models import Recording


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


class VoicemailCallLog:
    """Given to ``cases.call_log.use_call_log`` by the app factory."""

    def recording(self, session: Session, recording_id: int) -> VoicemailSource | None:
        recording = session.get(Recording, recording_id)
        return _source(recording) if recording is not None else None

    def recording_id(self, session: Session, recording_sid: str) -> int | None:
        return session.scalar(select(Recording.id).where(Recording.recording_sid == recording_sid))

    def log_voicemail(self, session: Session, *, call_sid: str, recording_sid: str,
                      caller: str | None, at: datetime) -> VoicemailSource:
        call = calllog.get_or_create_call(session, call_sid, now=at, from_number=caller or "")
        # No status: the recording status callback marks it completed (and transcribes it).
        recording = calllog.upsert_recording(session, recording_sid, now=at, call=call).recording
        source = _source(recording)
        return source if source.call_id is not None else replace(source, call_id=call.id)
