"""Article titles and spoken answers are data on the phone: said as written, any characters,
the TwiML's shape unchanged (the FAQ menu and an answer)."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from call_flows.engine import FlowEngine, VoiceSettings, speakable
from call_flows.flow import load_flows
from call_flows.hooks import CallContext
from knowledge import phone as kb_phone

BASE = "https://hotline.example.test"
NASTY = ["{", "}", "{0}", "{x:>30000000}", "{office_hours}", "%", "%s", "<", ">", "&", '"',
         "]]>", "\x00", "\ud800", "\n"]
text = st.lists(st.one_of(st.sampled_from(NASTY), st.characters()), min_size=1,
                max_size=40).map("".join).filter(lambda t: bool(speakable(t)))


def engine_with(title: str, answer: str) -> FlowEngine:
    from app import build_hooks

    flows = load_flows()
    article = kb_phone.PhoneArticle(1, title, answer, "other", None, 1)
    engine = FlowEngine(flows, build_hooks(),
                        VoiceSettings(base_url=BASE, variables={"office_hours": "08:30至12:00"}))
    engine.flows = {**engine.flows, "hotline": kb_phone.compose(engine.flows["hotline"],
                                                                [article])}
    return engine


def step(engine: FlowEngine, node: str, digits: str) -> etree._Element:
    ctx = CallContext(call_sid="CA1", from_number="+8613800138000",
                      now=datetime(2026, 11, 24, 2, tzinfo=UTC))
    result = engine.advance("hotline", node, "gather", ctx, digits=digits)
    return etree.fromstring(str(result).encode())


def shape(doc: etree._Element) -> list[tuple[str, dict[str, str]]]:
    return [(el.tag, dict(el.attrib)) for el in doc.iter()]


PLAIN = engine_with("热线服务时间", "本热线24小时受理。")
PLAIN_FAQ, PLAIN_ANSWER = shape(step(PLAIN, "main_menu", "2")), shape(step(PLAIN, "kb_faq", "1"))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=text, answer=text)
def test_any_title_and_answer_keep_the_menu_and_answer_well_formed(title: str,
                                                                   answer: str) -> None:
    engine = engine_with(title, answer)
    faq = step(engine, "main_menu", "2")
    assert shape(faq) == PLAIN_FAQ
    assert speakable(f"{kb_phone._speakable(title)}，请按1") in faq.xpath("string(//Gather/Say)")
    said = step(engine, "kb_faq", "1")
    assert shape(said) == PLAIN_ANSWER
    assert said.xpath("string(//Gather/Say)").startswith(speakable(answer))
