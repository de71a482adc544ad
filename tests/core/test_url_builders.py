"""The suite's cache of werkzeug's URL builders (tests/url_builders.py) builds as werkzeug does."""

from __future__ import annotations

from flask import Flask, url_for
from werkzeug.routing.rules import Rule

from tests import url_builders


def _app() -> Flask:
    app = Flask("builders")
    app.add_url_rule("/case/<int:n>", "by_id", lambda n: "")
    app.add_url_rule("/file/<path:n>", "by_path", lambda n: "")
    def page(n: int) -> str:
        return ""

    app.add_url_rule("/page/", "page", page, defaults={"n": 1})
    app.add_url_rule("/page/<int:n>", "page", page)
    return app


def _urls(app: Flask) -> list[str]:
    with app.test_request_context():
        return [url_for("by_id", n=7), url_for("by_path", n="a/b c"), url_for("page", n=1),
                url_for("page", n=2), url_for("by_id", n=7, q="x y"),
                url_for("by_id", n=7, _external=True)]


def test_the_cache_is_in_place_with_this_werkzeug() -> None:
    assert url_builders.install()
    assert getattr(Rule._compile_builder, "cached_by_the_suite", False)


def test_apps_sharing_compiled_builders_build_the_urls_werkzeug_builds(monkeypatch) -> None:
    url_builders.install()
    first, second = _urls(_app()), _urls(_app())
    monkeypatch.setattr(Rule, "_compile_builder", Rule._compile_builder.original)
    werkzeugs = _urls(_app())
    assert first == second == werkzeugs
    assert werkzeugs[:2] == ["/case/7", "/file/a/b%20c"]
