"""``flask speech extract`` and ``flask speech evaluate`` as a developer runs them."""

from __future__ import annotations

import json
from typing import Any

from cases.models import Enterprise
from core.db import db
from extraction.evaluate import GOALS, load_part
from routing.rules import CATEGORIES
from tests.cases.factories import local


def invoke(app: Any, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=list(args))


def test_extract_prints_every_field_as_json_with_registered_enterprises(app: Any) -> None:
    session = db.session()
    session.add(Enterprise(name="宁波奉化精工机械有限公司", town="萧王庙街道",
                           created_at=local("2026-11-01 09:00")))
    session.commit()
    text = ("喂你好我是奉化精工机械的陈经理我们厂老是停电电话幺三八零零幺三八零零幺"
            "座机零五七四八八五二三六七一")
    result = invoke(app, "speech", "extract", text, "--json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert set(found) == {"enterprise", "contact", "phones", "uscc", "area", "subarea", "town"}
    assert found["enterprise"]["value"] == "宁波奉化精工机械有限公司"
    assert found["enterprise"]["registered"] is True
    assert [p["value"] for p in found["phones"]] == ["13800138001", "057488523671"]
    assert found["area"]["value"] == "要素保障" and found["uscc"] is None
    for item in [found["enterprise"], found["contact"], *found["phones"], found["area"]]:
        assert 0 < item["confidence"] <= 1
        assert all(text[e["start"]:e["end"]] == e["text"] for e in item["evidence"])


def test_the_labelled_set_is_large_varied_and_split() -> None:
    development, heldout = load_part("development"), load_part("heldout")
    assert len(development) + len(heldout) >= 150 and len(heldout) >= 50
    assert not {v["id"] for v in development} & {v["id"] for v in heldout}
    for part in (development, heldout):
        assert {v["area"] for v in part} == set(CATEGORIES)  # every area
    texts = " ".join(v["text"] for v in development + heldout)
    for spoken in ("阿拉", "伐", "啥", "幺", "两", "有线公司", "经历"):  # as Vosk writes them
        assert spoken in texts


def test_evaluate_reports_both_parts_and_meets_the_goals(app: Any) -> None:
    result = invoke(app, "speech", "evaluate", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert set(report) == {"development", "heldout"}
    for part in report.values():
        assert part["phone_exact"] >= GOALS["phone_exact"]
        registered = part["enterprise_registered"]
        assert registered["precision"] >= GOALS["enterprise_registered_precision"]
        assert registered["recall"] >= GOALS["enterprise_registered_recall"]
        assert part["area_top1"] >= GOALS["area_top1"]
        for field in ("contact", "phones", "town", "subarea"):
            assert set(part[field]) >= {"precision", "recall"}
    text = invoke(app, "speech", "evaluate", "--part", "heldout")
    assert "== heldout: 60 voicemails" in text.output and "phone_exact" in text.output
