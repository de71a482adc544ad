"""Seeding the notice's member units (attachment 2) as departments; idempotent."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import ApiToken
from api.tokens import create_token
from cases.departments import DEPARTMENTS
from cases.models import Department
from cases.vocab import Channel
from core.db import utcnow


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


DEMO_TOKEN_NAME = "演示令牌（公共服务平台）"


def seed_demo_api_token(session: Session) -> str:
    """A demo API token for the web platform; its plaintext can be shown only when created."""
    exists = session.scalar(select(ApiToken.id).where(ApiToken.name == DEMO_TOKEN_NAME,
                                                      ApiToken.revoked_at.is_(None)))
    if exists:
        return "demo API token: exists (shown only when created; `flask api-tokens create`)"
    _row, plaintext = create_token(session, Channel.WEB_PLATFORM, DEMO_TOKEN_NAME, now=utcnow())
    return f"demo API token (web_platform, shown once): {plaintext}"


def seed_reference_data(session: Session, demo: bool) -> str:
    created = seed_departments(session)
    line = f"departments: {created} new, {len(DEPARTMENTS)} in all"
    if demo:
        line += "\n" + seed_demo_api_token(session)
    return line
