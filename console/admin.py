"""Administrators' reference data: departments, the working-day calendar view, flow layout."""

from __future__ import annotations

import calendar as month_calendar
from collections import deque
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from call_flows.flow import Flow, Node
from cases.departments import KIND_LABELS
from cases.errors import InvalidInput, NotFound
from cases.models import Department
from workdays.calendar import DayInfo, WorkCalendar

# -- departments ------------------------------------------------------------------------------


def create_department(session: Session, *, name: str, kind: str, task_force: bool
                      ) -> Department:
    """A unit not in the notice's attachment (e.g. a new bureau after a reorganisation)."""
    name = (name or "").strip()
    errors: dict[str, str] = {}
    if not name or len(name) > 64:
        errors["name"] = "请填写单位名称（不超过64字）"
    elif session.scalar(select(Department.id).where(Department.name == name)):
        errors["name"] = "该单位已存在"
    if kind not in KIND_LABELS:
        errors["kind"] = "请选择单位类型"
    if errors:
        raise InvalidInput(errors)
    last = session.scalar(select(func.max(Department.sort_order))) or 0
    department = Department(name=name, kind=kind, task_force=task_force, active=True,
                            sort_order=last + 1)
    session.add(department)
    session.flush()
    return department


def set_department_active(session: Session, department_id: int, active: bool) -> Department:
    """Stop routing new cases to a unit (its open cases stay with it) or re-enable it."""
    department = session.get(Department, department_id)
    if department is None:
        raise NotFound("单位不存在")
    department.active = active
    return department


# -- the calendar as months ------------------------------------------------------------------


@dataclass(frozen=True)
class Month:
    year: int
    month: int
    weeks: list[list[DayInfo | None]]


def year_grid(calendar: WorkCalendar, year: int) -> list[Month]:
    """Twelve months of day infos, Monday first, ``None`` padding outside the month."""
    months = []
    for month in range(1, 13):
        weeks = []
        for week in month_calendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
            weeks.append([calendar.info(d) if d.month == month else None for d in week])
        months.append(Month(year, month, weeks))
    return months


def parse_year(raw: str | None, default: int) -> int:
    try:
        year = int(raw or default)
    except ValueError:
        return default
    return year if 2000 <= year <= 2100 else default


# -- flows as layers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Edge:
    label: str
    target: str


@dataclass(frozen=True)
class LaidOutNode:
    node: Node
    edges: list[Edge]


def flow_layers(flow: Flow) -> list[list[LaidOutNode]]:
    """Nodes by distance from the start (breadth first); unreachable nodes last."""
    depth: dict[str, int] = {flow.start: 0} if flow.start in flow.nodes else {}
    queue = deque(depth)
    while queue:
        current = queue.popleft()
        for _label, target in flow.nodes[current].targets():
            if target in flow.nodes and target not in depth:
                depth[target] = depth[current] + 1
                queue.append(target)
    last = max(depth.values(), default=-1) + 1
    layers: dict[int, list[LaidOutNode]] = {}
    for node in flow.nodes.values():
        edges = []
        for label, target in node.targets():
            option = node.options.get(label)
            text = f"按{label} {option.label}".strip() if option and option.label else (
                f"按{label}" if option else ("继续" if label == "next" else label))
            edges.append(Edge(text, target))
        layers.setdefault(depth.get(node.id, last), []).append(LaidOutNode(node, edges))
    return [layers[k] for k in sorted(layers)]

