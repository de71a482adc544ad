"""The flow engine: one node and one input at a time, asserted with XPath on the TwiML."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lxml import etree

from call_flows.engine import FlowEngine, VoiceSettings
from call_flows.flow import load_flow_text, load_flows
from call_flows.hooks import CallContext, HookResult, default_registry

BASE = "https://hotline.example.test"


def make_engine(registry=None) -> FlowEngine:
    settings = VoiceSettings(base_url=BASE, operator_targets=("+8657400000001",),
                             variables={"office_hours": "08:30至12:00"})
    return FlowEngine(load_flows(), registry or default_registry(), settings)


def ctx(open_now: bool = True, **params: str) -> CallContext:
    return CallContext(
        call_sid="CA1", from_number="+8613800138000", now=datetime(2026, 11, 24, 2, tzinfo=UTC),
        params=dict(params), services={"office_open": lambda _at: open_now},
    )


def xml(result) -> etree._Element:
    return etree.fromstring(str(result.twiml).encode())


def test_start_greets_in_mandarin_then_gathers_one_key():
    doc = xml(make_engine().start("hotline", ctx()))
    greeting = doc.xpath("/Response/Say[1]")[0]
    assert "8718" in greeting.text
    assert greeting.get("language") == "cmn-CN"
    assert greeting.get("voice") == "Polly.Zhiyu"
    gather = doc.xpath("/Response/Gather")[0]
    assert gather.get("numDigits") == "1"
    assert gather.get("action") == f"{BASE}/ivr/flow/hotline/main_menu?event=gather"
    assert "要素保障" in gather.xpath("string(Say)")


def test_every_gather_is_followed_by_a_redirect():
    doc = xml(make_engine().start("hotline", ctx()))
    follower = doc.xpath("/Response/Gather/following-sibling::*[1]")[0]
    assert follower.tag == "Redirect"
    assert follower.text == f"{BASE}/ivr/flow/hotline/main_menu?event=timeout"


def test_key_1_opens_the_factor_submenu():
    result = make_engine().advance("hotline", "main_menu", "gather", ctx(), digits="1")
    doc = xml(result)
    assert "土地厂房请按1" in doc.xpath("string(/Response/Gather/Say)")
    assert result.last_node == "factor_menu"


def test_submenu_choice_sets_category_and_subcategory():
    result = make_engine().advance("hotline", "factor_menu", "gather", ctx(), digits="5")
    assert result.updates == {"category": "factor", "subcategory": "finance"}


def test_chosen_category_travels_in_the_action_urls():
    result = make_engine().advance("hotline", "factor_menu", "gather", ctx(open_now=False),
                                   digits="2")
    action = xml(result).xpath("/Response/Record/@action")[0]
    assert action.endswith("voicemail?event=record&cat=factor&sub=utilities")


def test_submenu_zero_goes_back_to_main_menu():
    result = make_engine().advance("hotline", "factor_menu", "gather", ctx(), digits="0")
    assert result.last_node == "main_menu"
    assert xml(result).xpath("/Response/Gather/@action")[0].endswith("main_menu?event=gather")


def test_star_repeats_the_menu():
    result = make_engine().advance("hotline", "main_menu", "gather", ctx(), digits="*")
    assert result.last_node == "main_menu"
    assert "要素保障" in xml(result).xpath("string(/Response/Gather/Say)")


def test_invalid_key_says_so_and_counts_in_the_action_url():
    doc = xml(make_engine().advance("hotline", "main_menu", "gather", ctx(), digits="7"))
    assert doc.xpath("string(/Response/Say[1])") == "您的输入有误。"
    assert doc.xpath("/Response/Gather/@action")[0].endswith("event=gather&inv=1")


def test_third_invalid_key_goes_to_voicemail():
    doc = xml(make_engine().advance("hotline", "main_menu", "gather", ctx(), digits="7",
                                    invalid=2))
    assert doc.xpath("/Response/Record")
    assert not doc.xpath("/Response/Gather")


def test_first_silence_repeats_the_menu():
    doc = xml(make_engine().advance("hotline", "main_menu", "timeout", ctx()))
    assert "没有听到" in doc.xpath("string(/Response/Say[1])")
    assert doc.xpath("/Response/Gather/@action")[0].endswith("event=gather&ni=1")


def test_second_silence_offers_voicemail():
    doc = xml(make_engine().advance("hotline", "main_menu", "timeout", ctx(), no_input=1))
    assert doc.xpath("/Response/Record")


def queue_registry(joined: HookResult | None = None, left: str = "answered"):
    """A registry whose queue hook queues every caller in ``hotline-<area>`` (or answers
    ``joined``) and says the caller left with ``left``."""
    registry = default_registry()
    calls: list[str | None] = []

    def queue_join(ctx: CallContext, queue_result: str | None) -> HookResult:
        calls.append(queue_result)
        if queue_result is None:
            return joined or HookResult(queue=f"hotline-{ctx.state.get('category')}")
        return HookResult(outcome=left)

    registry.hooks["queue_join"] = queue_join
    registry.queue_calls = calls  # type: ignore[attr-defined]
    return registry


def test_office_hours_put_the_caller_in_the_area_queue():
    doc = xml(make_engine(queue_registry()).advance(
        "hotline", "main_menu", "gather", ctx(open_now=True), digits="4"))
    enqueue = doc.xpath("/Response/Enqueue")[0]
    assert enqueue.text == "hotline-other"
    assert enqueue.get("action") == f"{BASE}/ivr/flow/hotline/operator?event=queue&cat=other"
    assert enqueue.get("waitUrl") == f"{BASE}/ivr/queue/wait"
    assert enqueue.get("waitUrlMethod") == "POST"
    assert "正在为您转接" in doc.xpath("string(/Response/Enqueue/preceding-sibling::Say[1])")


def test_nobody_on_duty_offers_a_callback_or_voicemail_at_once():
    doc = xml(make_engine(queue_registry(HookResult(outcome="unavailable"))).advance(
        "hotline", "main_menu", "gather", ctx(open_now=True), digits="4"))
    assert not doc.xpath("//Enqueue")
    assert "没有可以接听的工作人员" in doc.xpath("string(/Response/Say[last()])")
    assert "预约回电请按1" in doc.xpath("string(/Response/Gather/Say)")


def test_without_the_queue_package_nobody_is_on_duty():
    doc = xml(make_engine().advance("hotline", "main_menu", "gather", ctx(open_now=True),
                                    digits="4"))
    assert not doc.xpath("//Enqueue") and doc.xpath("/Response/Gather")


def test_operator_calls_stream_both_tracks_for_the_live_transcript():
    from call_flows import queue_twiml

    stream_url = "wss://hotline.example.test/live/stream"
    settings = VoiceSettings(base_url=BASE, live_stream_url=stream_url)
    # The queue: the operator's leg streams, naming the caller's call and the operator.
    answered = etree.fromstring(str(queue_twiml.operator_queue(
        settings, offer_id=7, area_label="其他", waited_seconds=30, queue="area-other",
        live=queue_twiml.LiveLeg("CAcaller", 12))).encode())
    stream = answered.xpath("/Response/Start/Stream")[0]
    assert (stream.get("url"), stream.get("track")) == (stream_url, "both_tracks")
    assert {p.get("name"): p.get("value") for p in stream.xpath("Parameter")} == {
        "caller_call_sid": "CAcaller", "leg": "operator", "agent_id": "12"}
    assert answered.xpath("/Response/Start/following-sibling::Dial/Queue")
    callback = etree.fromstring(str(queue_twiml.operator_callback(
        settings, offer_id=8, area_label="其他", target="+8613800138000",
        live=queue_twiml.LiveLeg("CAcaller2"))).encode())
    assert callback.xpath("/Response/Start/Stream/Parameter[@name='caller_call_sid']/@value") \
        == ["CAcaller2"]
    # A flow's own dial node streams the caller's leg (inbound is the caller).
    flow = load_flow_text("""
