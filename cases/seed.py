"""Seeding the notice's member units (attachment 2) as departments; idempotent."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.departments import DEPARTMENTS
from cases.models import Department


def seed_departments(session: Session) -> int:
    """Insert missing departments and refresh their kind/task-force flags; returns how many new."""
    existing = {d.name: d for d in session.scalars(select(Department))}
    created = 0
    for order, seed in enumerate(DEPARTMENTS, start=1):
        department = existing.get(seed.name)
        if department is None:
            session.add(
                Department(
                    name=seed.name, kind=seed.kind, task_force=seed.task_force, sort_order=order
                )
            )
            created += 1
        else:
            department.kind, department.task_force = seed.kind, seed.task_force
            department.sort_order = order
    return created


def seed_reference_data(session: Session, demo: bool) -> str:
    created = seed_departments(session)
    return f"departments: {created} new, {len(DEPARTMENTS)} in all"
