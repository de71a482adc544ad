"""TwiML of the call queue, besides the ``enqueue`` node itself: what a waiting caller hears
(``waitUrl``), what an operator hears on answering, and the words before they are connected.

Built from plain values by the queue's thin webhooks. The spoken texts are templates in
code; numbers and labels are inserted as data. A waiting cycle (announcement, about 28 s of
hold music, a 2 s pause for a key) lasts 35–45 s, so the position is said that often.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from twilio.twiml.voice_response import Dial, Gather, Start, VoiceResponse

from call_flows.engine import VoiceSettings

WAIT_KEYS = "预约回电请按1，我们将保留您的排队位置并尽快回电；立即留言请按2。"
CONNECTING = "正在为您接通工作人员，请稍候。"
BRIDGING = "正在为您接通工作人员。为保证服务质量，您的通话可能会被录音。"
OPERATOR_GONE = "来电已挂断。"
OPERATOR_SORRY = "抱歉，系统暂时无法接通来电。"
INVALID_KEY = "您的输入有误。"
HOLD_PAUSE_SECONDS = 2


def _say(verb: VoiceResponse | Gather, settings: VoiceSettings, text: str) -> None:
    verb.say(text, voice=settings.voice, language=settings.language)


def duration_text(seconds: int) -> str:
    """``95`` → ``1分35秒`` (how long someone waited, as said and shown)."""
    minutes, rest = divmod(max(0, seconds), 60)
    return f"{minutes}分{rest}秒" if minutes else f"{rest}秒"


def position_text(position: int, estimate_minutes: int | None) -> str:
    """The announcement: how many callers are ahead, and the estimate when there is one."""
    ahead = max(0, position - 1)
    text = f"您前面还有{ahead}位来电。" if ahead else "您是下一位，请稍候。"
    if estimate_minutes is not None:
        text += f"预计等待约{estimate_minutes}分钟。"
    return text


def wait(settings: VoiceSettings, *, position: int, estimate_minutes: int | None) -> VoiceResponse:
    """One waiting cycle: position (and estimate), the keys, hold music; then again."""
    response = VoiceResponse()
    gather = Gather(input="dtmf", num_digits=1, action=settings.queue_url("key"), method="POST",
                    timeout=HOLD_PAUSE_SECONDS, action_on_empty_result=False)
    _say(gather, settings, position_text(position, estimate_minutes) + WAIT_KEYS)
    gather.play(settings.queue_url("hold.wav"))
    response.append(gather)
    response.redirect(settings.queue_url("wait"), method="POST")
    return response


def wait_xml(settings: VoiceSettings, *, position: int, estimate_minutes: int | None) -> str:
    """:func:`wait` as the document sent, made once per position and estimate: every
    ``waitUrl`` request of every waiting caller asks for one of a few dozen such answers."""
    return _wait_xml(settings.base_url, settings.voice, settings.language, position,
                     estimate_minutes)


@functools.lru_cache(maxsize=512)
def _wait_xml(base_url: str, voice: str, language: str, position: int,
              estimate_minutes: int | None) -> str:
    # What wait() reads of the settings: the queue's URLs, the voice and the language.
    settings = VoiceSettings(base_url=base_url, voice=voice, language=language)
    return str(wait(settings, position=position, estimate_minutes=estimate_minutes))


def connecting(settings: VoiceSettings) -> VoiceResponse:
    """An operator's device is ringing for this caller: no keys, no position."""
    response = VoiceResponse()
    _say(response, settings, CONNECTING)
    response.play(settings.queue_url("hold.wav"))
    return response


def hold(settings: VoiceSettings) -> VoiceResponse:
    """Hold music and nothing else: a caller the queue does not know (or cannot look up now)
    keeps hearing valid TwiML and Twilio asks again when it ends."""
    response = VoiceResponse()
    response.play(settings.queue_url("hold.wav"))
    return response


def leave() -> VoiceResponse:
    """Out of the queue: Twilio requests the ``<Enqueue>`` action (the flow goes on)."""
    response = VoiceResponse()
    response.leave()
    return response


