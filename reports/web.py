"""``APP_HOOKS`` entry: the report settings are checked, and the CJK font."""

from __future__ import annotations

from flask import Flask

from reports.settings import check


def init_app(app: Flask) -> None:
    """Refuse unknown accountability rules; warn when charts lack a CJK font."""
    check(app.config)
    if not app.config.get("TESTING"):
        from reports.charts import warn_if_no_cjk_font

        warn_if_no_cjk_font()
