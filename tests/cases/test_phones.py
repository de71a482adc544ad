"""Phone numbers: E.164 normalisation, mobile detection, speech digits."""

from __future__ import annotations

import pytest

from core.phones import InvalidPhone, digits_for_speech, is_mobile, normalize_phone


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("0574-88888718", "+8657488888718"),
        ("(0574) 8888 8718", "+8657488888718"),
        ("13800138000", "+8613800138000"),
        ("+8613800138000", "+8613800138000"),
        ("86 138 0013 8000", "+8613800138000"),
        ("008613800138000", "+8613800138000"),
        ("+1 415 555 2671", "+14155552671"),
    ],
)
def test_normalize_phone(raw: str, e164: str) -> None:
    assert normalize_phone(raw) == e164


@pytest.mark.parametrize("raw", ["", "abc", "12345", "88888718", "138001380"])
def test_garbage_raises_invalid_phone(raw: str) -> None:
    with pytest.raises(InvalidPhone):
        normalize_phone(raw)


def test_invalid_phone_message_is_chinese() -> None:
    with pytest.raises(InvalidPhone) as info:
        normalize_phone("88888718")
    assert "区号" in info.value.message


def test_invalid_phone_is_a_value_error() -> None:
    assert issubclass(InvalidPhone, ValueError)


def test_mobile_number_is_mobile() -> None:
    assert is_mobile("+8613800138000")


def test_landline_is_not_mobile() -> None:
    assert not is_mobile("+8657488888718")


def test_unparseable_is_not_mobile() -> None:
    assert not is_mobile("anonymous")


def test_speech_digits_for_mobile_use_yao_and_groups() -> None:
    assert digits_for_speech("+8613800138000") == "幺三八，零零幺三，八零零零"


def test_speech_digits_for_landline_keep_area_code() -> None:
    assert digits_for_speech("+8657488888718") == "零五七四，八八八八，八七幺八"


def test_speech_digits_for_foreign_number_include_country_code() -> None:
    assert digits_for_speech("+14155552671").startswith("幺，四幺五")


def test_speech_digits_for_case_number_are_not_grouped() -> None:
    assert digits_for_speech("2603180012") == "二六零三幺八零零幺二"


@pytest.mark.parametrize(("raw", "e164"), [
    ("sip:+8613800138000@trunk.example.cn", "+8613800138000"),
    ("sip:13800138000@10.0.0.1;user=phone", "+8613800138000"),
    ("sips:057488888718@trunk.example.cn:5061", "+8657488888718"),
    ("tel:+86-574-8888-8718", "+8657488888718"),
    ("SIP:%2B8613800138000@trunk.example.cn", "+8613800138000"),
])
def test_callers_arriving_over_a_sip_trunk_are_recognised(raw: str, e164: str) -> None:
    # BYOC / Elastic SIP Trunking: the carrier's From may reach the webhooks as a URI.
    assert normalize_phone(raw) == e164


@pytest.mark.parametrize("raw", ["sip:operators@hotline.invalid", "sip:anonymous@1.2.3.4",
                                 "client:op1"])
def test_sip_uris_without_a_number_are_not_phones(raw: str) -> None:
    with pytest.raises(InvalidPhone):
        normalize_phone(raw)
