"""Finding an enterprise by what an operator knows: part of its name, its credit code, a phone.

The review form takes a name or credit code (the browser's search list also sends the id
picked); :func:`resolve` turns that into one enterprise or a Chinese message saying why not.
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from cases.enterprises import enterprises_for_phone, phone_or_none
from cases.errors import InvalidInput
from cases.models import Enterprise

FIELD = "enterprise"


def find_enterprises(session: Session, q: str, limit: int = 50) -> list[Enterprise]:
    """By part of the name, the exact credit code, or a registered phone number."""
    q = q.strip()
    if not q:
        return list(session.scalars(select(Enterprise).options(selectinload(
            Enterprise.phones)).order_by(Enterprise.created_at.desc()).limit(limit)))
    by_phone = [e.id for e in enterprises_for_phone(session, q)] if phone_or_none(q) else []
    return list(session.scalars(
        select(Enterprise).options(selectinload(Enterprise.phones))
        .where(or_(Enterprise.name.icontains(q, autoescape=True),
                   Enterprise.uscc == q.upper().replace(" ", ""),
                   Enterprise.id.in_(by_phone)))
        .order_by(Enterprise.name).limit(limit)))


def resolve(session: Session, text: str, picked_id: int | None) -> int | None:
    """The enterprise ``text`` names (None when empty); InvalidInput if none or several.

    ``picked_id`` is what the search list chose; it counts only while ``text`` still is
    that enterprise's name or credit code (the operator may have typed over it since).
    """
    text = text.strip()
    if not text:
        return None
    if picked_id is not None:
        picked = session.get(Enterprise, picked_id)
        if picked is not None and text in (picked.name, picked.uscc):
            return picked.id
    code = text.upper().replace(" ", "")
    exact = list(session.scalars(select(Enterprise).where(
        or_(Enterprise.name == text, Enterprise.uscc == code)).limit(2)))
    if len(exact) == 1:
        return exact[0].id
    found = exact or find_enterprises(session, text, limit=6)
    if len(found) == 1:
        return found[0].id
    if not found:
        raise InvalidInput({FIELD: f"未找到企业“{text}”，请核对名称或统一社会信用代码，"
                                   "或先在“企业”页登记"})
    names = "、".join(e.name for e in found[:5])
    raise InvalidInput({FIELD: f"“{text}”匹配到多家企业（{names}），请输入完整名称或信用代码"})