def key_again(settings: VoiceSettings) -> VoiceResponse:
    """A key that means nothing while waiting: say so and go on waiting."""
    response = VoiceResponse()
    _say(response, settings, INVALID_KEY)
    response.redirect(settings.queue_url("wait"), method="POST")
    return response


def _announce(area_label: str, waited_seconds: int, callback: bool) -> str:
    if callback:
        return f"8718热线回电任务，{area_label}，即将为您拨打来电人。"
    return f"8718热线来电，{area_label}，已等待{duration_text(waited_seconds)}。"


@dataclass(frozen=True)
class LiveLeg:
    """The operator's leg of a caller's call: its audio is streamed for the live transcript
    under the caller's call (``inbound`` on this leg is the operator speaking)."""

    caller_call_sid: str
    agent_id: int | None = None


def _live_stream(response: VoiceResponse, settings: VoiceSettings, live: LiveLeg | None) -> None:
    """``<Start><Stream track="both_tracks">`` with the caller's call as parameters; the
    conversation goes on whatever the stream does."""
    if live is None or not settings.live_stream_url:
        return
    start = Start()
    stream = start.stream(url=settings.live_stream_url, track="both_tracks")
    stream.parameter(name="caller_call_sid", value=live.caller_call_sid)
    stream.parameter(name="leg", value="operator")
    if live.agent_id is not None:
        stream.parameter(name="agent_id", value=str(live.agent_id))
    response.append(start)


def operator_queue(settings: VoiceSettings, *, offer_id: int, area_label: str,
                   waited_seconds: int, queue: str, live: LiveLeg | None = None
                   ) -> VoiceResponse:
    """The operator answered: announce the call, then take the caller from the area's
    queue (``<Dial><Queue>``), recording the conversation for the call log."""
    response = VoiceResponse()
    _say(response, settings, _announce(area_label, waited_seconds, False))
    _live_stream(response, settings, live)
    dial = _dial(settings, offer_id)
    dial.queue(queue, url=settings.queue_url(f"offer/{offer_id}/bridge"), method="POST")
    response.append(dial)
    return response


def operator_callback(settings: VoiceSettings, *, offer_id: int, area_label: str,
                      target: str, live: LiveLeg | None = None) -> VoiceResponse:
    """The operator answered a callback task: dial the caller's number."""
    response = VoiceResponse()
    _say(response, settings, _announce(area_label, 0, True))
    _live_stream(response, settings, live)
    dial = _dial(settings, offer_id, timeout=30)
    if target.startswith("sip:"):
        dial.sip(target)
    else:
        dial.number(target)
    response.append(dial)
    return response


def _dial(settings: VoiceSettings, offer_id: int, timeout: int = 10) -> Dial:
    return Dial(
        action=settings.queue_url(f"offer/{offer_id}/dialed"), method="POST",
        timeout=timeout, record="record-from-answer-dual",
        recording_status_callback=settings.queue_url(f"offer/{offer_id}/recording"),
        recording_status_callback_event="completed", recording_status_callback_method="POST",
        **({"caller_id": settings.caller_id} if settings.caller_id else {}),
    )


def operator_gone(settings: VoiceSettings) -> VoiceResponse:
    """The caller hung up before the operator picked up."""
    response = VoiceResponse()
    _say(response, settings, OPERATOR_GONE)
    response.hangup()
    return response


def operator_sorry(settings: VoiceSettings) -> VoiceResponse:
    response = VoiceResponse()
    _say(response, settings, OPERATOR_SORRY)
    response.hangup()
    return response


def bridging(settings: VoiceSettings) -> VoiceResponse:
    """Said to the queued caller just before the operator is connected."""
    response = VoiceResponse()
    _say(response, settings, BRIDGING)
    return response


def hang_up() -> VoiceResponse:
    response = VoiceResponse()
    response.hangup()
    return response


def empty() -> VoiceResponse:
    return VoiceResponse()
