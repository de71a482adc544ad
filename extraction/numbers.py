"""Phone numbers and 统一社会信用代码 as callers say them: digit by digit, in Chinese or Arabic.

Mandarin reads a phone number digit by digit — 幺 or 一 for 1, 两 or 二 for 2, 零 (or 洞) for
0 — in groups or in one breath, sometimes with a filler (嗯) or a dash between groups. A run
of such digits is cut into numbers the plan allows: a mobile (1[3-9] and 11 digits), a
landline with its area code (0574 …), or an 8-digit local number, which gets the district's
area code 0574 (docs/extraction.md). Quantities (三十多万, 两千万) never form runs: 十, 百, 千
and 万 end them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

from cases.uscc import check_uscc
from extraction.text import Evidence, Prepared

DIGITS: dict[str, str] = {
    **{str(d): str(d) for d in range(10)},
    "零": "0", "〇": "0", "洞": "0",
    "幺": "1", "一": "1",
    "二": "2", "两": "2",
    "三": "3", "四": "4", "五": "5", "六": "6", "七": "7", "八": "8", "九": "9",
}
# Between the groups of a spoken or typed number.
GAPS = frozenset("-—–_.、,，·嗯呃啊额")
LOCAL_AREA_CODE = "0574"
PHONE_CUES = ("电话", "手机", "号码", "联系方式", "座机", "打", "联系")
USCC_CUES = ("信用代码", "社会信用", "代码")
# The hotline's own number, which callers mention ("我之前打过八八八八八七幺八").
HOTLINE_NUMBERS = frozenset({"057488888718"})


@dataclass(frozen=True)
class DigitRun:
    digits: str
    positions: tuple[int, ...]  # normalised-text index of each digit
    gaps: int

    def span(self, first: int, last: int) -> tuple[int, int]:
        return self.positions[first], self.positions[last] + 1


@dataclass(frozen=True)
class PhoneFound:
    value: str
    confidence: float
    evidence: Evidence


def digit_runs(text: str) -> list[DigitRun]:
    """Maximal runs of digits, allowing at most two gap characters between digits."""
    runs: list[DigitRun] = []
    i = 0
    while i < len(text):
        if text[i] not in DIGITS:
            i += 1
            continue
        digits: list[str] = []
        positions: list[int] = []
        gaps = 0
        j = i
        while j < len(text):
            if text[j] in DIGITS:
                digits.append(DIGITS[text[j]])
                positions.append(j)
                j += 1
                continue
            k = j
            while k < len(text) and k - j < 2 and text[k] in GAPS:
                k += 1
            if k > j and k < len(text) and text[k] in DIGITS:
                gaps += 1
                j = k
                continue
            break
        runs.append(DigitRun("".join(digits), tuple(positions), gaps))
        i = j
    return runs


def _national(digits: str) -> str | None:
    """``digits`` as a valid mainland number in national form (no spaces), or None."""
    try:
        number = phonenumbers.parse(digits, "CN")
    except NumberParseException:
        return None
    if number.country_code != 86 or not phonenumbers.is_valid_number(number):
        return None
    return re.sub(r"\D", "", phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL))


def _numbers_in(run: DigitRun) -> list[tuple[str, int, int, bool]]:
    """(national number, first digit index, last digit index, local) found in ``run``."""
    found: list[tuple[str, int, int, bool]] = []
    d = run.digits
    i = 0
    while i < len(d):
        taken = None
        if d[i] == "1" and i + 11 <= len(d) and d[i + 1] in "3456789":
            value = _national(d[i:i + 11])
            if value:
                taken = (value, i, i + 10, False)
        elif d[i] == "0":
            for length in (12, 11, 10):
                if i + length <= len(d):
                    value = _national(d[i:i + length])
                    if value:
                        taken = (value, i, i + length - 1, False)
                        break
        elif d[i] in "2345678" and len(d) - i in (8, 9) and i == 0:
            # A local number said without its area code: the district's own.
            value = _national(LOCAL_AREA_CODE + d[i:i + 8])
            if value:
                taken = (value, i, i + 7, True)
        if taken is None:
            i += 1
            continue
        found.append(taken)
        i = taken[2] + 1
    return found


def find_phones(prepared: Prepared) -> list[PhoneFound]:
    """Every phone number in the text once, in order of first mention."""
    text = prepared.text
    found: dict[str, PhoneFound] = {}
    for run in digit_runs(text):
        for value, first, last, local in _numbers_in(run):
            if value in HOTLINE_NUMBERS:
                continue
            start, end = run.span(first, last)
            confidence = 0.75 if local else 0.9
            if run.gaps:
                confidence -= 0.05
            before = text[max(0, start - 8):start]
            if any(cue in before for cue in PHONE_CUES):
                confidence += 0.05
            if value not in found:
                found[value] = PhoneFound(value, round(confidence, 2),
                                          prepared.evidence(start, end))
    return list(found.values())


_CODE_CHARS = re.compile(r"[0-9a-z]")


@dataclass(frozen=True)
class UsccFound:
    value: str
    confidence: float
    evidence: Evidence
    checksum_ok: bool


def find_uscc(prepared: Prepared) -> UsccFound | None:
    """A 统一社会信用代码: 18 digits and letters, said (or typed) after a cue, or any 18
    characters whose check character is right."""
    text = prepared.text
    best: UsccFound | None = None
    i = 0
    while i < len(text):
        if not (text[i] in DIGITS or _CODE_CHARS.fullmatch(text[i])):
            i += 1
            continue
        symbols: list[str] = []
        positions: list[int] = []
        j = i
        while j < len(text) and len(symbols) < 19:
            char = text[j]
            if char in DIGITS:
                symbols.append(DIGITS[char])
            elif _CODE_CHARS.fullmatch(char):
                symbols.append(char.upper())
            elif char in GAPS:
                j += 1
                continue
            else:
                break
            positions.append(j)
            j += 1
        if len(symbols) == 18:
            code = "".join(symbols)
            check = check_uscc(code)
            cued = any(cue in text[max(0, i - 8):i] for cue in USCC_CUES)
            if check.valid_format and (check.checksum_ok or cued):
                confidence = 0.9 if check.checksum_ok else 0.5
                if cued:
                    confidence += 0.05
                candidate = UsccFound(check.normalized, round(confidence, 2),
                                      prepared.evidence(positions[0], positions[-1] + 1),
                                      check.checksum_ok)
                if best is None or candidate.confidence > best.confidence:
                    best = candidate
        i = max(j, i + 1)
    return best
