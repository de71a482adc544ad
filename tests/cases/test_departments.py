"""Department seed data: attachment 2 of the notice plus 区委人才办."""

from __future__ import annotations

from collections import Counter

from cases.departments import DEPARTMENTS, department_names, task_force_names
from routing.rules import load_rules


def test_names_are_unique() -> None:
    assert [n for n, c in Counter(department_names()).items() if c > 1] == []


def test_order_starts_and_ends_as_in_attachment_2() -> None:
    names = department_names()
    assert names[:4] == ["区府办", "区委组织部", "区委人才办", "区发改局"]
    assert names[-3:] == ["松岙镇人民政府", "区纪委区监委", "区委作风办"]


def test_all_units_of_attachment_2_plus_talent_office() -> None:
    # 41 distinct units in attachment 2 (区经信局 listed twice) + 区委人才办, and the two
    # bodies invited to attend joint meetings.
    assert len(DEPARTMENTS) == 44
    assert [d.name for d in DEPARTMENTS if d.kind == "oversight"] == ["区纪委区监委", "区委作风办"]


def test_task_force_is_exactly_the_notices_six_units() -> None:
    assert set(task_force_names()) == {
        "区委人才办",
        "区经信局",
        "区科技局",
        "区金融发展服务中心",
        "区自然资源规划分局",
        "区税务局",
    }


def test_kinds_of_special_units() -> None:
    kinds = {d.name: d.kind for d in DEPARTMENTS}
    assert (kinds["开发区管委会"], kinds["区工商联"], kinds["区府办"]) == (
        "zone",
        "association",
        "office",
    )


def test_streets_and_towns_by_suffix() -> None:
    for department in DEPARTMENTS:
        if department.name.endswith("街道办事处"):
            assert department.kind == "street", department.name
        elif department.name.endswith("镇人民政府"):
            assert department.kind == "town", department.name


def test_eight_streets_and_four_towns() -> None:
    kinds = Counter(d.kind for d in DEPARTMENTS)
    assert (kinds["street"], kinds["town"]) == (8, 4)


def test_kinds_are_known() -> None:
    allowed = {"office", "department", "town", "street", "zone", "association", "oversight"}
    assert {d.kind for d in DEPARTMENTS} <= allowed


def test_every_routing_department_is_seeded() -> None:
    seeded = set(department_names())
    used = {name for rule in load_rules() for name in rule.departments}
    assert sorted(used - seeded) == []
