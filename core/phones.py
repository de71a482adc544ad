"""Phone numbers: E.164 normalisation (how we store and match callers) and speech digits."""

from __future__ import annotations

import functools
import re
from urllib.parse import unquote

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

# Mandarin reads 1 as 幺 in phone and case numbers so that it is not confused with 7 (七).
_SPOKEN_DIGITS = str.maketrans("0123456789", "零幺二三四五六七八九")


class InvalidPhone(ValueError):
    """A string that is not a usable phone number; the message is user-facing Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# A call that reaches Twilio over a SIP trunk (BYOC from a domestic carrier) may carry the
# caller as a URI: sip:+8613800138000@trunk.example.cn;user=phone, or tel:+86….
_NUMBER_URI = re.compile(r"(?:sips?|tel):([^@;]+)", re.IGNORECASE)


def _number_text(raw: str) -> str:
    """The number part of ``raw``: the user part of a sip:/tel: URI, else ``raw`` itself."""
    text = raw.strip()
    match = _NUMBER_URI.match(text)
    return unquote(match.group(1)) if match else text


def _parse(raw: str, region: str) -> phonenumbers.PhoneNumber:
    text = _number_text(raw)
    if not text:
        raise InvalidPhone("请填写电话号码")
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        raise InvalidPhone(f"无法识别的电话号码：{text}") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(f"电话号码无效：{text}（固定电话请加区号，如 0574-88888718）")
    return number


@functools.lru_cache(maxsize=4096)
def normalize_phone(raw: str, region: str = "CN") -> str:
    """``raw`` as E.164 (``+8657488888718``); national forms are read in ``region``.

    Cached: every call's greeting and voicemail normalises the caller's number, and the
    library's validation compiles many of its metadata patterns anew each time.
    """
    return phonenumbers.format_number(_parse(raw, region), PhoneNumberFormat.E164)


def is_mobile(e164: str) -> bool:
    """Whether ``e164`` is a mobile number (can receive SMS; callbacks reach a person)."""
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return False
    return phonenumbers.number_type(number) == PhoneNumberType.MOBILE


def digits_for_speech(number: str) -> str:
    """Chinese digits for ``<Say>``, grouped with pauses (``幺三八，零零幺三，八零零零``).

    TTS reads an Arabic digit string as one large number, so each digit becomes a Chinese
    numeral. An E.164 number (``+…``, how we store phones) is grouped as dialled at home:
    mainland numbers without +86, landlines with their 0 area code. Anything else, such as a
    case number, is read digit by digit without grouping (it could look like a phone number).
    """
    groups = [number]
    if number.strip().startswith("+"):
        try:
            parsed = phonenumbers.parse(number, None)
        except NumberParseException:
            parsed = None
        if parsed is not None and phonenumbers.is_valid_number(parsed):
            domestic = parsed.country_code == 86
            form = PhoneNumberFormat.NATIONAL if domestic else PhoneNumberFormat.INTERNATIONAL
            groups = re.findall(r"\d+", phonenumbers.format_number(parsed, form))
    spoken = ("".join(re.findall(r"\d", group)).translate(_SPOKEN_DIGITS) for group in groups)
    return "，".join(group for group in spoken if group)
