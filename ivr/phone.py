"""A phone line in the terminal: plays Twilio's part against the hotline's webhooks.

It signs every request with the auth token exactly as Twilio does, follows
``<Gather>``/``<Redirect>``/``<Dial>``/``<Record>`` and ``<Enqueue>`` (through its
switchboard, ``ivr.switchboard``: the ``waitUrl`` loop, keys pressed while waiting,
``<Leave>``, simulated operators), fires the recording and status callbacks, and serves a
voicemail file over HTTP so it travels the real download path. It also answers the outbound
calls the hotline asks Twilio to place (:meth:`TerminalPhone.answer`).

Long on purpose: one caller's side of Twilio's protocol — the verbs it follows, the
callbacks it fires in Twilio's order and the recording it serves — reads best as one class;
the queue's own loop already lives in ``ivr.switchboard``.
"""

from __future__ import annotations

import http.server
import mimetypes
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests
from twilio.request_validator import RequestValidator

from ivr import simulated_time
from ivr.switchboard import CallerScript, Switchboard, VirtualClock

MAX_REQUESTS = 80


class Transport(Protocol):
    def post(self, url: str, params: dict[str, str], headers: dict[str, str]
             ) -> tuple[int, str]: ...


class InProcessTransport:
    """Sends requests straight into a Flask app (no server needed)."""

    def __init__(self, app: Any) -> None:
        self.client = app.test_client()

    def post(self, url: str, params: dict[str, str], headers: dict[str, str]
             ) -> tuple[int, str]:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        response = self.client.post(path, data=params, headers=headers)
        return response.status_code, response.get_data(as_text=True)


