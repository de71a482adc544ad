"""The console blueprint with every page registered (``console.views:bp`` in app.py)."""

from __future__ import annotations

from console import (  # noqa: F401  (importing registers the routes)
    views_admin,
    views_auth,
    views_calllog,
    views_calls,
    views_cases,
    views_department,
    views_desk,
    views_duplicates,
    views_enterprises,
    views_kb,
    views_live,
    views_notifications,
    views_queue,
    views_queue_reports,
    views_reports,
    views_suggestions,
    views_supervisor,
)
from console.blueprint import ROUTE_ROLES, bp

__all__ = ["ROUTE_ROLES", "bp"]
