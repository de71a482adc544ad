"""What went wrong with a voicemail's recording, in the words operators read.

A recording whose download failed, whose transcription failed, or that has sat in the queue
longer than ``TRANSCRIPTION_STUCK_MINUTES`` needs a person: the review page says so in
Chinese (technical detail folded away, with a retry button) and the queue marks its case.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from cases.case_models import CaseRecording
from ivr.models import Recording
from transcription.model_setup import availability
from transcription.pipeline import model_path
from transcription.statuses import TranscriptionStatus as S

WAITING = (S.PENDING, S.QUEUED, S.TRANSCRIBING)


@dataclass(frozen=True)
class RecordingProblem:
    code: str  # download_failed | transcription_failed | stuck
    title: str
    advice: str


DOWNLOAD_FAILED = RecordingProblem(
    "download_failed", "录音下载失败",
    "未能从话务平台取回录音文件。可点击“重新下载并转写”；多次失败请联系系统管理员。")
TRANSCRIPTION_FAILED = RecordingProblem(
    "transcription_failed", "转写失败",
    "录音已保存，但未能自动转写。请先收听录音，可点击“重新转写”。")
STUCK = RecordingProblem(
    "stuck", "转写长时间未完成",
    "录音排队或转写已超过预期时间，后台任务可能中断。可点击“重新下载并转写”。")


def problem_of(recording: Recording, now: datetime, stuck_after: timedelta
               ) -> RecordingProblem | None:
    """The problem a person should look at, or None while all is well (or done)."""
    if recording.transcription_status == S.FAILED:
        return TRANSCRIPTION_FAILED if recording.local_path else DOWNLOAD_FAILED
    if recording.transcription_status in WAITING and recording.updated_at < now - stuck_after:
        return STUCK
    return None


def problems_by_case(session: Session, case_ids: Iterable[int], now: datetime,
                     stuck_after: timedelta) -> dict[int, RecordingProblem]:
    """The first recording problem of each of ``case_ids`` that has one (one query)."""
    ids = list(case_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(CaseRecording.case_id, Recording)
        .join(Recording, Recording.id == CaseRecording.recording_id)
        .where(CaseRecording.case_id.in_(ids), or_(
            Recording.transcription_status == S.FAILED,
            and_(Recording.transcription_status.in_(WAITING),
                 Recording.updated_at < now - stuck_after)))
        .order_by(CaseRecording.case_id, Recording.id)).all()
    found: dict[int, RecordingProblem] = {}
    for case_id, recording in rows:
        problem = problem_of(recording, now, stuck_after)
        if problem is not None:
            found.setdefault(case_id, problem)
    return found


def model_wait_notice(session: Session, config: Mapping[str, Any]) -> str | None:
    """While voicemails wait for a speech model: how many, and the model's state."""
    waiting = session.scalar(select(func.count()).select_from(Recording).where(
        Recording.transcription_status == S.AWAITING_MODEL)) or 0
    if not waiting:
        return None
    state = availability(config, model_path(config))
    if state.state == "installed":
        return (f"语音模型已安装，{waiting} 条留言正在排队转写。")
    return (f"{waiting} 条留言等待语音模型，模型就绪后自动转写（录音已保存）。"
            f"语音模型：{state.text}")
