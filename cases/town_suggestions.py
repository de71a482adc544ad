"""The town or street office of the enterprise's place, as a routing suggestion.

Attachment 2 lists the district's towns (镇人民政府) and streets (街道办事处) as member units;
a request about local matters often belongs to the office where the enterprise sits. The
enterprise's 所在镇街 is free text ("溪口", "溪口镇", "锦屏街道办事处"), so it is matched by
the place name, the unit's name without its 镇/街道 and office suffix.
"""

from __future__ import annotations

import unicodedata

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.models import Department

PLACE_KINDS = ("town", "street")
# Longest first: "街道办事处" before "街道".
_SUFFIXES = ("街道办事处", "镇人民政府", "人民政府", "办事处", "街道", "镇")
# RoutingSuggestion.source of a suggestion that rests on the enterprise's town or street.
TOWN_SOURCE = "town"


def place_name(unit_or_town: str) -> str:
    """"溪口镇人民政府" / "溪口镇" / "溪口" → "溪口"; "锦屏街道办事处" → "锦屏"."""
    text = "".join(unicodedata.normalize("NFKC", unit_or_town).split())
    for suffix in _SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix):
            return text[: -len(suffix)]
    return text


def town_department(session: Session, town: str | None) -> Department | None:
    """The active town or street unit whose place ``town`` names, or ``None``."""
    wanted = place_name(town or "")
    if not wanted:
        return None
    units = session.scalars(
        select(Department).where(Department.kind.in_(PLACE_KINDS), Department.active.is_(True))
        .order_by(Department.sort_order, Department.id))
    return next((unit for unit in units if place_name(unit.name) == wanted), None)
