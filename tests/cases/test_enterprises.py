"""Enterprises: USCC checks (format error vs checksum warning) and phone identification."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from cases.enterprises import (
    add_phone,
    enterprises_for_phone,
    find_or_register_enterprise,
    register_enterprise,
)
from cases.errors import InvalidInput
from tests.cases.factories import local

NOW = local("2026-11-24 09:00")


def test_valid_uscc_is_stored_normalised(session: Session) -> None:
    result = register_enterprise(session, name="甲公司", uscc=" 91350100m000100y43 ", now=NOW)
    assert (result.enterprise.uscc, result.warnings) == ("91350100M000100Y43", [])


def test_bad_uscc_checksum_is_a_warning_not_an_error(session: Session) -> None:
    result = register_enterprise(session, name="乙公司", uscc="91350100M000100Y44", now=NOW)
    assert result.enterprise.uscc_checksum_ok is False
    assert "校验位" in result.warnings[0]


def test_bad_uscc_format_is_an_error(session: Session) -> None:
    with pytest.raises(InvalidInput) as info:
        register_enterprise(session, name="丙公司", uscc="12345", now=NOW)
    assert "uscc" in info.value.fields


def test_uscc_registered_twice_is_an_error(session: Session) -> None:
    register_enterprise(session, name="甲公司", uscc="91110000600037341L", now=NOW)
    with pytest.raises(InvalidInput, match="已登记"):
        register_enterprise(session, name="甲公司分部", uscc="91110000600037341L", now=NOW)


def test_phone_in_any_format_finds_the_enterprise(session: Session) -> None:
    enterprise = register_enterprise(session, name="甲公司", phones=["0574-88888718"],
                                     now=NOW).enterprise
    assert enterprises_for_phone(session, "+8657488888718") == [enterprise]


def test_invalid_phone_is_refused(session: Session) -> None:
    enterprise = register_enterprise(session, name="甲公司", now=NOW).enterprise
    with pytest.raises(InvalidInput):
        add_phone(session, enterprise, "12345")


def test_find_or_register_reuses_the_enterprise_with_that_uscc(session: Session) -> None:
    first = register_enterprise(session, name="甲公司", uscc="91350100M000100Y43", now=NOW)
    found = find_or_register_enterprise(session, name="甲公司（简称）",
                                        uscc="91350100M000100Y43", now=NOW)
    assert found is not None
    assert (found.enterprise.id, found.created) == (first.enterprise.id, False)


def test_find_or_register_without_anything_returns_none(session: Session) -> None:
    assert find_or_register_enterprise(session, name=None, uscc=None, now=NOW) is None
