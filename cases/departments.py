"""Seed data: the member units of the enterprise-service leading group (notice, attachment 2).

Units only: the people named in the attachment are not seeded (administrators configure
users). Order follows attachment 2 (区府办 from the deputy-leader line, then the members;
区经信局, listed twice, appears once). 区委人才办 is not in attachment 2 but the notice names it
as part of the resident task force, so it is added after 区委组织部, under which it works.

Kinds:
``office`` the Party committee's and the government's general offices; ``department`` the
government's departments, directly affiliated units and the district branches of higher
authorities; ``zone`` the development zone; ``association`` the federation of industry and
commerce; ``street`` sub-district offices (街道); ``town`` town governments (镇);
``oversight`` bodies the task force invites to attend and supervise a joint meeting
(区纪委区监委, 区委作风办) — never case handlers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DepartmentKind = Literal["office", "department", "town", "street", "zone", "association",
                         "oversight"]
# Kinds that attend joint meetings but never handle cases.
ATTENDING_ONLY_KINDS = frozenset({"oversight"})

KIND_LABELS: dict[str, str] = {
    "office": "综合办事机构",
    "department": "职能部门",
    "town": "镇",
    "street": "街道",
    "zone": "开发区",
    "association": "商会协会",
    "oversight": "列席监督单位",
}


@dataclass(frozen=True)
class DepartmentSeed:
    """One unit to create in the departments table."""

    name: str
    kind: DepartmentKind
    task_force: bool = False


DEPARTMENTS: tuple[DepartmentSeed, ...] = (
    DepartmentSeed("区府办", "office"),
    DepartmentSeed("区委组织部", "office"),
    DepartmentSeed("区委人才办", "office", task_force=True),
    DepartmentSeed("区发改局", "department"),
    DepartmentSeed("区经信局", "department", task_force=True),
    DepartmentSeed("区教育局", "department"),
    DepartmentSeed("区科技局", "department", task_force=True),
    DepartmentSeed("区公安分局", "department"),
    DepartmentSeed("区民政局", "department"),
    DepartmentSeed("区司法局", "department"),
    DepartmentSeed("区财政局", "department"),
    DepartmentSeed("区人力社保局", "department"),
    DepartmentSeed("区住建局", "department"),
    DepartmentSeed("区交通局", "department"),
    DepartmentSeed("区水利局", "department"),
    DepartmentSeed("区农业农村局", "department"),
    DepartmentSeed("区商务局", "department"),
    DepartmentSeed("区文广旅体局", "department"),
    DepartmentSeed("区卫生健康局", "department"),
    DepartmentSeed("区应急管理局", "department"),
    DepartmentSeed("区市场监管局", "department"),
    DepartmentSeed("区医保局", "department"),
    DepartmentSeed("区综合执法局", "department"),
    DepartmentSeed("区政务办", "department"),
    DepartmentSeed("开发区管委会", "zone"),
    DepartmentSeed("区金融发展服务中心", "department", task_force=True),
    DepartmentSeed("区工商联", "association"),
    DepartmentSeed("区自然资源规划分局", "department", task_force=True),
    DepartmentSeed("区生态环境分局", "department"),
    DepartmentSeed("区税务局", "department", task_force=True),
    DepartmentSeed("锦屏街道办事处", "street"),
    DepartmentSeed("岳林街道办事处", "street"),
    DepartmentSeed("莼湖街道办事处", "street"),
    DepartmentSeed("西坞街道办事处", "street"),
    DepartmentSeed("尚田街道办事处", "street"),
    DepartmentSeed("萧王庙街道办事处", "street"),
    DepartmentSeed("江口街道办事处", "street"),
    DepartmentSeed("方桥街道办事处", "street"),
    DepartmentSeed("溪口镇人民政府", "town"),
    DepartmentSeed("大堰镇人民政府", "town"),
    DepartmentSeed("裘村镇人民政府", "town"),
    DepartmentSeed("松岙镇人民政府", "town"),
    # Invited to 专班商办 meetings (notice: 邀请区纪委区监委、区委作风办列席), not handlers.
    DepartmentSeed("区纪委区监委", "oversight"),
    DepartmentSeed("区委作风办", "oversight"),
)


def department_names() -> list[str]:
    """Names of all seeded units, in seed order."""
    return [department.name for department in DEPARTMENTS]


def task_force_names() -> list[str]:
    """Names of the resident task force (企服专班, the "1" of "1+X")."""
    return [department.name for department in DEPARTMENTS if department.task_force]
