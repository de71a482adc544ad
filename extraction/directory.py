"""What the extractor matches names against: registered enterprises and the district's towns.

Callers shorten names ("奉化精工机械的", "恒达塑料") and the recogniser writes homophones
("恒大塑料", "西口"), so each enterprise is known by several aliases — its full name, the name
without the region (宁波, 奉化 …) and legal form (有限公司 …), and the first characters of
that core — matched by sound (``extraction.sounds``). An alias two enterprises share names
neither. The towns and streets are the attachment-2 units (镇人民政府, 街道办事处).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.departments import DEPARTMENTS
from cases.models import Department, Enterprise
from cases.town_suggestions import PLACE_KINDS, place_name
from extraction.sounds import loose_readings, match_quality

REGION_PREFIXES = ("浙江省", "浙江", "宁波市", "宁波", "奉化区", "奉化市", "奉化")
LEGAL_SUFFIXES = ("股份有限公司", "有限责任公司", "集团有限公司", "有限公司", "分公司",
                  "集团", "公司", "厂")
# Homophones are forgiven only in aliases this long; shorter ones must be spelled right.
MIN_SOUND_ALIAS = 4
MIN_PREFIX_ALIAS = 4
# Characters a caller drops in between the words of a name ("溪口的竹木工艺品厂").
FILLERS = frozenset("的嗯啊呃额")


@dataclass(frozen=True)
class KnownEnterprise:
    id: int | None
    name: str
    town: str | None = None
    uscc: str | None = None


@dataclass(frozen=True)
class Town:
    """A town (镇) or street (街道) of attachment 2: its place name and how it is written."""

    place: str
    value: str


@dataclass(frozen=True)
class Alias:
    text: str
    weight: float
    target: KnownEnterprise | Town
    # Homophones forgiven: long enterprise aliases; town names (only with a place word after
    # them, which ``extract`` checks).
    by_sound: bool = True


@dataclass(frozen=True)
class NameMatch:
    target: KnownEnterprise | Town
    alias: str
    start: int  # normalised-text indexes
    end: int
    confidence: float
    followed_by: str


def strip_region(name: str) -> str:
    changed = True
    while changed:
        changed = False
        for prefix in REGION_PREFIXES:
            if name.startswith(prefix) and len(name) > len(prefix) + 1:
                name = name[len(prefix):]
                changed = True
    return name


def core_name(name: str) -> str:
    """"宁波奉化精工机械有限公司" → "精工机械"."""
    core = strip_region(name)
    for suffix in LEGAL_SUFFIXES:
        if core.endswith(suffix) and len(core) > len(suffix) + 1:
            core = core[: -len(suffix)]
            break
    return core


def _without_legal_form(name: str) -> str:
    for suffix in LEGAL_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def enterprise_aliases(enterprise: KnownEnterprise) -> list[Alias]:
    name = "".join(enterprise.name.split())
    core = core_name(name)
    found: dict[str, float] = {name: 1.0, strip_region(name): 1.0}
    # "宁波奉化精工机械", "奉化精工机械", "精工机械": the name as said, region by region.
    rest = _without_legal_form(name)
    while len(rest) >= 3:
        found.setdefault(rest, 0.95)
        prefix = next((p for p in REGION_PREFIXES if rest.startswith(p)), None)
        if prefix is None:
            break
        rest = rest[len(prefix):]
    for length in range(len(core) - 1, MIN_PREFIX_ALIAS - 1, -1):
        found.setdefault(core[:length], 0.85 + 0.01 * length)
    return [Alias(text, weight, enterprise, by_sound=len(text) >= MIN_SOUND_ALIAS)
            for text, weight in found.items()]


def town_of(value: str | None, towns: Iterable[Town]) -> Town | None:
    """The known town an enterprise's free-text 所在镇街 names ("溪口" / "溪口镇")."""
    wanted = place_name(value or "")
    return next((t for t in towns if t.place == wanted), None) if wanted else None


@dataclass
class Directory:
    enterprises: list[KnownEnterprise]
    towns: list[Town]
    _index: dict[str, list[Alias]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        aliases: dict[str, list[Alias]] = {}
        for enterprise in self.enterprises:
            for alias in enterprise_aliases(enterprise):
                aliases.setdefault(alias.text, []).append(alias)
        for town in self.towns:
            aliases.setdefault(town.place, []).append(Alias(town.place, 0.9, town))
            aliases.setdefault(town.value, []).append(Alias(town.value, 1.0, town))
        for text, owners in aliases.items():
            targets = {id(a.target) for a in owners}
            if len(targets) != 1:  # shared by two names: evidence for neither
                continue
            alias = max(owners, key=lambda a: a.weight)
            for reading in loose_readings(text[0]):
                self._index.setdefault(reading, []).append(alias)

    def matches(self, text: str) -> list[NameMatch]:
        """Every alias said in ``text`` (normalised), by sound, fillers skipped."""
        kept = [i for i, char in enumerate(text) if char not in FILLERS]
        stream = "".join(text[i] for i in kept)
        found: list[NameMatch] = []
        for pos, char in enumerate(stream):
            seen: set[int] = set()
            for reading in loose_readings(char):
                for alias in self._index.get(reading, ()):
                    if id(alias) in seen:
                        continue
                    seen.add(id(alias))
                    said = stream[pos:pos + len(alias.text)]
                    quality = match_quality(said, alias.text)
                    if quality <= 0 or (quality < 1 and not alias.by_sound):
                        continue
                    start, end = kept[pos], kept[pos + len(alias.text) - 1] + 1
                    following = text[end:end + 3]
                    found.append(NameMatch(alias.target, alias.text, start, end,
                                           round(alias.weight * quality, 3), following))
        return found


def static_towns() -> list[Town]:
    """The towns and streets of attachment 2 as seeded (``cases.departments``)."""
    return [_town(d.name, d.kind) for d in DEPARTMENTS if d.kind in PLACE_KINDS]


def _town(unit_name: str, kind: str) -> Town:
    place = place_name(unit_name)
    return Town(place, place + ("镇" if kind == "town" else "街道"))


def load_directory(session: Session) -> Directory:
    """The registered enterprises and active town/street units of this installation."""
    enterprises = [KnownEnterprise(id_, name, town, uscc) for id_, name, town, uscc in
                   session.execute(select(Enterprise.id, Enterprise.name, Enterprise.town,
                                          Enterprise.uscc).order_by(Enterprise.id))]
    units = session.execute(select(Department.name, Department.kind).where(
        Department.kind.in_(PLACE_KINDS), Department.active.is_(True))
        .order_by(Department.sort_order, Department.id)).all()
    towns = [_town(name, kind) for name, kind in units] or static_towns()
    return Directory(enterprises, towns)
