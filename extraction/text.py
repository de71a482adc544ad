"""The text extraction reads: normalised, with every character traced back to the original.

Vosk writes Mandarin without punctuation and with its own slips; typed cases come with
punctuation, spaces and full-width forms. Extraction works on one normalised form (NFKC,
lower case, no whitespace, known slips repaired) and reports evidence as spans of the
original text, so the console can mark the very words, and seek to them in the audio.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

# Slips of the recogniser (and of hurried typing) that change what the rules see. Only
# unambiguous ones: each wrong form is never a right word in a voicemail about a company.
SLIPS: dict[str, str] = {
    "有线公司": "有限公司",
    "有线责任公司": "有限责任公司",
    "股份有线": "股份有限",
    "凤化": "奉化",
}


@dataclass(frozen=True)
class Evidence:
    """Words of the original text, as characters ``start``..``end`` (end exclusive)."""

    text: str
    start: int
    end: int

    def as_dict(self) -> dict[str, object]:
        return {"text": self.text, "start": self.start, "end": self.end}


@dataclass(frozen=True)
class Prepared:
    """``text`` is what extraction reads; ``starts``/``ends`` give each of its characters'
    span in ``original``."""

    original: str
    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def evidence(self, start: int, end: int) -> Evidence:
        """The original words behind normalised characters ``start``..``end``."""
        first, last = self.starts[start], self.ends[end - 1]
        return Evidence(self.original[first:last], first, last)

    def replaced(self, replacements: dict[str, str]) -> Prepared:
        """A copy with each occurrence of a key replaced (longest first), still traced."""
        if not replacements:
            return self
        keys = sorted(replacements, key=len, reverse=True)
        chars: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        i = 0
        text = self.text
        while i < len(text):
            for key in keys:
                if text.startswith(key, i):
                    value = replacements[key]
                    first, last = self.starts[i], self.ends[i + len(key) - 1]
                    for _ in value:
                        chars.append(_)
                        starts.append(first)
                        ends.append(last)
                    i += len(key)
                    break
            else:
                chars.append(text[i])
                starts.append(self.starts[i])
                ends.append(self.ends[i])
                i += 1
        return Prepared(self.original, "".join(chars), tuple(starts), tuple(ends))


    def masked(self, spans: list[tuple[int, int]], mask: str = "＿") -> Prepared:
        """A copy with the characters of ``spans`` (normalised indexes) hidden."""
        chars = list(self.text)
        for start, end in spans:
            for i in range(max(0, start), min(end, len(chars))):
                chars[i] = mask
        return Prepared(self.original, "".join(chars), self.starts, self.ends)


def prepare(original: str) -> Prepared:
    """Normalise ``original`` for extraction: NFKC, lower case, whitespace out, slips fixed."""
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for index, char in enumerate(original or ""):
        for normal in unicodedata.normalize("NFKC", char).lower():
            if normal.isspace():
                continue
            chars.append(normal)
            starts.append(index)
            ends.append(index + 1)
    return Prepared(original or "", "".join(chars), tuple(starts), tuple(ends)).replaced(SLIPS)


def is_han(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf"
