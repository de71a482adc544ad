"""Password hashing with Argon2id (argon2-cffi's defaults follow RFC 9106), and the policy.

The policy follows NIST SP 800-63B: length, and no password attackers try first — the
30,000 most common passwords (zxcvbn's list, from leaked password sets) and anything zxcvbn
estimates as guessable, including words of this hotline and the account's own name. No
composition rules: "Abcdefg-1" satisfies them and is guessed early.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified against when the username is unknown, so both paths cost one Argon2 run
    and the response time does not reveal which usernames exist. Made on first use: an
    Argon2 run costs a sixth of a second, which every process importing the app paid."""
    return _hasher.hash("not a password: timing equaliser")

MIN_LENGTH = 10
MAX_LENGTH = 256
# zxcvbn's 0–4: 3 is "safely unguessable" against an online attack with throttling and a
# slow hash (Argon2id), which is what a stolen hash list meets.
MIN_SCORE = 3
# Words of this hotline an attacker tries first, whatever the dictionaries say.
SITE_WORDS = ("fenghua", "奉化", "8718", "88888718", "057488888718", "hotline", "rexian",
              "qiye", "qifu", "8718hotline")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True if ``password`` matches; an unknown user (``None``) costs the same and fails."""
    try:
        matched = _hasher.verify(password_hash or _dummy_hash(), password)
        return matched and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's defaults."""
    return _hasher.check_needs_rehash(password_hash)


@cache
def _common() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problem(password: str, *, user_inputs: Sequence[str] = ()) -> str | None:
    """Why ``password`` is unacceptable, in Chinese, or ``None``.

    ``user_inputs``: the account's username and name, which must not make up the password.
    """
    if len(password.strip()) < MIN_LENGTH:
        return f"密码至少{MIN_LENGTH}位（不计首尾空格）"
    if len(password) > MAX_LENGTH:
        return "密码过长"
    if password.lower() in _common() or password.strip().lower() in _common():
        return "该密码是最常见的密码之一，请换一个"
    from zxcvbn import zxcvbn

    inputs = [*SITE_WORDS, *(word for word in user_inputs if word)]
    if zxcvbn(password[:100], user_inputs=inputs)["score"] < MIN_SCORE:
        return "密码太容易被猜到（如常见词、姓名、重复或连续的字符），请用更长、更不规则的密码"
    return None