start: op
nodes:
  op: {type: dial, prompt: 转人工, next: bye, on_no_answer: bye}
  bye: {type: hangup}
""", name="direct")
    engine = FlowEngine({"direct": flow}, default_registry(),
                        VoiceSettings(base_url=BASE, operator_targets=("+8657400000001",),
                                      live_stream_url=stream_url))
    direct = xml(engine.start("direct", ctx()))
    assert direct.xpath("/Response/Start/Stream/@track") == ["both_tracks"]
    assert direct.xpath("/Response/Start/following-sibling::Dial")
    # Off (LIVE_STREAMS_MAX=0): no stream at all.
    off = VoiceSettings(base_url=BASE)
    plain = str(queue_twiml.operator_queue(off, offer_id=7, area_label="其他",
                                           waited_seconds=30, queue="q",
                                           live=queue_twiml.LiveLeg("CAcaller")))
    assert "<Stream" not in plain


def test_after_hours_go_to_voicemail_with_office_hours_prompt():
    doc = xml(make_engine().advance("hotline", "main_menu", "gather", ctx(open_now=False),
                                    digits="4"))
    assert "08:30至12:00" in doc.xpath("string(/Response/Say[1])")
    assert not doc.xpath("/Response/Dial")
    assert doc.xpath("/Response/Record")


def test_record_verb_has_the_voicemail_attributes():
    doc = xml(make_engine().advance("hotline", "main_menu", "gather", ctx(open_now=False),
                                    digits="4"))
    record = doc.xpath("/Response/Record")[0]
    assert record.get("maxLength") == "120"
    assert record.get("finishOnKey") == "#"
    assert record.get("playBeep") == "true"
    assert record.get("trim") == "trim-silence"
    assert record.get("recordingStatusCallback") == f"{BASE}/ivr/recording"
    assert record.get("recordingStatusCallbackEvent") == "completed"


def test_record_is_followed_by_a_redirect_for_callers_who_say_nothing():
    doc = xml(make_engine().advance("hotline", "main_menu", "gather", ctx(open_now=False),
                                    digits="4"))
    after = doc.xpath("/Response/Record/following-sibling::*")
    assert [e.tag for e in after] == ["Redirect"]
    assert after[0].text == f"{BASE}/ivr/flow/hotline/voicemail?event=empty&cat=other"


def test_empty_recording_says_goodbye():
    doc = xml(make_engine().advance("hotline", "voicemail", "empty", ctx()))
    assert "没有收到您的留言" in doc.xpath("string(/Response/Say)")
    assert doc.xpath("/Response/Hangup")


@pytest.mark.parametrize(("left", "expect"), [
    ("failed", "Record"), ("voicemail", "Record"), ("answered", "Hangup"), ("gone", "Hangup"),
])
def test_leaving_the_queue_goes_on_by_outcome(left: str, expect: str):
    registry = queue_registry(left=left)
    result = make_engine(registry).advance("hotline", "operator", "queue",
                                           ctx(QueueResult="leave"))
    assert xml(result).xpath(f"/Response/{expect}")
    assert registry.queue_calls == ["leave"]  # the hook heard Twilio's QueueResult


def test_answered_in_the_queue_ends_the_call_and_marks_operator_reached():
    result = make_engine(queue_registry(left="answered")).advance(
        "hotline", "operator", "queue", ctx(QueueResult="bridged"))
    assert "感谢您的来电" in xml(result).xpath("string(/Response/Say)")
    assert result.updates["reached_operator"] == "1"


def test_the_caller_hung_up_in_the_queue():
    result = make_engine(queue_registry(left="gone")).advance(
        "hotline", "operator", "queue", ctx(QueueResult="hangup"))
    assert [e.tag for e in xml(result)] == ["Hangup"]


def test_waited_too_long_offers_a_callback_or_voicemail():
    doc = xml(make_engine(queue_registry(left="timeout")).advance(
        "hotline", "operator", "queue", ctx(QueueResult="leave")))
    assert "仍在忙线中" in doc.xpath("string(/Response/Say[1])")
    gather = doc.xpath("/Response/Gather")[0]
    assert gather.get("action") == f"{BASE}/ivr/flow/hotline/queue_offer?event=gather"


def test_key_1_while_waiting_leads_to_the_callback_request():
    result = make_engine(queue_registry(left="callback")).advance(
        "hotline", "operator", "queue", ctx(QueueResult="leave"))
    assert "callback_request" in [e.node for e in result.events if e.kind == "enter"]
    # Without the queue package the request cannot be kept: the caller is sent to voicemail.
    assert xml(result).xpath("/Response/Record")


def test_record_action_thanks_and_hangs_up():
    result = make_engine().advance("hotline", "voicemail", "record",
                                   ctx(RecordingSid="RE1", RecordingDuration="12"))
    doc = xml(result)
    assert "留言已收到" in doc.xpath("string(/Response/Say[last()])")
    assert doc.xpath("/Response/Hangup")


def test_registered_voicemail_hook_speaks_before_the_closing_prompt():
    registry = default_registry()
    registry.hooks["voicemail_saved"] = lambda c, d: HookResult(prompts=["编号 1 2 3"])
    result = make_engine(registry=registry).advance("hotline", "voicemail", "record",
                                                    ctx(RecordingSid="RE1"))
    says = xml(result).xpath("/Response/Say/text()")
    assert says[0] == "编号 1 2 3"


def test_status_lookup_without_a_provider_says_it_is_unavailable():
    doc = xml(make_engine().advance("hotline", "status_lookup", "gather", ctx(),
                                    digits="2611270001"))
    assert "暂未开通" in doc.xpath("string(/Response/Say[1])")
    assert doc.xpath("/Response/Gather/@action")[0].endswith("main_menu?event=gather")


def test_status_lookup_gathers_until_hash():
    doc = xml(make_engine().advance("hotline", "main_menu", "gather", ctx(), digits="9"))
    gather = doc.xpath("/Response/Gather")[0]
    assert gather.get("finishOnKey") == "#"
    assert gather.get("numDigits") is None


def test_hook_rejecting_input_reprompts_with_an_invalid_count():
    registry = default_registry()
    registry.hooks["case_status"] = lambda c, d: HookResult(prompts=["未找到"], invalid=True)
    doc = xml(make_engine(registry=registry).advance("hotline", "status_lookup", "gather", ctx(),
                                                     digits="123"))
    assert doc.xpath("string(/Response/Say[1])") == "未找到"
    assert doc.xpath("/Response/Gather/@action")[0].endswith("status_lookup?event=gather&inv=1")


def test_audio_prompt_is_played_instead_of_said():
    flow = load_flow_text(
        """
