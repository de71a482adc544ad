"""Transcripts from Vosk results, with Chinese text conventions applied.

Vosk returns Chinese as space-separated words ("我们 有 3 个 问题"). Written Chinese
uses no spaces between words, nor between Chinese and digits or Latin letters, so the
words are joined back ("我们有3个问题") while per-word timings and confidences are kept
for the review UI (docs/decisions.md §4).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# Scripts written without spaces between words: Han ideographs, kana, CJK punctuation
# and full-width forms. Hangul is deliberately absent: Korean separates words by spaces.
_UNSPACED_RANGES: tuple[tuple[int, int], ...] = (
    (0x2E80, 0x2FDF),  # CJK radicals, Kangxi radicals
    (0x3000, 0x30FF),  # CJK symbols and punctuation, hiragana, katakana
    (0x3100, 0x312F),  # bopomofo
    (0x31C0, 0x31FF),  # CJK strokes, katakana extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFE30, 0xFE4F),  # CJK compatibility forms
    (0xFF00, 0xFFEF),  # half-width and full-width forms
    (0x20000, 0x3FFFF),  # CJK extensions B and later
)


class TranscriptFormatError(ValueError):
    """A Vosk result or a stored transcript does not have the expected shape."""


@dataclass(frozen=True)
class Word:
    """One recognised word with its time span (seconds) and confidence (0–1)."""

    word: str
    start: float
    end: float
    conf: float


@dataclass(frozen=True)
class TranscriptResult:
    """A decoded recording: display text plus the word-level detail behind it."""

    text: str
    words: list[Word] = field(default_factory=list)
    confidence: float = 0.0
    duration: float = 0.0
    model_name: str = ""
    rtf: float = 0.0
    is_empty: bool = True

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (the stored form of a transcript)."""
        return {
            "text": self.text,
            "words": [
                {"word": w.word, "start": w.start, "end": w.end, "conf": w.conf} for w in self.words
            ],
            "confidence": self.confidence,
            "duration": self.duration,
            "model_name": self.model_name,
            "rtf": self.rtf,
            "is_empty": self.is_empty,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TranscriptResult:
        """Rebuild a transcript stored with ``to_dict``; raises TranscriptFormatError."""
        try:
            words = [_word_from_mapping(w) for w in data.get("words", [])]
            return cls(
                text=str(data["text"]),
                words=words,
                confidence=float(data.get("confidence", 0.0)),
                duration=float(data.get("duration", 0.0)),
                model_name=str(data.get("model_name", "")),
                rtf=float(data.get("rtf", 0.0)),
                is_empty=bool(data.get("is_empty", not words)),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise TranscriptFormatError(f"not a stored transcript: {exc!r}") from exc


def is_unspaced_char(char: str) -> bool:
    """True for characters of scripts written without spaces between words."""
    code = ord(char)
    return any(low <= code <= high for low, high in _UNSPACED_RANGES)


def join_words(words: Iterable[str]) -> str:
    """Join recognised words the way the text is written.

    A space separates two words only when both sides of the boundary are spaced
    scripts (Latin, digits, Hangul …): "我们 有 3 个 问题" → "我们有3个问题",
    "ABC 公司" → "ABC公司", "hello world" stays "hello world".
    """
    text = ""
    for raw in words:
        word = raw.strip()
        if not word:
            continue
        if text and not (is_unspaced_char(text[-1]) or is_unspaced_char(word[0])):
            text += " "
        text += word
    return text


def build_transcript(
    results: Iterable[Mapping[str, Any]],
    *,
    duration: float,
    model_name: str,
    decode_seconds: float,
) -> TranscriptResult:
    """Combine Vosk ``Result()``/``FinalResult()`` dicts into one transcript.

    Results carry ``{"result": [{"word", "start", "end", "conf"}, …], "text": …}``;
    results without word detail (``SetWords(False)``) contribute their text with
    zero timings so nothing recognised is lost.
    """
    words: list[Word] = []
    try:
        for result in results:
            detail = result.get("result")
            if detail:
                words.extend(_word_from_mapping(item) for item in detail)
            else:
                words.extend(
                    Word(word=token, start=0.0, end=0.0, conf=0.0)
                    for token in str(result.get("text", "")).split()
                )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise TranscriptFormatError(f"not a Vosk result: {exc!r}") from exc
    confidence = sum(w.conf for w in words) / len(words) if words else 0.0
    return TranscriptResult(
        text=join_words(w.word for w in words),
        words=words,
        confidence=confidence,
        duration=duration,
        model_name=model_name,
        rtf=decode_seconds / duration if duration > 0 else 0.0,
        is_empty=not words,
    )


def _word_from_mapping(item: Mapping[str, Any]) -> Word:
    return Word(
        word=str(item["word"]),
        start=float(item["start"]),
        end=float(item["end"]),
        conf=float(item["conf"]),
    )
