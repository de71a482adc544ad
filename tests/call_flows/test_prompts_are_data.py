"""Caller-visible text is data: the engine says it as it is, never formats it.

Only prompts of flow files are templates (``{office_hours}``), filled once when the engine is
built. What hooks hand over (replies, names, article answers) may hold braces, ``%``, XML
metacharacters or characters XML cannot carry; none of it may raise, change the TwiML's
shape or grow it without bound.
"""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from call_flows.engine import MAX_SAY_CHARS, SAY_CUT, FlowEngine, VoiceSettings, speakable
from call_flows.flow import load_flows
from call_flows.hooks import CallContext, HookResult, default_registry

BASE = "https://hotline.example.test"
NASTY = ["{", "}", "{0}", "{x:>30000000}", "{office_hours}", "{rating_options}", "%", "%s",
         "%(x)s", "%d", "<", ">", "&", "&amp;", '"', "'", "]]>", "<![CDATA[", "<Say>", "\x00",
         "\x1b", "\ufffe", "\ud800", "\n", "\t", " "]
caller_text = st.lists(st.one_of(st.sampled_from(NASTY), st.characters()),
                       min_size=1, max_size=60).map("".join)


def engine_saying(text: str) -> FlowEngine:
    """The hotline flow whose greeting hook (``caller_open_cases``) says ``text``."""
    registry = default_registry()
    registry.hook("caller_open_cases")(lambda _ctx, _digits: HookResult(prompts=[text]))
    settings = VoiceSettings(base_url=BASE, variables={"office_hours": "08:30至12:00"})
    return FlowEngine(load_flows(), registry, settings)


def call_context() -> CallContext:
    return CallContext(call_sid="CA1", from_number="+8613800138000",
                       now=datetime(2026, 11, 24, 2, tzinfo=UTC),
                       services={"office_open": lambda _at: False})


def shape(doc: etree._Element) -> list[tuple[str, dict[str, str]]]:
    """Every element's tag and attributes, in document order: everything but spoken text."""
    return [(el.tag, dict(el.attrib)) for el in doc.iter()]


def answer(text: str) -> etree._Element:
    result = engine_saying(text).start("hotline", call_context())
    return etree.fromstring(str(result).encode("utf-8"))


PLAIN = shape(answer("您有1件诉求正在办理中。"))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=caller_text)
def test_any_hook_text_is_said_verbatim_and_keeps_the_shape(text: str) -> None:
    spoken = speakable(text)
    doc = answer(text)
    if spoken:
        assert shape(doc) == PLAIN
        assert doc.xpath("/Response/Say[2]")[0].text == spoken
    else:  # nothing sayable: no empty <Say>, the rest unchanged
        assert shape(doc) == [item for i, item in enumerate(PLAIN) if i != 2]


def test_format_syntax_in_a_reply_is_neither_run_nor_expanded() -> None:
    doc = answer("最新办理进展：请于{0}前到窗口办理{x:>30000000}，%s，工作时间{office_hours}。")
    said = doc.xpath("/Response/Say[2]")[0].text
    assert said == "最新办理进展：请于{0}前到窗口办理{x:>30000000}，%s，工作时间{office_hours}。"


def test_every_say_is_bounded() -> None:
    doc = answer("办理进展" * 10_000)
    said = doc.xpath("/Response/Say[2]")[0].text
    assert len(said) == MAX_SAY_CHARS and said.endswith(SAY_CUT)


def test_flow_templates_are_filled_once_from_the_settings() -> None:
    engine = engine_saying("")
    result = engine.advance("hotline", "service_desk", "enter", call_context())
    assert "人工服务时间为工作日08:30至12:00。" in str(result)