start: a
nodes:
  a: {type: hangup, audio: "https://cdn.example/welcome.mp3"}
""",
        name="audio",
    )
    engine = FlowEngine({"audio": flow}, default_registry(), VoiceSettings(base_url=BASE))
    doc = xml(engine.start("audio", ctx()))
    assert doc.xpath("string(/Response/Play)") == "https://cdn.example/welcome.mp3"
    assert not doc.xpath("/Response/Say")


def test_unknown_event_is_an_error():
    with pytest.raises(ValueError):
        make_engine().advance("hotline", "main_menu", "bogus", ctx())


def test_apology_records_a_voicemail_without_any_flow():
    doc = etree.fromstring(str(FlowEngine.apology(VoiceSettings(base_url=BASE))).encode())
    assert "抱歉" in doc.xpath("string(/Response/Say[1])")
    assert doc.xpath("/Response/Record/@recordingStatusCallback") == [f"{BASE}/ivr/recording"]
    # Without an action Twilio would request the failing document again after the beep.
    assert doc.xpath("/Response/Record/@action") == [f"{BASE}/ivr/fallback?recorded=1"]


def test_a_menu_step_is_rendered_once_then_served_from_the_cache():
    engine = make_engine()
    first = engine.advance("hotline", "main_menu", "gather", ctx(), digits="1")
    again = engine.advance("hotline", "main_menu", "gather", ctx(), digits="1")
    assert str(again) is str(first)
    assert again.events == first.events and again.events is not first.events
    assert again.updates == first.updates and again.last_node == first.last_node == "factor_menu"


def test_cached_steps_keep_the_url_state_apart():
    engine = make_engine()
    state_a = ctx()
    state_a.state.update(category="factor")
    engine.advance("hotline", "factor_menu", "timeout", state_a)
    plain = engine.advance("hotline", "factor_menu", "timeout", ctx())
    assert "cat=factor" not in str(plain)


def test_a_step_through_a_condition_is_never_cached():
    engine = make_engine()
    open_doc = xml(engine.advance("hotline", "main_menu", "gather", ctx(True), digits="4"))
    closed_doc = xml(engine.advance("hotline", "main_menu", "gather", ctx(False), digits="4"))
    assert open_doc.xpath("/Response/Gather") and not open_doc.xpath("/Response/Record")
    assert closed_doc.xpath("/Response/Record")


def test_a_step_through_a_hook_runs_the_hook_every_time():
    registry = default_registry()
    calls: list[str | None] = []

    def lookup(_ctx: CallContext, digits: str | None) -> HookResult:
        calls.append(digits)
        return HookResult(prompts=["未找到"], invalid=True)

    registry.hooks["case_status"] = lookup
    engine = make_engine(registry=registry)
    for _ in range(2):
        engine.advance("hotline", "status_lookup", "gather", ctx(), digits="123")
    assert calls == ["123", "123"]


def test_hook_services_are_frozen_and_read_as_a_mapping() -> None:
    import dataclasses

    from call_flows.hooks import HookServices

    services = HookServices(tz=None, office_open=lambda _at: True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        services.tz = None  # type: ignore[misc]
    per_call = {**services, "call_id": 7}
    assert set(per_call) == {"office_open", "calendars", "tz", "queue", "call_id"}
    assert services.get("calendars") is None and services.get("nope") is None


def test_policy_and_special_service_keys_lead_to_their_sub_area_menus():
    policy = make_engine().advance("hotline", "main_menu", "gather", ctx(), digits="2")
    assert policy.last_node == "policy_menu" and policy.updates == {"category": "policy"}
    special = make_engine().advance("hotline", "special_menu", "gather", ctx(), digits="5")
    assert special.updates == {"category": "special", "subcategory": "public_service"}


def test_after_hours_nobody_is_told_about_recording():
    doc = xml(make_engine().advance("hotline", "main_menu", "gather", ctx(open_now=False),
                                    digits="4"))
    assert "录音" not in "".join(doc.xpath("//Say/text()"))


def test_a_hook_sends_the_call_to_the_node_of_the_role_it_names(tmp_path):
    from call_flows.roles import Role
    from tests.flow_copies import renamed_flow

    registry = default_registry()
    registry.hooks["case_status"] = lambda c, d: HookResult(next=Role.MAIN_MENU)
    engine = FlowEngine({"hotline": renamed_flow(tmp_path, "hotline", main_menu="root_menu")},
                        registry, VoiceSettings(base_url=BASE))
    result = engine.advance("hotline", "status_lookup", "gather", ctx(), digits="*")
    assert result.last_node == "root_menu"


def test_a_missing_optional_hook_falls_back_to_the_node_of_a_role(tmp_path):
    from tests.flow_copies import renamed_flow

    engine = FlowEngine({"hotline": renamed_flow(tmp_path, "hotline", voicemail="message")},
                        default_registry(), VoiceSettings(base_url=BASE))
    result = engine.advance("hotline", "queue_offer", "gather", ctx(), digits="1")
    assert result.last_node == "message"
    assert "暂时无法预约回电" in xml(result).xpath("string(/Response/Say[1])")
