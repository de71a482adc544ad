"""The queue's CLI: ``flask operators list|set-device|set-skills|presence`` and
``flask queue status --json`` (the exact shape of issue 20), and ``flask call`` with a
simulated operator."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from callqueue.models import Agent
from console.models import User
from core.db import db
from tests.queue_desk import entry_of


def account(username: str, role: str = "operator") -> User:
    user = User(username=username, display_name=f"{username}姓名", role=role,
                password_hash="x", active=True)
    db.session.add(user)
    db.session.commit()
    return user


def run(app: Any, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=list(args))


def test_operators_are_listed_set_up_and_signed_in(app: Any, clock: Any) -> None:
    account("op1")
    account("dept-x", role="supervisor")
    listed = run(app, "operators", "list", "--json")
    assert listed.exit_code == 0, listed.output
    (row,) = json.loads(listed.output)
    assert (row["username"], row["state"], row["device"]) == ("op1", "offline", None)
    assert row["skills"] == ["factor", "policy", "special", "other"]
    refused = run(app, "operators", "presence", "op1", "空闲")
    assert refused.exit_code != 0 and "尚未设置接听设备" in refused.output
    assert "接听设备：+8613800138000" in run(app, "operators", "set-device", "op1",
                                         "138 0013 8000").output
    assert "sip:8001@pbx.example.cn" in run(app, "operators", "set-device", "op1",
                                             "sip:8001@pbx.example.cn").output
    bad = run(app, "operators", "set-device", "op1", "hello")
    assert bad.exit_code != 0 and "接听设备应为" in bad.output
    assert "要素保障、政策咨询" in run(app, "operators", "set-skills", "op1",
                                   "政策咨询,factor").output
    unknown = run(app, "operators", "set-skills", "op1", "外卖")
    assert unknown.exit_code != 0 and "未知的服务领域" in unknown.output
    assert "op1：空闲" in run(app, "operators", "presence", "op1", "空闲").output
    assert "op1：小休" in run(app, "operators", "presence", "op1", "break").output
    wrong = run(app, "operators", "presence", "op1", "通话中")
    assert wrong.exit_code != 0 and "不能手动选择" in wrong.output
    agent = db.session.scalars(select(Agent).where(Agent.username == "op1")).one()
    db.session.refresh(agent)
    assert (agent.state, agent.skills, agent.device) == ("break", "factor,policy",
                                                         "sip:8001@pbx.example.cn")
    missing = run(app, "operators", "presence", "nobody", "空闲")
    assert missing.exit_code != 0 and "没有名为 nobody 的用户" in missing.output


def test_queue_status_json_has_the_documented_shape(app: Any, desk: Any, twilio_post: Any,
                                                    clock: Any) -> None:
    desk.operator("op1")
    desk.runtime.placer = None  # the device is not rung: op1 stays 振铃, the caller waits
    params = {"AccountSid": "AC1", "From": "+8613800000001", "To": "+8657488888718",
              "CallStatus": "in-progress"}
    for sid, area_key in (("CA" + "1" * 32, "4"), ("CA" + "2" * 32, "4")):
        twilio_post("/ivr/flow/hotline/main_menu?event=gather",
                    {**params, "CallSid": sid, "Digits": area_key})
        clock.now += timedelta(seconds=10)
    twilio_post("/ivr/queue/key", {**params, "CallSid": "CA" + "2" * 32, "Digits": "1"})
    result = run(app, "queue", "status", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {"waiting", "callbacks", "operators"}
    assert data["waiting"] == [{"call_sid": "CA" + "1" * 32, "area": "other", "position": 1,
                                "waited_seconds": 20}]
    (callback,) = data["callbacks"]
    assert (callback["call_sid"], callback["area"], callback["overdue"]) == (
        "CA" + "2" * 32, "other", False)
    assert data["operators"] == [{"username": "op1", "state": "ringing",
                                  "since": data["operators"][0]["since"]}]
    assert entry_of("CA" + "1" * 32).status == "offered"
    text = run(app, "queue", "status").output
    assert "排队 1 人" in text and "待回电 1 个" in text and "op1\t振铃" in text


def test_flask_call_with_a_simulated_operator(app: Any) -> None:
    result = run(app, "call", "--live", "--digits", "4", "--at", "2026-11-24 10:00",
                 "--operator", "sim1:3:45")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "模拟坐席 sim1 空闲" in out
    assert "☎ 进入排队 hotline-other" in out and "☎ 坐席 client:sim-sim1 接听" in out
    assert "☎ 已接通" in out and "感谢您的来电，再见。" in out
    sid = out.split("— call ")[1].split(" ")[0]
    entry = entry_of(sid)
    assert entry is not None and entry.status == "completed" and entry.talk_seconds == 45


def test_flask_call_presses_keys_while_waiting(app: Any) -> None:
    result = run(app, "call", "--live", "--digits", "4", "--at", "2026-11-24 10:00",
                 "--operator", "sim1:none", "--wait-keys", "40:1")
    assert result.exit_code == 0, result.output
    assert "☎ 等待中按键 1" in result.output and "已为您预约回电" in result.output
