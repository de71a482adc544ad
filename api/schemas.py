"""The API's request fields, validated here and published from here in the OpenAPI document."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from cases.errors import InvalidInput
from cases.fields import (
    MAX_CONTACT_NAME,
    MAX_DESCRIPTION,
    FieldErrors,
    category_errors,
    clean_contact_name,
    clean_description,
)
from cases.intake import FUTURE_TOLERANCE
from cases.uscc import check_uscc, uscc_check_char
from routing.rules import CATEGORIES, SUBCATEGORIES


@dataclass(frozen=True)
class Field:
    description: str
    max_length: int
    required: bool = False
    enum: tuple[str, ...] = ()
    format: str | None = None
    example: str | None = None


ALL_SUBCATEGORIES = tuple(code for subs in SUBCATEGORIES.values() for code in subs)

CASE_FIELDS: dict[str, Field] = {
    "description": Field("诉求内容", MAX_DESCRIPTION, required=True,
                         example="企业新建厂房需要用电增容，想了解办理流程"),
    "category": Field("诉求类别：" + "、".join(f"{k} {v}" for k, v in CATEGORIES.items()),
                      16, enum=tuple(CATEGORIES), example="factor"),
    "subcategory": Field("子类", 16, enum=ALL_SUBCATEGORIES, example="utilities"),
    "received_at": Field("企业反映诉求的时间（先收集后录入时填写），须带时区，一年以内", 40,
                         format="date-time", example="2026-10-08T09:30:00+08:00"),
    "contact_name": Field("联系人", MAX_CONTACT_NAME, example="王经理"),
    "contact_phone": Field("联系电话（手机或带区号的固定电话）", 32, example="13800138000"),
    "enterprise_name": Field("企业名称", 200, example="宁波某某机械有限公司"),
    "enterprise_uscc": Field("统一社会信用代码（18位）", 32, example="91350100M000100Y43"),
}
# Bodies larger than this are refused with 413 before they are parsed.
MAX_BODY_BYTES = 32 * 1024
# Channels file what they collected recently; anything older is a client's clock or bug.
MAX_RECEIVED_AGE = timedelta(days=366)
# Valid JSON, but not storable text: NUL (PostgreSQL refuses it) and unpaired surrogates
# (not encodable as UTF-8).
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


@dataclass
class CaseRequest:
    description: str
    category: str | None = None
    subcategory: str | None = None
    received_at: datetime | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    enterprise_name: str | None = None
    enterprise_uscc: str | None = None


# Fields whose rules (required, length) are the shared field cleaners'.
SHARED_CLEANERS: dict[str, Callable[[str | None], str | None]] = {
    "description": clean_description,
    "contact_name": clean_contact_name,
}


def _string(name: str, value: Any, spec: Field, errors: dict[str, str]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        errors[name] = "应为字符串"
        return None
    text = value.strip()
    if UNSTORABLE.search(text):
        errors[name] = "包含不允许的字符（NUL 或不成对的 Unicode 代理字符）"
        return None
    if name not in SHARED_CLEANERS and len(text) > spec.max_length:
        errors[name] = f"不能超过{spec.max_length}个字符"
        return None
    return text or None


def _received_at(text: str, now: datetime, errors: dict[str, str]) -> datetime | None:
    """An aware time within the last year (and not ahead of ``now``), in UTC."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        errors["received_at"] = "时间格式应为 ISO 8601，如 2026-10-08T09:30:00+08:00"
        return None
    if value.tzinfo is None:
        errors["received_at"] = "时间须带时区，如 2026-10-08T09:30:00+08:00"
        return None
    try:
        value = value.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 once the offset is applied
        value = datetime.min.replace(tzinfo=UTC) if value.year < 2 else datetime.max.replace(
            tzinfo=UTC)
    if value < now - MAX_RECEIVED_AGE:
        errors["received_at"] = "受理时间不能早于一年前"
    elif value > now + FUTURE_TOLERANCE:
        errors["received_at"] = "受理时间不能晚于当前时间"
    return value


def uscc_problem(raw: str) -> str | None:
    """Why an API client's USCC is refused, or None.

    Another system sends what its own records hold, so unlike an operator typing a licence
    (where an early code with an odd check character is kept with a warning) the API refuses
    a code whose check character is wrong (GB 32100-2015, ``cases.uscc``), with the character
    it should have been.
    """
    check = check_uscc(raw)
    if not check.valid_format:
        return check.message
    if not check.checksum_ok:
        expected = uscc_check_char(check.normalized[:-1])
        return (f"统一社会信用代码校验位不符：第18位应为 {expected}，"
                f"收到 {check.normalized[-1]}，请核对后重新提交")
    return None


def parse_case_request(payload: Any, now: datetime) -> CaseRequest:
    """Validate a ``POST /cases`` body; :class:`InvalidInput` lists every problem by field."""
    if not isinstance(payload, dict):
        raise InvalidInput({"body": "请求体应为JSON对象"})
    errors: dict[str, str] = {}
    for name in payload:
        if name not in CASE_FIELDS:
            errors[str(name)] = "未知字段"
    values = {name: _string(name, payload.get(name), spec, errors)
              for name, spec in CASE_FIELDS.items()}
    # Required text and length limits are the shared field rules (cases.fields), so a form,
    # an import and the API give the same answer for the same value.
    shared = FieldErrors()
    for name, cleaner in SHARED_CLEANERS.items():
        if name not in errors:
            values[name] = shared.clean(partial(cleaner, values[name]))
    errors.update(shared.fields)
    received_at = None
    if values["received_at"]:
        received_at = _received_at(values["received_at"], now, errors)
    if "category" not in errors and "subcategory" not in errors:
        errors.update(category_errors(values["category"], values["subcategory"]))
    if values["enterprise_uscc"] and "enterprise_uscc" not in errors:
        problem = uscc_problem(values["enterprise_uscc"])
        if problem:
            errors["enterprise_uscc"] = problem
    if errors:
        raise InvalidInput(errors)
    return CaseRequest(
        description=values["description"] or "",
        category=values["category"],
        subcategory=values["subcategory"],
        received_at=received_at,
        contact_name=values["contact_name"],
        contact_phone=values["contact_phone"],
        enterprise_name=values["enterprise_name"],
        enterprise_uscc=values["enterprise_uscc"],
    )
