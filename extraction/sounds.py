"""How characters sound: toneless pinyin, so homophone slips (恒大/恒达, 西口/溪口) still match.

Each character is compared by all its readings (多音字), without tones; a "near" match also
forgives the confusions of southern Mandarin and of small recognisers (zh/z, ch/c, sh/s,
n/l, in/ing, en/eng, an/ang, h/f).
"""

from __future__ import annotations

import functools

from extraction.text import is_han

_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"), ("f", "h"))
_FINALS = (("ing", "in"), ("eng", "en"), ("ang", "an"), ("ong", "on"))


@functools.lru_cache(maxsize=20000)
def readings(char: str) -> frozenset[str]:
    """Toneless readings of ``char`` (the character itself when it is not Han)."""
    if not is_han(char):
        return frozenset({char})
    # Loaded on first use: its phrase dictionary costs every process that imports the app
    # about a third of a second.
    from pypinyin import Style, pinyin

    found = pinyin(char, style=Style.NORMAL, heteronym=True, errors="default")
    return frozenset(found[0]) if found and found[0] else frozenset({char})


@functools.lru_cache(maxsize=20000)
def _loose(syllable: str) -> str:
    for long, short in _INITIALS:
        if syllable.startswith(long):
            syllable = short + syllable[len(long):]
            break
    for long, short in _FINALS:
        if syllable.endswith(long):
            syllable = syllable[: -len(long)] + short
            break
    return syllable


@functools.lru_cache(maxsize=20000)
def loose_readings(char: str) -> frozenset[str]:
    return frozenset(_loose(r) for r in readings(char))


def same_sound(a: str, b: str) -> bool:
    return a == b or bool(readings(a) & readings(b))


def near_sound(a: str, b: str) -> bool:
    return same_sound(a, b) or bool(loose_readings(a) & loose_readings(b))


def match_quality(text: str, alias: str) -> float:
    """How well ``text`` (same length as ``alias``) says ``alias``: 1.0 the same characters,
    less for each homophone, less again for each near sound, 0.0 if any character differs."""
    if len(text) != len(alias):
        return 0.0
    score = 1.0
    for said, meant in zip(text, alias, strict=True):
        if said == meant:
            continue
        if same_sound(said, meant):
            score -= 0.04
        elif near_sound(said, meant):
            score -= 0.12
        else:
            return 0.0
    return score
