"""The live transcript kept with its call once the stream ends (complete or cut)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.models import Call
from live.models import LiveTranscript
from live.session import StreamResult


def save(session: Session, result: StreamResult) -> list[LiveTranscript]:
    """One row per track (replacing a row of the same stream and track, if any)."""
    call_id = session.scalar(select(Call.id).where(Call.call_sid == result.call_sid))
    rows = []
    for track, heard in result.tracks.items():
        row = session.scalar(select(LiveTranscript).where(
            LiveTranscript.stream_sid == result.stream_sid, LiveTranscript.track == track))
        if row is None:
            row = LiveTranscript(stream_sid=result.stream_sid, track=track)
            session.add(row)
        row.call_sid, row.call_id = result.call_sid, call_id
        row.text = heard.text
        row.segments = [{"text": u.text, "start": u.start, "end": u.end} for u in heard.finals]
        row.complete = result.complete
        row.started_at, row.ended_at = result.started_at, result.ended_at
        rows.append(row)
    session.flush()
    return rows


def transcripts_of_call(session: Session, call_sid: str) -> list[LiveTranscript]:
    return list(session.scalars(select(LiveTranscript).where(
        LiveTranscript.call_sid == call_sid).order_by(LiveTranscript.id)))
