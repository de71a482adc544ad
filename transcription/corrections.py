"""Operators' corrections of machine transcripts: the original stays, every edit is kept.

The :class:`~transcription.models.Transcript` row is what the engine heard and is never
changed. Each correction stores the full text (and, for word edits, the words with their
timings) as it reads after the edit, what it read before, the edits themselves, who made them
and when — so the current version is the latest correction, and the trail is the table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base, UtcDateTime, utcnow
from transcription.chinese import join_words
from transcription.models import Transcript

MAX_TEXT = 5000
MAX_WORD = 32


class Editor(Protocol):
    """Who corrects: anything with a kind and a name (the case domain's ``Actor`` fits)."""

    @property
    def kind(self) -> str: ...

    @property
    def name(self) -> str: ...


class CorrectionError(ValueError):
    """A correction that cannot be applied; the message is Chinese, for the operator."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TranscriptCorrection(Base):
    """One edit of a transcript: the text after it, the text before it, and who made it."""

    __tablename__ = "transcript_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    transcript_id: Mapped[int] = mapped_column(
        ForeignKey("transcripts.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    # Words with timings after a word edit; empty after a free-text rewrite (no timings).
    words: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    previous_text: Mapped[str] = mapped_column(Text)
    # Word edits: [{"index", "before", "after"}]; empty for a free-text rewrite.
    edits: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    round: Mapped[int] = mapped_column(Integer, default=1)
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_name: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


@dataclass(frozen=True)
class TranscriptVersion:
    """What a transcript reads now: the machine's words or the latest correction."""

    transcript: Transcript
    text: str
    words: list[dict[str, Any]]
    corrections: list[TranscriptCorrection]

    @property
    def corrected(self) -> bool:
        return bool(self.corrections)

    @property
    def original_text(self) -> str:
        return self.transcript.text


def corrections_of(session: Session, transcript_id: int) -> list[TranscriptCorrection]:
    return list(session.scalars(
        select(TranscriptCorrection).where(TranscriptCorrection.transcript_id == transcript_id)
        .order_by(TranscriptCorrection.id)
    ))


def current_version(session: Session, transcript: Transcript) -> TranscriptVersion:
    corrections = corrections_of(session, transcript.id)
    if not corrections:
        return TranscriptVersion(transcript, transcript.text, list(transcript.words or []), [])
    last = corrections[-1]
    return TranscriptVersion(transcript, last.text, list(last.words or []), corrections)


def _apply_word_edits(words: list[dict[str, Any]], edits: Mapping[int, str]
                      ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    if not words:
        raise CorrectionError("该转写没有逐词时间信息，请整段更正")
    result = [dict(w) for w in words]
    applied: list[dict[str, Any]] = []
    for index in sorted(edits):
        if not 0 <= index < len(result):
            raise CorrectionError(f"第{index + 1}个词不存在")
        new = edits[index].strip()
        if len(new) > MAX_WORD:
            raise CorrectionError(f"每个词不能超过{MAX_WORD}字")
        old = str(result[index]["word"])
        if new == old:
            continue
        applied.append({"index": index, "before": old, "after": new})
        # A person checked this word: it is no longer a low-confidence guess.
        result[index].update(word=new, conf=1.0, corrected=True)
    # An emptied word is deleted; its neighbours keep their timings.
    return [w for w in result if w["word"]], applied


def correct_transcript(
    session: Session,
    transcript_id: int,
    *,
    new_text: str | None = None,
    word_edits: Mapping[int, str] | None = None,
    actor: Editor,
    now: datetime,
) -> TranscriptCorrection:
    """Record a correction: either ``new_text`` (the whole text) or ``word_edits``
    (word index → new word; ``""`` deletes the word, timings are kept).

    Indexes refer to the words of the current version. Raises :class:`CorrectionError`
    if the transcript does not exist, nothing changes, or the input is unusable.
    """
    transcript = session.get(Transcript, transcript_id)
    if transcript is None:
        raise CorrectionError("转写记录不存在")
    if (new_text is None) == (word_edits is None):
        raise CorrectionError("请整段更正或逐词更正（二选一）")
    current = current_version(session, transcript)
    if word_edits is not None:
        words, edits = _apply_word_edits(current.words, word_edits)
        if not edits:
            raise CorrectionError("没有修改任何词")
        text = join_words(str(w["word"]) for w in words)
    else:
        text = (new_text or "").strip()
        words, edits = [], []
        if text == current.text:
            raise CorrectionError("文本没有变化")
    if not text:
        raise CorrectionError("更正后的文本不能为空")
    if len(text) > MAX_TEXT:
        raise CorrectionError(f"转写文本不能超过{MAX_TEXT}字")
    correction = TranscriptCorrection(
        transcript_id=transcript.id, text=text, words=words, previous_text=current.text,
        edits=edits, round=len(current.corrections) + 1, actor_kind=actor.kind[:16],
        actor_name=actor.name[:100], at=now,
    )
    session.add(correction)
    session.flush()
    return correction
