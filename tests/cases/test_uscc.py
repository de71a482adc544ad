"""Unified social credit code: normalisation, format and check character (GB 32100-2015)."""

from __future__ import annotations

import pytest

from cases.uscc import check_uscc, uscc_check_char


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110000600037341L"])
def test_known_valid_codes(code: str) -> None:
    result = check_uscc(code)
    assert (result.valid_format, result.checksum_ok) == (True, True)
    assert result.message == "统一社会信用代码校验通过"


def test_check_char_of_known_code() -> None:
    assert uscc_check_char("91110000600037341") == "L"


def test_check_char_value_31_becomes_zero() -> None:
    # Σ = 0 → 31 − 0 = 31 → '0'.
    assert uscc_check_char("0" * 17) == "0"


def test_check_char_value_30_is_last_letter() -> None:
    # Σ = 1 (a '1' in position 1, weight 1) → 31 − 1 = 30 → 'Y'.
    assert uscc_check_char("1" + "0" * 16) == "Y"


def test_normalizes_case_and_whitespace() -> None:
    assert check_uscc("  9111 0000 6000 3734 1l\n").normalized == "91110000600037341L"


def test_normalizes_full_width_characters() -> None:
    assert check_uscc("９１１１００００６０００３７３４１Ｌ").checksum_ok


def test_wrong_length_is_format_error() -> None:
    result = check_uscc("9111000060003734")
    assert (result.valid_format, result.checksum_ok) == (False, False)
    assert "18位" in result.message


@pytest.mark.parametrize("bad", ["I", "O", "S", "V", "Z", "-"])
def test_characters_outside_alphabet_are_format_errors(bad: str) -> None:
    result = check_uscc("9111000060003734" + bad + "L")
    assert not result.valid_format
    assert "无效字符" in result.message


def test_empty_code_is_format_error() -> None:
    assert check_uscc("   ").message == "请填写统一社会信用代码"


def test_bad_checksum_is_a_warning_not_a_format_error() -> None:
    result = check_uscc("91110000600037341A")
    assert (result.valid_format, result.checksum_ok) == (True, False)
    assert "应为 L" in result.message


def test_check_char_rejects_wrong_length() -> None:
    with pytest.raises(ValueError):
        uscc_check_char("9111")


def test_check_char_rejects_bad_character() -> None:
    with pytest.raises(ValueError):
        uscc_check_char("9111000060003734I")
