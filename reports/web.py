"""``APP_HOOKS`` entry: report settings from the environment, the CJK font check."""

from __future__ import annotations

from flask import Flask

from reports.settings import from_env


def init_app(app: Flask) -> None:
    """Fill ``REPORTS_*`` settings not given explicitly; warn when charts lack a CJK font."""
    for key, value in from_env().items():
        app.config.setdefault(key, value)
    if not app.config.get("TESTING"):
        from reports.charts import warn_if_no_cjk_font

        warn_if_no_cjk_font()
