"""Unified social credit code (统一社会信用代码, GB 32100-2015): normalisation and check char."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

# GB 32100-2015 omits I, O, S, V and Z so that they cannot be misread as digits.
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# 3^(i-1) mod 31 for positions 1..17.
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
LENGTH = 18

_VALUES = {char: value for value, char in enumerate(ALPHABET)}


@dataclass(frozen=True)
class UsccCheck:
    """Outcome of checking a code; a bad checksum is a warning, not a rejection."""

    normalized: str
    valid_format: bool
    checksum_ok: bool
    message: str


def normalize_uscc(code: str) -> str:
    """Upper-cased, with surrounding and inner whitespace removed."""
    # Codes are pasted from licences with spaces, or typed with full-width forms (NFKC).
    return "".join(unicodedata.normalize("NFKC", code).split()).upper()


def uscc_check_char(first17: str) -> str:
    """The check character for the first 17 characters of a code."""
    if len(first17) != LENGTH - 1:
        raise ValueError(f"need {LENGTH - 1} characters, got {len(first17)}")
    try:
        total = sum(_VALUES[char] * weight for char, weight in zip(first17, WEIGHTS, strict=True))
    except KeyError as exc:
        raise ValueError(f"character {exc.args[0]!r} is not in the USCC alphabet") from exc
    return ALPHABET[(31 - total % 31) % 31]


def check_uscc(code: str) -> UsccCheck:
    """Normalise ``code`` and check its format and check character."""
    normalized = normalize_uscc(code)
    if not normalized:
        return UsccCheck(normalized, False, False, "请填写统一社会信用代码")
    if len(normalized) != LENGTH:
        message = f"统一社会信用代码应为18位，当前为{len(normalized)}位"
        return UsccCheck(normalized, False, False, message)
    bad = sorted({char for char in normalized if char not in _VALUES})
    if bad:
        message = f"统一社会信用代码含有无效字符：{'、'.join(bad)}（不使用 I、O、S、V、Z）"
        return UsccCheck(normalized, False, False, message)
    expected = uscc_check_char(normalized[:-1])
    if normalized[-1] != expected:
        message = (
            f"统一社会信用代码校验位不符（按规则应为 {expected}），请核对；"
            "部分早期发放的代码可能如此，已保留"
        )
        return UsccCheck(normalized, True, False, message)
    return UsccCheck(normalized, True, True, "统一社会信用代码校验通过")
