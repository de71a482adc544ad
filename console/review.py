"""Reviewing voicemails: recordings with their transcripts, and transcript corrections.

A correction is kept by :mod:`transcription.corrections` (the machine transcript stays);
here it also reaches the cases the recording is filed under: the audit trail notes it, and
a case whose description still is the old transcript gets the corrected text, which also
recomputes the routing suggestions and clears 待审核.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.actions.details import do_update_details
from cases.actors import Actor
from cases.audit import record_event
from cases.case_models import Case
from cases.errors import InvalidInput, NotFound
from cases.states import TRANSITIONS
from console.queries import cases_of_recording
from ivr.models import Call, Recording
from transcription.corrections import (
    CorrectionError,
    TranscriptCorrection,
    TranscriptVersion,
    correct_transcript,
    current_version,
)
from transcription.models import Transcript


@dataclass
class ReviewedRecording:
    """A recording as the review page shows it."""

    recording: Recording
    call: Call | None
    version: TranscriptVersion | None


def transcript_of(session: Session, recording_id: int) -> Transcript | None:
    return session.scalars(
        select(Transcript).where(Transcript.recording_id == recording_id)).one_or_none()


def reviewed(session: Session, recordings: list[Recording]) -> list[ReviewedRecording]:
    result = []
    for recording in recordings:
        transcript = transcript_of(session, recording.id)
        version = current_version(session, transcript) if transcript else None
        result.append(ReviewedRecording(recording, recording.call, version))
    return result


def recordings_of_case(session: Session, case: Case) -> list[Recording]:
    ids = [link.recording_id for link in case.recordings]
    if case.recording_id and case.recording_id not in ids:
        ids.insert(0, case.recording_id)
    if not ids:
        return []
    found = {r.id: r for r in session.scalars(select(Recording).where(Recording.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


def correct(session: Session, transcript_id: int, *, new_text: str | None,
            word_edits: Mapping[int, str] | None, actor: Actor, now: datetime
            ) -> TranscriptCorrection:
    """Correct a transcript and carry the correction to the cases of its recording."""
    transcript = session.get(Transcript, transcript_id)
    if transcript is None:
        raise NotFound("转写记录不存在")
    try:
        correction = correct_transcript(session, transcript_id, new_text=new_text,
                                        word_edits=word_edits, actor=actor, now=now)
    except CorrectionError as exc:
        raise InvalidInput({"transcript": exc.message}) from exc
    updatable = TRANSITIONS["update_details"].sources
    for case_id in cases_of_recording(session, transcript.recording_id):
        case = session.get(Case, case_id)
        assert case is not None
        record_event(session, case, actor=actor, action="transcript_corrected", now=now,
                     before={"transcript": correction.previous_text},
                     after={"transcript": correction.text, "recording_id":
                            transcript.recording_id, "edits": correction.edits})
        if case.recording_id == transcript.recording_id and case.status in updatable \
                and case.description.strip() == correction.previous_text.strip():
            do_update_details(session, case.id, actor=actor, now=now,
                              description=correction.text)
    return correction
