"""Field cleaners: one answer per value, whichever path it comes by (form, API, edit, import).

Each cleaner takes the raw value and returns what is stored, or raises :class:`InvalidInput`
for its field with a Chinese message. :class:`FieldErrors` runs several and reports every
problem at once. Blank text is "not given" (``None``) for optional fields.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from cases.errors import InvalidInput
from core.phones import InvalidPhone, normalize_phone
from routing.rules import CATEGORIES, SUBCATEGORIES

MAX_DESCRIPTION = 5000
MAX_CONTACT_NAME = 64  # the column's width (cases.contact_name)

T = TypeVar("T")


def _blank_to_none(value: str | None) -> str | None:
    return (value or "").strip() or None


def clean_description(value: str | None) -> str:
    """The request's text: required, at most :data:`MAX_DESCRIPTION` characters."""
    text = (value or "").strip()
    if not text:
        raise InvalidInput({"description": "请填写诉求内容"})
    if len(text) > MAX_DESCRIPTION:
        raise InvalidInput({"description": f"诉求内容不能超过{MAX_DESCRIPTION}字"})
    return text


def clean_contact_name(value: str | None) -> str | None:
    """Optional; too long is refused, never cut (a cut name is a wrong name)."""
    name = _blank_to_none(value)
    if name is not None and len(name) > MAX_CONTACT_NAME:
        raise InvalidInput({"contact_name": f"联系人不能超过{MAX_CONTACT_NAME}字"})
    return name


def clean_contact_phone(value: str | None) -> str | None:
    """Optional; stored as E.164."""
    phone = _blank_to_none(value)
    if phone is None:
        return None
    try:
        return normalize_phone(phone)
    except InvalidPhone as exc:
        raise InvalidInput({"contact_phone": exc.message}) from None


def category_errors(category: str | None, subcategory: str | None) -> dict[str, str]:
    """Field errors for a category/subcategory pair (empty if fine)."""
    errors: dict[str, str] = {}
    if category is not None and category not in CATEGORIES:
        choices = "、".join(f"{k}（{v}）" for k, v in CATEGORIES.items())
        errors["category"] = f"诉求类别应为：{choices}"
    elif subcategory is not None:
        allowed = SUBCATEGORIES.get(category or "", {})
        if subcategory not in allowed:
            errors["subcategory"] = (
                "该类别下没有此子类" if allowed or category
                else "填写子类时请同时填写类别"
            )
    return errors


class FieldErrors:
    """Collects the errors of several cleaners, so a form hears about every field at once."""

    def __init__(self) -> None:
        self.fields: dict[str, str] = {}

    def clean(self, cleaner: Callable[[], T]) -> T | None:
        """``cleaner()``'s value, or None after noting its field errors."""
        try:
            return cleaner()
        except InvalidInput as exc:
            self.fields.update(exc.fields)
            return None

    def add(self, errors: dict[str, str]) -> None:
        self.fields.update(errors)

    def raise_any(self) -> None:
        if self.fields:
            raise InvalidInput(self.fields)
