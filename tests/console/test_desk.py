"""坐席工作台 without a browser: presence, device and skills, the screen pop, wrap-up,
callbacks, the softphone token, 实时监控's data and both live streams' first events."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import jwt
import pytest
from sqlalchemy import select

from callqueue.models import Agent, EntryKind, EntryStatus, Offer, WrapUp
from callqueue.presence import State
from cases.enterprises import register_enterprise
from cases.intake import file_case
from cases.vocab import Channel
from console.models import User
from core.db import db
from ivr.models import Call
from knowledge.models import Article, ArticleState
from tests.conftest import QUEUE_ACCOUNT_SID
from tests.console.conftest import OPERATOR
from tests.queue_desk import entry_of

CALLER = "+8613812345678"


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config.update(TWILIO_ACCOUNT_SID=QUEUE_ACCOUNT_SID)
    return app_config


def user_named(username: str) -> User:
    return db.session.scalars(select(User).where(User.username == username)).one()


def caller_reaches_the_queue(twilio_post: Any, sid: str = "CA" + "1" * 32,
                             number: str = CALLER) -> None:
    params = {"AccountSid": QUEUE_ACCOUNT_SID, "CallSid": sid, "From": number,
              "To": "+8657488888718", "CallStatus": "in-progress"}
    twilio_post("/ivr/voice", {**params, "CallStatus": "ringing"})
    twilio_post("/ivr/flow/hotline/main_menu?event=gather", {**params, "Digits": "1"})
    twilio_post("/ivr/flow/hotline/factor_menu?event=gather&cat=factor", {**params, "Digits": "5"})


def test_an_operator_sets_device_skills_and_presence(client, accounts, sign_in, clock):
    sign_in(accounts.operator)
    page = client.get("/console/desk").get_data(as_text=True)
    assert "离线" in page and "接听设备" in page
    refused = client.post("/console/desk/presence", data={"state": "idle"},
                          follow_redirects=True).get_data(as_text=True)
    assert "尚未设置接听设备" in refused
    saved = client.post("/console/desk/settings",
                        data={"device": "13800138000", "skills": ["factor", "policy"]})
    assert saved.status_code == 303
    agent = db.session.scalars(select(Agent).where(Agent.user_id == accounts.operator.id)).one()
    assert (agent.device, agent.skills) == ("+8613800138000", "factor,policy")
    client.post("/console/desk/presence", data={"state": "idle"})
    db.session.refresh(agent)
    assert agent.state == State.IDLE and agent.seen_at == clock.now
    bad = client.post("/console/desk/settings", data={"device": "sip:not a uri",
                                                      "skills": ["factor"]},
                      follow_redirects=True).get_data(as_text=True)
    assert "SIP 地址格式错误" in bad


def test_departments_cannot_take_calls(client, accounts, sign_in):
    sign_in(accounts.dept_a)
    assert client.get("/console/desk").status_code == 403


def test_the_screen_pop_shows_the_caller(app, client, accounts, sign_in, desk, twilio_post,
                                         clock):
    session = db.session()
    enterprise = register_enterprise(session, name="宁波示例机械有限公司", uscc=None,
                                     phones=[CALLER], now=clock.now).enterprise
    open_case = file_case(session, channel=Channel.WINDOW, description="厂房用电增容",
                          received_at=clock.now - timedelta(days=3), category="factor",
                          enterprise_id=enterprise.id, actor=OPERATOR, now=clock.now)
    session.add(Call(call_sid="CA" + "0" * 32, from_number=CALLER, started_at=clock.now
                     - timedelta(days=1), status="completed", reached_operator=True))
    session.commit()
    agent = desk.operator("op1")
    caller_reaches_the_queue(twilio_post)
    entry = entry_of("CA" + "1" * 32)
    assert entry.status == EntryStatus.OFFERED  # the device rings
    clock.now += timedelta(seconds=7)
    sign_in(user_named("op1"))
    pop = client.get(f"/console/desk/pop/{entry.id}").get_data(as_text=True)
    assert "+86138****5678" in pop and CALLER not in pop
    assert "宁波示例机械有限公司" in pop
    assert open_case.number in pop
    assert "要素保障 · 融资" in pop
    assert 'data-seconds="7"' in pop  # waited so far
    assert "要素保障" in pop and "登记诉求" in pop
    assert 'id="pop-panels"' in pop
    # The live transcript panel listens to this call's events (docs/live.md).
    assert "实时转写" in pop
    assert f'data-live-stream="/console/desk/calls/{entry.id}/stream"' in pop
    # The operator answers and is connected; 登记诉求 opens the call's case form, filled in.
    offer = db.session.scalars(select(Offer)).one()
    leg = {"AccountSid": QUEUE_ACCOUNT_SID, "CallSid": offer.operator_call_sid,
           "CallStatus": "in-progress"}
    answered = twilio_post(f"/ivr/queue/offer/{offer.id}/answer", leg).get_data(as_text=True)
    # The operator's leg streams the conversation under the caller's call.
    assert '<Start><Stream track="both_tracks"' in answered
    assert '<Parameter name="caller_call_sid" value="CA' + "1" * 32 + '"' in answered
    twilio_post(f"/ivr/queue/offer/{offer.id}/bridge",
                {"AccountSid": QUEUE_ACCOUNT_SID, "CallSid": "CA" + "1" * 32,
                 "QueueTime": "7", "DequeingCallSid": offer.operator_call_sid})
    opened = client.get(f"/console/desk/calls/{entry.id}/case")
    assert opened.status_code == 303 and "#file-case" in opened.headers["Location"]
    form = client.get(opened.headers["Location"].split("#")[0]).get_data(as_text=True)
    assert 'value="宁波示例机械有限公司"' in form
    # Another operator was never offered this caller: no pop for them.
    sign_in(accounts.operator)
    assert client.get(f"/console/desk/pop/{entry.id}").status_code == 404
    assert desk.agent(agent.id).state == State.ON_CALL


def test_wrap_up_outcome_lands_in_the_call_log(app, client, sign_in, desk, phone, clock):
    session = db.session()
    article = Article(title="融资担保办理指南", questions=["怎么申请融资担保"], answer="请到…",
                      state=ArticleState.PUBLISHED, version=1)
    session.add(article)
    session.commit()
    agent = desk.operator("op1")
    outcome = phone.call(keys=["4"])
    entry = entry_of(outcome.call_sid)
    assert desk.agent(agent.id).state == State.WRAP_UP
    sign_in(user_named("op1"))
    page = client.get("/console/desk").get_data(as_text=True)
    assert 'id="wrapup"' in page
    missing = client.post("/console/desk/wrapup", data={"entry_id": entry.id,
                                                        "outcome": "instant"},
                          follow_redirects=True).get_data(as_text=True)
    assert "即时答复需要引用一篇知识库条目" in missing
    client.post("/console/desk/wrapup", data={"entry_id": entry.id, "outcome": "instant",
                                              "article_id": article.id, "note": "已解答"})
    wrapup = db.session.scalars(select(WrapUp)).one()
    assert (wrapup.outcome, wrapup.article_id, wrapup.note) == ("instant", article.id, "已解答")
    assert desk.agent(agent.id).state == State.IDLE  # recording it ends the wrap-up
    call = db.session.scalars(select(Call).where(Call.call_sid == outcome.call_sid)).one()
    detail = client.get(f"/console/calls/{call.id}").get_data(as_text=True)
    assert "即时答复" in detail and "融资担保办理指南" in detail


def test_callback_requests_are_listed_and_closed(client, sign_in, desk, phone):
    desk.operator("op1", state=State.BREAK)
    outcome = phone.call(keys=["4", "1"])  # nobody on duty: 1 = callback
    callback = entry_of(outcome.call_sid, EntryKind.CALLBACK)
    sign_in(user_named("op1"))
    page = client.get("/console/desk").get_data(as_text=True)
    assert "待回电（1）" in page
    client.post(f"/console/desk/callbacks/{callback.id}/close", data={"reached": "1"})
    assert entry_of(outcome.call_sid, EntryKind.CALLBACK).status == EntryStatus.COMPLETED


def test_the_softphone_token_carries_a_voice_grant(app, client, sign_in, desk):
    app.config.update(TWILIO_API_KEY="SK" + "a" * 32, TWILIO_API_SECRET="secret-1-" + "s" * 32,
                      TWILIO_TWIML_APP_SID="AP" + "b" * 32,
                      TWILIO_VOICE_SDK_URL="https://sdk.example.cn/twilio.min.js")
    desk.operator("op1", device="client:op1-browser")
    sign_in(user_named("op1"))
    got = client.get("/console/softphone/token").get_json()
    claims = jwt.decode(got["token"], "secret-1-" + "s" * 32, algorithms=["HS256"])
    assert claims["iss"] == "SK" + "a" * 32 and claims["sub"] == QUEUE_ACCOUNT_SID
    grants = claims["grants"]
    assert grants["identity"] == "op1-browser"
    assert grants["voice"]["incoming"] == {"allow": True}
    assert grants["voice"]["outgoing"]["application_sid"] == "AP" + "b" * 32
    page = client.get("/console/desk")
    assert "script-src 'self' https://sdk.example.cn" in page.headers["Content-Security-Policy"]
    assert 'data-sdk="https://sdk.example.cn/twilio.min.js"' in page.get_data(as_text=True)


def test_no_softphone_token_for_a_phone_device(app, client, sign_in, desk):
    desk.operator("op1", device="+8613800138000")
    sign_in(user_named("op1"))
    assert client.get("/console/softphone/token").status_code == 404


def first_events(response: Any, count: int) -> list[tuple[str, dict[str, Any]]]:
    """The first ``count`` events of a live stream, then the stream is closed."""
    events: list[tuple[str, dict[str, Any]]] = []
    buffer = ""
    stream = response.response
    try:
        for chunk in stream:
            buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
            while "\n\n" in buffer:
                block, buffer = buffer.split("\n\n", 1)
                fields = dict(line.split(": ", 1) for line in block.splitlines()
                              if ": " in line and not line.startswith(":"))
                if "event" in fields:
                    events.append((fields["event"], json.loads(fields["data"])))
            if len(events) >= count:
                break
    finally:
        response.close()
    return events


def test_the_desk_stream_starts_with_presence_and_the_pop(app, client, sign_in, desk,
                                                          twilio_post):
    desk.operator("op1")
    caller_reaches_the_queue(twilio_post)
    entry = entry_of("CA" + "1" * 32)
    sign_in(user_named("op1"))
    response = client.get("/console/desk/stream", buffered=False)
    assert response.mimetype == "text/event-stream"
    (first, presence), (second, pop) = first_events(response, 2)
    assert (first, presence["state"], presence["label"]) == ("presence", "ringing", "振铃")
    assert (second, pop["entry_id"]) == ("pop", entry.id)


def test_streams_are_limited_per_process(app, client, sign_in, accounts):
    app.extensions["live_stream_slots"].__init__(0)  # no stream may open
    sign_in(accounts.supervisor)
    refused = client.get("/console/live/stream")
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "3"


def test_the_wallboard_data(app, client, sign_in, accounts, desk, phone, twilio_post):
    desk.operator("op1")
    phone.call(keys=["4"])
    sign_in(accounts.supervisor)
    data = client.get("/console/live/data").get_json()
    assert data["today"]["offered"] == data["today"]["answered"] == 1
    assert [o["label"] for o in data["operators"]] == ["话后整理"]
    assert data["by_state"]["话后整理"] == 1 and data["waiting"] == []
    page = client.get("/console/live").get_data(as_text=True)
    assert "实时监控" in page and 'id="today-offered">1<' in page
    response = client.get("/console/live/stream", buffered=False)
    ((name, snapshot),) = first_events(response, 1)
    assert name == "snapshot" and snapshot["today"]["answered"] == 1


def test_the_desk_stream_marks_the_operator_seen_while_others_write(app, client, sign_in,
                                                                      desk, clock, monkeypatch):
    # Regression: the stream's periodic "console open" mark read the operator and then wrote
    # in a plain transaction; on SQLite, a commit by anyone in between (a webhook) failed
    # the write at once with "database is locked", which ended the stream for good.
    import threading

    from console import live_stream
    from tests.sqlite_races import StaleSnapshots

    monkeypatch.setattr(live_stream, "KEEPALIVE_SECONDS", 0.5)  # hand back control often
    desk.operator("op1")
    sign_in(user_named("op1"))
    agent_id = db.session.scalars(select(Agent.id)).one()
    with db.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE desk_race (x INT)")
    db.session.rollback()  # the test's reads end here, as a request's would
    stop = threading.Event()

    def others_write() -> None:
        while not stop.is_set():
            with db.engine.begin() as conn:
                conn.exec_driver_sql("INSERT INTO desk_race VALUES (1)")
            stop.wait(0.02)

    def seen_at() -> Any:
        with db.engine.connect() as conn:
            return conn.execute(select(Agent.seen_at).where(Agent.id == agent_id)).scalar()

    other = threading.Thread(target=others_write, name="webhook-writer")
    main = threading.current_thread()
    response = client.get("/console/desk/stream", buffered=False)
    clock.now += timedelta(seconds=30)  # the next tick is due to mark the console open
    try:
        with StaleSnapshots(db.engine, watched=lambda: threading.current_thread() is main,
                            limit=1):
            other.start()
            for chunk_number, _chunk in enumerate(response.response):
                if seen_at() == clock.now or chunk_number > 40:
                    break
    finally:
        stop.set()
        other.join(10)
        response.close()
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE desk_race")
    assert seen_at() == clock.now