class HttpTransport:
    """Sends requests to a running server, e.g. ``make run``'s."""

    def __init__(self, base_url: str, timeout: float = 15.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.timeout = timeout

    def post(self, url: str, params: dict[str, str], headers: dict[str, str]
             ) -> tuple[int, str]:
        response = self.session.post(url, data=params, timeout=self.timeout, headers=headers)
        return response.status_code, response.text


class _FileHandler(http.server.BaseHTTPRequestHandler):
    payload: bytes = b""
    content_type: str = "audio/wav"
    served: threading.Event

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", self.content_type)
        self.send_header("Content-Length", str(len(self.payload)))
        self.end_headers()
        self.wfile.write(self.payload)
        self.served.set()

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return


class RecordingServer:
    """Serves one audio file on 127.0.0.1 for as long as the recording may be fetched."""

    def __init__(self, path: Path) -> None:
        self.served = threading.Event()
        handler = type("Handler", (_FileHandler,), {
            "payload": path.read_bytes(),
            "content_type": mimetypes.guess_type(path.name)[0] or "application/octet-stream",
            "served": self.served,
        })
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()
        self.duration = audio_duration(path)

    def url(self, recording_sid: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}/Recordings/{recording_sid}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _Message:
    """What the caller says at a ``<Record>``: served (:class:`RecordingServer`) from the
    moment it is recorded, so a call that never records starts no server (a polling thread
    per call adds up when a simulation keeps many calls open)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.server: RecordingServer | None = None

    def recorded(self) -> RecordingServer:
        if self.server is None:
            self.server = RecordingServer(self.path)
        return self.server

    def close(self) -> None:
        if self.server is not None:
            self.server.close()


@dataclass
class _Heard:
    """A TwiML body already fetched (the record action's answer), to be played next."""

    body: str


@dataclass
class CallOutcome:
    call_sid: str
    reason: str
    heard: list[str] = field(default_factory=list)
    pressed: list[str] = field(default_factory=list)
    requests: list[tuple[str, int]] = field(default_factory=list)
    recording_sid: str | None = None
    recording_url: str | None = None


def audio_duration(path: Path) -> int:
    """Whole seconds of audio (0 if unknown), as Twilio reports RecordingDuration."""
    try:
        from pydub import AudioSegment

        return round(len(AudioSegment.from_file(path)) / 1000)
    except Exception:
        return 0


class TerminalPhone:
    """Plays a caller and Twilio at once."""

    def __init__(self, *, transport: Transport, base_url: str, auth_token: str,
                 account_sid: str, echo: Callable[[str], None] = print,
                 simulated_at: datetime | None = None,
                 switchboard: Switchboard | None = None) -> None:
        self.transport = transport
        self.base_url = base_url.rstrip("/")
        self.auth_token = auth_token
        self.validator = RequestValidator(auth_token)
        # ``flask call --at`` against a running local server (ivr.simulated_time).
        self.simulated_at = simulated_at
        self.account_sid = account_sid
        self.echo = echo
        # Plays the queue and the operators. Without one given, waiting takes real time
        # (against a server's own clock), or moves the simulated time of ``--at``.
        self.switchboard = switchboard or Switchboard(
            VirtualClock(simulated_at or datetime.now(UTC)), self.signed_post,
            account_sid=account_sid, echo=echo, real_time=simulated_at is None)

    def _headers(self, url: str, params: dict[str, str]) -> dict[str, str]:
        headers = {"X-Twilio-Signature": self.sign(url, params)}
        if self.simulated_at is not None:
            # The call's time moves on while it waits in the queue: the switchboard's clock.
            headers[simulated_time.HEADER] = simulated_time.header_value(
                self.auth_token, params.get("CallSid", ""), self.switchboard.now())
        return headers

    def signed_post(self, url: str, params: dict[str, str]) -> str:
        """POST one signed request (for the switchboard's own requests)."""
        status, body = self.transport.post(url, params, self._headers(url, params))
        if status >= 400:
            raise RuntimeError(f"{url} answered HTTP {status}: {body[:200]}")
        return body

    def sign(self, url: str, params: dict[str, str]) -> str:
        return self.validator.compute_signature(url, params)

    def _post(self, outcome: CallOutcome, url: str, params: dict[str, str]) -> str:
        status, body = self.transport.post(url, params, self._headers(url, params))
        outcome.requests.append((url, status))
        if status >= 400:
            raise RuntimeError(f"{url} answered HTTP {status}: {body[:200]}")
        return body

    def call(
        self,
        *,
        from_number: str = "+8613800138000",
        to_number: str = "+8657488888718",
        keys: list[str] | None = None,
        voicemail: Path | None = None,
        operator_answers: bool = False,
        call_sid: str | None = None,
        wait_for_fetch: float = 0.0,
        queue: CallerScript | None = None,
    ) -> CallOutcome:
        """Place one call; ``keys`` are pressed one per ``<Gather>``, then silence.

        In a queue, ``queue`` says which keys are pressed when, and when the caller gives
        up (hangs up); the switchboard's simulated operators answer (or not).
        """
        call_sid = call_sid or "CA" + uuid.uuid4().hex
        outcome = CallOutcome(call_sid=call_sid, reason="hung up")
        script = queue or CallerScript()
        pending = list(keys or [])
        base = {
            "AccountSid": self.account_sid, "CallSid": call_sid, "From": from_number,
            "To": to_number, "Direction": "inbound", "ApiVersion": "2010-04-01",
        }
        message = _Message(voicemail) if voicemail else None
        started = self.switchboard.now()
        try:
            body = self._post(outcome, f"{self.base_url}/ivr/voice",
                              {**base, "CallStatus": "ringing"})
            self._converse(body, base, pending, outcome, message, operator_answers,
                           script=script)
            elapsed = (self.switchboard.now() - started).total_seconds()
            duration = str(max(1, round(elapsed)))
            self._post(outcome, f"{self.base_url}/ivr/status",
                       {**base, "CallStatus": "completed", "CallDuration": duration})
            if message and message.server and outcome.recording_sid and wait_for_fetch > 0:
                self.echo("… waiting for the hotline to fetch the recording")
                if not message.server.served.wait(wait_for_fetch):
                    self.echo("… the recording was not fetched in time")
        finally:
            if message:
                message.close()
        return outcome

    def answer(
        self,
        *,
        url: str,
        status_callback: str | None,
        to_number: str,
        from_number: str = "+8657488888718",
        call_sid: str | None = None,
        keys: list[str] | None = None,
        answered_by: str = "human",
        call_status: str = "completed",
        recording: Path | None = None,
        hang_up_after: int | None = None,
    ) -> CallOutcome:
        """Answer an outbound call the hotline asked Twilio to place (``calls.create``).

        ``url`` and ``status_callback`` are what the hotline passed to Twilio. With
        ``call_status`` ``busy``/``no-answer``/``failed`` nobody picks up: only the status
        callback fires. Otherwise Twilio fetches ``url`` (``AnsweredBy`` as answering-machine
        detection found: ``human``, ``machine_start``…), the callee presses ``keys`` (and
        speaks ``recording`` at a ``<Record>``), hangs up after ``hang_up_after`` requests
        if given, and the status callback reports the end of the call.
        """
        call_sid = call_sid or "CA" + uuid.uuid4().hex
        outcome = CallOutcome(call_sid=call_sid, reason="hung up")
        base = {
            "AccountSid": self.account_sid, "CallSid": call_sid, "From": from_number,
            "To": to_number, "Direction": "outbound-api", "ApiVersion": "2010-04-01",
        }
        message = _Message(recording) if recording else None
        started = time.monotonic()
        try:
            if call_status == "completed":
                self.echo(f"☎ 来电 {from_number} → 接听（{answered_by}）")
                body = self._post(outcome, url, {**base, "CallStatus": "in-progress",
                                                 "AnsweredBy": answered_by})
                self._converse(body, {**base, "AnsweredBy": answered_by}, list(keys or []),
                               outcome, message, False, hang_up_after=hang_up_after)
            else:
                outcome.reason = call_status
                self.echo(f"☎ 来电 {from_number} → {call_status}")
            if status_callback:
                final = {**base, "CallStatus": call_status,
                         "CallDuration": str(max(1, round(time.monotonic() - started)))
                         if call_status == "completed" else "0"}
                if call_status == "completed":
                    final["AnsweredBy"] = answered_by
                self._post(outcome, status_callback, final)
        finally:
            if message:
                message.close()
        return outcome

    def _converse(self, body: str, base: dict[str, str], pending: list[str],
                  outcome: CallOutcome, message: _Message | None, operator_answers: bool,
                  *, hang_up_after: int | None = None, script: CallerScript | None = None
                  ) -> None:
        """Follow the TwiML until the call ends (or the caller hangs up)."""
        start = len(outcome.requests)
        while len(outcome.requests) < MAX_REQUESTS:
            if hang_up_after is not None and len(outcome.requests) - start >= hang_up_after:
                outcome.reason = "hung up by the caller"
                self.echo("☎ 挂机")
                return
            step = self._play(body, base, pending, outcome, message, operator_answers,
                              script or CallerScript())
            if step is None:
                return
            if isinstance(step, _Heard):
                body = step.body
                continue
            url, params = step
            body = self._post(outcome, url, params)
        outcome.reason = f"stopped after {MAX_REQUESTS} requests"

    def _play(self, body: str, base: dict[str, str], pending: list[str], outcome: CallOutcome,
              message: _Message | None, operator_answers: bool, script: CallerScript
              ) -> tuple[str, dict[str, str]] | _Heard | None:
        """Act out one TwiML document; return the next request Twilio would make, if any."""
        try:
            root = ET.fromstring(body)
        except ET.ParseError as exc:
            raise RuntimeError(f"not TwiML: {body[:200]!r}") from exc
        live = {**base, "CallStatus": "in-progress"}
        for verb in root:
            if verb.tag == "Say":
                self._hear(outcome, verb.text or "")
            elif verb.tag == "Play":
                self._hear(outcome, f"[播放 {verb.text}]")
            elif verb.tag == "Pause":
                continue
            elif verb.tag == "Gather":
                for child in verb:
                    if child.tag == "Say":
                        self._hear(outcome, child.text or "")
                if not pending:
                    self.echo("   (…silence)")
                    continue  # Twilio falls through to the next verb
                key = pending.pop(0)
                finish = verb.get("finishOnKey", "#")
                digits = key[:-1] if finish and key.endswith(finish) else key
                outcome.pressed.append(key)
                self.echo(f"☎ 按键 {key}")
                return verb.get("action", ""), {**live, "Digits": digits}
            elif verb.tag == "Redirect":
                return (verb.text or "").strip(), live
            elif verb.tag == "Dial":
                targets = ", ".join((c.text or "").strip() for c in verb)
                status = "completed" if operator_answers else "no-answer"
                self.echo(f"☎ 转接 {targets} → {status}")
                params = {**live, "DialCallStatus": status,
                          "DialCallDuration": "30" if operator_answers else "0"}
                if verb.get("action"):
                    return verb.get("action", ""), params
                continue
            elif verb.tag == "Enqueue":
                answered = self.switchboard.wait_in_queue(
                    verb, live, script, lambda text: self._hear(outcome, text))
                if answered is None:
                    outcome.reason = "hung up while waiting"
                    return None
                return _Heard(answered)
            elif verb.tag == "Record":
                if message is None:
                    self.echo("   (…no message, silence)")
                    continue  # Twilio skips the action when nothing was recorded
                return self._record(verb, live, outcome, message.recorded())
            elif verb.tag == "Hangup":
                outcome.reason = "hung up by the hotline"
                return None
            elif verb.tag == "Reject":
                outcome.reason = "rejected"
                return None
        outcome.reason = "end of TwiML"
        return None

    def _record(self, verb: ET.Element, live: dict[str, str], outcome: CallOutcome,
                server: RecordingServer) -> _Heard:
        sid = "RE" + uuid.uuid4().hex
        url = server.url(sid)
        duration = str(server.duration)
        outcome.recording_sid, outcome.recording_url = sid, url
        self.echo(f"🎙 留言已录制 {sid}")
        recording = {**live, "RecordingSid": sid, "RecordingUrl": url,
                     "RecordingDuration": duration, "Digits": "#"}
        callback = verb.get("recordingStatusCallback")
        action = verb.get("action", "")
        body = self._post(outcome, action, recording) if action else ""
        if callback:
            self._post(outcome, callback, {
                "AccountSid": live["AccountSid"], "CallSid": live["CallSid"],
                "RecordingSid": sid, "RecordingUrl": url, "RecordingStatus": "completed",
                "RecordingDuration": duration, "RecordingChannels": "1",
                "RecordingSource": "RecordVerb",
            })
        # The action's answer is what the caller hears next.
        return _Heard(body)

    def _hear(self, outcome: CallOutcome, text: str) -> None:
        text = " ".join(text.split())
        outcome.heard.append(text)
        self.echo(f"🔊 {text}")
