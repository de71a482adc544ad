"""The caller's menu choice is evidence on its own: a night voicemail under 要素保障 → 土地厂房
suggests the land and planning unit before any transcript exists, and says why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from cases.case_models import Case
from cases.voicemail import transcript_ready
from core.db import db
from ivr.models import Recording
from routing.rules import suggest_from_menu
from tests.cases.factories import local


def test_menu_choice_alone_suggests_the_sub_areas_units() -> None:
    assert [s.department for s in suggest_from_menu("factor", "land")] == [
        "区自然资源规划分局", "区经信局", "开发区管委会"]
    assert all(s.keywords == [] for s in suggest_from_menu("factor", "land"))
    assert suggest_from_menu(None) == [] and suggest_from_menu("nonsense") == []


def test_night_voicemail_is_suggested_from_its_menu_choice(
        phone: Any, clock: Any, voicemail_wav: Path) -> None:
    clock.set_local("2026-11-27 22:30")
    phone.call(keys=["1", "1"], voicemail=voicemail_wav)  # 要素保障 → 土地厂房
    session = db.session()
    case = session.scalars(select(Case)).one()
    first = case.suggestions[0]
    assert (first.department_name, first.source, first.keywords, first.subcategory) == (
        "区自然资源规划分局", "menu", [], "land")
    # The transcript's words take over once they say something.
    recording = session.scalars(select(Recording)).one()
    transcript_ready(session, recording.id, "我们公司想咨询贷款融资的问题", 0.8,
                     now=local("2026-11-27 22:35"))
    session.commit()
    session.expire_all()
    top = session.scalars(select(Case)).one().suggestions[0]
    assert (top.department_name, top.source) == ("区金融发展服务中心", "transcript")


def test_the_case_page_shows_the_reason(client: Any, phone: Any, clock: Any,
                                        voicemail_wav: Path, accounts: Any, sign_in: Any) -> None:
    clock.set_local("2026-11-27 22:30")
    phone.call(keys=["1", "1"], voicemail=voicemail_wav)
    session = db.session()
    case = session.scalars(select(Case)).one()
    sign_in(accounts.operator)
    html = client.get(f"/console/cases/{case.id}").get_data(as_text=True)
    assert "依据来电按键：要素保障 → 土地厂房" in html


def test_the_case_page_shows_the_town_reason(client: Any, accounts: Any, sign_in: Any) -> None:
    from cases.enterprises import register_enterprise
    from tests.cases.factories import new_case

    session = db.session()
    enterprise = register_enterprise(session, name="宁波甲机械有限公司", town="溪口镇",
                                     now=local("2026-11-20 09:00")).enterprise
    case = new_case(session, local("2026-11-20 09:00"), enterprise_id=enterprise.id)
    session.commit()
    sign_in(accounts.operator)
    html = client.get(f"/console/cases/{case.id}").get_data(as_text=True)
    assert html.count("依据企业所在镇街：溪口镇") == 2  # the route form's option and the list
