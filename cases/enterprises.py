"""Enterprises: registration with USCC validation, phone numbers, caller identification."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.errors import InvalidInput
from cases.models import Enterprise, EnterprisePhone
from cases.uscc import check_uscc
from core.phones import InvalidPhone, normalize_phone


@dataclass
class EnterpriseResult:
    """The enterprise and any warnings the user should see (e.g. a USCC checksum mismatch)."""

    enterprise: Enterprise
    created: bool
    warnings: list[str] = field(default_factory=list)


def phone_or_none(raw: str | None) -> str | None:
    """E.164 form of ``raw``, or ``None`` if it is empty or not a valid number."""
    if not raw:
        return None
    try:
        return normalize_phone(raw)
    except InvalidPhone:
        return None


def checked_uscc(raw: str | None, field_name: str = "uscc") -> tuple[str | None, list[str]]:
    """Normalised USCC and warnings; a malformed code is an error, a bad checksum a warning."""
    if raw is None or not raw.strip():
        return None, []
    check = check_uscc(raw)
    if not check.valid_format:
        raise InvalidInput({field_name: check.message})
    return check.normalized, ([] if check.checksum_ok else [check.message])


def _normalized_phones(phones: Iterable[str], field_name: str) -> list[str]:
    result: list[str] = []
    for raw in phones:
        try:
            number = normalize_phone(raw)
        except InvalidPhone as exc:
            raise InvalidInput({field_name: exc.message}) from exc
        if number not in result:
            result.append(number)
    return result


def register_enterprise(
    session: Session,
    *,
    name: str,
    uscc: str | None = None,
    town: str | None = None,
    contact_name: str | None = None,
    phones: Iterable[str] = (),
    now: datetime,
) -> EnterpriseResult:
    """Create an enterprise; a USCC already registered is an error."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput({"name": "请填写企业名称"})
    code, warnings = checked_uscc(uscc)
    if code and session.scalar(select(Enterprise.id).where(Enterprise.uscc == code)):
        raise InvalidInput({"uscc": "该统一社会信用代码已登记"})
    enterprise = Enterprise(
        name=name[:200],
        uscc=code,
        uscc_checksum_ok=not warnings,
        town=(town or "").strip() or None,
        contact_name=(contact_name or "").strip() or None,
        created_at=now,
    )
    for number in _normalized_phones(phones, "phones"):
        enterprise.phones.append(EnterprisePhone(phone=number))
    session.add(enterprise)
    session.flush()
    return EnterpriseResult(enterprise, True, warnings)


def find_or_register_enterprise(
    session: Session, *, name: str | None, uscc: str | None, now: datetime
) -> EnterpriseResult | None:
    """The enterprise a channel names: by USCC if given, else by exact name; new if unknown."""
    code, warnings = checked_uscc(uscc, "enterprise_uscc")
    name = (name or "").strip()
    existing = None
    if code:
        existing = session.scalars(select(Enterprise).where(Enterprise.uscc == code)).first()
    elif name:
        existing = session.scalars(
            select(Enterprise).where(Enterprise.name == name).order_by(Enterprise.id)
        ).first()
    if existing is not None:
        return EnterpriseResult(existing, False, warnings)
    if not name:
        if code:
            raise InvalidInput({"enterprise_name": "新企业请同时填写企业名称"})
        return None
    result = register_enterprise(session, name=name, uscc=code, now=now)
    result.warnings = warnings
    return result


def add_phone(session: Session, enterprise: Enterprise, raw: str, label: str = "") -> str:
    """Attach a phone number (normalised) to ``enterprise``; returns the E.164 form."""
    (number,) = _normalized_phones([raw], "phone")
    if all(p.phone != number for p in enterprise.phones):
        enterprise.phones.append(EnterprisePhone(phone=number, label=label[:32]))
        session.flush()
    return number


def enterprises_for_phone(session: Session, raw: str | None) -> list[Enterprise]:
    """Enterprises registered with this phone number (any format), oldest first."""
    number = phone_or_none(raw)
    if number is None:
        return []
    return list(
        session.scalars(
            select(Enterprise)
            .join(EnterprisePhone)
            .where(EnterprisePhone.phone == number)
            .order_by(Enterprise.id)
        )
    )
