"""Turns (flow, node, event, input, context) into TwiML with twilio's ``VoiceResponse``.

The engine is pure: it reads the flow, the call context and the hooks, and returns the
TwiML plus the call-log events and call-state updates for the caller (``ivr``) to store.
Counters for timeouts and bad keys travel in the action URLs, so no state is kept here.

Long on purpose: the renderers and the event handlers are two dispatch tables over the same
node types; a node type's rendering and advancing are read side by side.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

from twilio.twiml.voice_response import Dial, Gather, Start, VoiceResponse

from call_flows.flow import REPEAT, Fallthrough, Flow, FlowError, Node
from call_flows.hooks import CallContext, HookRegistry, HookResult

# Chains of non-interactive nodes longer than this are a flow bug; stop rather than spin.
MAX_CHAIN = 25
SORRY_PROMPT = "抱歉，系统暂时无法处理您的请求。请在提示音后留言，我们会尽快与您联系。"
GOODBYE_PROMPT = "感谢您的来电，再见。"
INVALID_PROMPT = "您的输入有误。"
# Call state carried in action URLs: state key → query parameter. ``lookup_case`` is the
# case number key 9 asks the phone's last four digits for (never written to the call row).
STATE_PARAMS = {"category": "cat", "subcategory": "sub", "lookup_case": "lk"}
# The longest text one <Say> speaks (about four minutes of Mandarin). Hooks shorten what
# they read (and say where the rest is); this only stops a runaway text at the door.
MAX_SAY_CHARS = 1200
SAY_CUT = "……内容较长，以下从略。"
# Characters XML 1.0 cannot carry (C0 controls but tab/newline/CR, surrogates, U+FFFE/F).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def fill_template(template: str, variables: Mapping[str, str]) -> str:
    """A developer-written prompt with its ``{name}`` placeholders filled from settings.

    Only a bare ``{name}`` of a known variable is replaced, never a format spec or an
    attribute, and only templates from flow files come here: text from the database
    (replies, article answers, names) is said as it is (:func:`speakable`).
    """
    return _PLACEHOLDER.sub(lambda m: variables.get(m.group(1), m.group(0)), template)


def speakable(text: str) -> str:
    """Text as one ``<Say>`` speaks it: XML-safe, whitespace collapsed, bounded in length."""
    text = " ".join(_NOT_XML.sub(" ", text).split())
    if len(text) > MAX_SAY_CHARS:
        text = text[:MAX_SAY_CHARS - len(SAY_CUT)] + SAY_CUT
    return text


def _fill_node(node: Node, variables: Mapping[str, str]) -> Node:
    def fill(text: str | None) -> str | None:
        return fill_template(text, variables) if text else text

    def fill_rule(rule: Fallthrough | None) -> Fallthrough | None:
        return dataclasses.replace(rule, prompt=fill(rule.prompt)) if rule else rule

    return dataclasses.replace(node, prompt=fill(node.prompt),
                               no_input=fill_rule(node.no_input),
                               invalid=fill_rule(node.invalid))


def fill_flow(flow: Flow, variables: Mapping[str, str]) -> Flow:
    """``flow`` with every prompt's placeholders filled (once, when the engine is built)."""
    if not variables:
        return flow
    return dataclasses.replace(
        flow, nodes={node_id: _fill_node(node, variables) for node_id, node in flow.nodes.items()})


@dataclass(frozen=True)
class VoiceSettings:
    base_url: str
    voice: str = "Polly.Zhiyu"
    language: str = "cmn-CN"
    operator_targets: tuple[str, ...] = ()
    dial_timeout: int = 20
    caller_id: str | None = None
    voicemail_max_seconds: int = 120
    variables: dict[str, str] = field(default_factory=dict)
    # Operator calls also stream their audio here (both tracks) for the live transcript.
    live_stream_url: str | None = None

    def step_url(
        self, flow: str, node: str, event: str, state: dict[str, str] | None = None,
        **counters: int,
    ) -> str:
        """The action URL for ``node``; counters and the caller's choices travel in it.

        Carrying the call state in the URL (Twilio signs it) keeps menu steps independent
        of the database, so they can be answered without a read.
        """
        query: dict[str, str | int] = {"event": event}
        query.update({k: v for k, v in counters.items() if v})
        for key, param in STATE_PARAMS.items():
            if state and state.get(key):
                query[param] = state[key]
        return f"{self.base_url}/ivr/flow/{flow}/{node}?{urlencode(query)}"

    @property
    def recording_callback_url(self) -> str:
        return f"{self.base_url}/ivr/recording"

    def queue_url(self, path: str) -> str:
        """The queue's own webhooks (``waitUrl``, keys while waiting, the operator's leg)."""
        return f"{self.base_url}/ivr/queue/{path}"

    @property
    def fallback_recorded_url(self) -> str:
        """The action of the apology's ``<Record>`` (``/ivr/fallback``, message recorded)."""
        return f"{self.base_url}/ivr/fallback?recorded=1"


@dataclass
class LogEvent:
    kind: str
    node: str | None = None
    input: str | None = None
    detail: str | None = None


@dataclass
class StepResult:
    twiml: VoiceResponse
    events: list[LogEvent] = field(default_factory=list)
    updates: dict[str, str] = field(default_factory=dict)
    last_node: str | None = None
    # False once a hook ran or a condition was evaluated: the answer may differ next time.
    pure: bool = True
    # The TwiML as text, when it came from the step cache.
    rendered: str | None = None

    def __str__(self) -> str:
        return self.rendered if self.rendered is not None else str(self.twiml)


# Events whose answer depends only on the flow, the node, the input and the URL state
# (a dial or record result also depends on Twilio's parameters).
CACHEABLE_EVENTS = frozenset({"enter", "gather", "timeout", "empty"})
STEP_CACHE_SIZE = 4096


@dataclass
class _Counters:
    no_input: int = 0
    invalid: int = 0


@dataclass(frozen=True)
class _Visit:
    """One node being rendered into the response: what every node renderer needs."""

    flow: Flow
    node: Node
    ctx: CallContext
    result: StepResult
    counters: _Counters
    depth: int


def _leave_to(rule: Fallthrough | None, tries: int) -> str | None:
    """The node to leave for once ``tries`` reached the rule's limit; None to try again."""
    if rule and rule.target and tries >= rule.limit:
        return rule.target
    return None


def _next_node(flow: Flow, node: Node, hook_result: HookResult) -> str | None:
    """Where a hook sends the call: the node of the role it named, else the node's ``next``."""
    if hook_result.next is not None:
        return flow.node_for(hook_result.next).id
    return node.next


def _record(response: VoiceResponse, settings: VoiceSettings, *, max_length: int,
            action: str | None = None) -> None:
    """The ``<Record>`` verb of every voicemail: beep, ``#`` ends it, status called back."""
    response.record(
        **({"action": action, "method": "POST"} if action else {}),
        max_length=max_length,
        finish_on_key="#",
        play_beep=True,
        trim="trim-silence",
        recording_status_callback=settings.recording_callback_url,
        recording_status_callback_event="completed",
        recording_status_callback_method="POST",
    )


class FlowEngine:
    """Renders flows; one instance per app, shared across requests (it holds no call state)."""

    def __init__(self, flows: dict[str, Flow], hooks: HookRegistry,
                 settings: VoiceSettings,
                 refresh: Callable[[dict[str, Flow]], dict[str, Flow] | None] | None = None
                 ) -> None:
        # Prompts of flow files are templates: filled here, once; nodes added at run time
        # (the phone FAQ's articles) carry data and are never filled.
        self.flows = {name: fill_flow(flow, settings.variables) for name, flow in flows.items()}
        # The flows as the files say, without run-time changes: the same in every process
        # (the call figures read node roles from these).
        self.loaded_flows = dict(self.flows)
        self.hooks = hooks
        self.settings = settings
        # Flows that change at run time (the knowledge base's phone menu): called before
        # each step with the flows in use; returns new flows (validated) or None if unchanged.
        self.refresh = refresh
        # Menu steps without hooks or conditions, rendered once: most webhook requests are
        # these, and building their TwiML costs more than the rest of the answer.
        self._step_cache: dict[tuple[object, ...], StepResult] = {}
        self._renderers: dict[str, Callable[[_Visit], None]] = {
            "say": self._render_say,
            "hangup": self._render_hangup,
            "branch": self._render_branch,
            "hook": self._render_hook,
            "menu": self._render_gather,
            "input": self._render_gather,
            "dial": self._render_dial,
            "enqueue": self._render_enqueue,
            "record": self._render_record,
        }

    # -- entry points ---------------------------------------------------------------

    def _refresh_flows(self) -> None:
        if self.refresh is None:
            return
        changed = self.refresh(self.flows)
        if changed is not None:
            self.flows = changed
            self._step_cache.clear()  # rendered steps of the old flows

    def current_flows(self) -> dict[str, Flow]:
        """The flows callers get now, a run-time change (the phone menu) applied."""
        self._refresh_flows()
        return self.flows

    def start(self, flow_name: str, ctx: CallContext) -> StepResult:
        self._refresh_flows()
        flow = self._flow(flow_name)
        result = StepResult(VoiceResponse())
        self._enter(flow, flow.start, ctx, result, _Counters())
        return result

    def advance(
        self,
        flow_name: str,
        node_id: str,
        event: str,
        ctx: CallContext,
        *,
        digits: str | None = None,
        no_input: int = 0,
        invalid: int = 0,
    ) -> StepResult:
        """Handle a Twilio request that came back to ``node_id`` (gather, timeout, dial, record)."""
        self._refresh_flows()
        key = None
        if event in CACHEABLE_EVENTS:
            key = (flow_name, node_id, event, digits, no_input, invalid,
                   tuple(sorted(ctx.state.items())))
            cached = self._step_cache.get(key)
            if cached is not None:
                return StepResult(cached.twiml, list(cached.events), dict(cached.updates),
                                  cached.last_node, True, cached.rendered)
        result = self._advance(flow_name, node_id, event, ctx, digits, no_input, invalid)
        if key is not None and result.pure:
            if len(self._step_cache) >= STEP_CACHE_SIZE:
                self._step_cache.clear()
            result.rendered = str(result.twiml)
            self._step_cache[key] = result
        return result

    def _advance(self, flow_name: str, node_id: str, event: str, ctx: CallContext,
                 digits: str | None, no_input: int, invalid: int) -> StepResult:
        flow = self._flow(flow_name)
        node = flow.node(node_id)
        result = StepResult(VoiceResponse())
        counters = _Counters(no_input=max(0, no_input), invalid=max(0, invalid))
        handler = {
            "enter": self._on_enter,
            "gather": self._on_gather,
            "timeout": self._on_timeout,
            "dial": self._on_dial,
            "record": self._on_record,
            "empty": self._on_empty,
            "queue": self._on_queue,
        }.get(event)
        if handler is None:
            raise FlowError(f"unknown event {event!r}")
        handler(flow, node, ctx, result, counters, digits)
        return result

    @staticmethod
    def apology(settings: VoiceSettings) -> VoiceResponse:
        """Static TwiML for errors and Twilio's fallback URL: apologise, take a voicemail.

        The ``<Record>`` needs an action: without one Twilio requests the current document
        again once the message is recorded — the failing step, or the fallback URL, which
        would apologise and record once more. The action (:meth:`goodbye`) is static too.
        """
        response = VoiceResponse()
        response.say(SORRY_PROMPT, voice=settings.voice, language=settings.language)
        _record(response, settings, max_length=settings.voicemail_max_seconds,
                action=settings.fallback_recorded_url)
        response.say(GOODBYE_PROMPT, voice=settings.voice, language=settings.language)
        response.hangup()
        return response

    @staticmethod
    def goodbye(settings: VoiceSettings) -> VoiceResponse:
        """After the apology's voicemail: thank the caller and hang up (no database)."""
        response = VoiceResponse()
        response.say(GOODBYE_PROMPT, voice=settings.voice, language=settings.language)
        response.hangup()
        return response

    # -- event handlers ---------------------------------------------------------------

    def _on_enter(self, flow: Flow, node: Node, ctx: CallContext, result: StepResult,
                  counters: _Counters, digits: str | None) -> None:
        self._enter(flow, node.id, ctx, result, counters)

    def _on_gather(self, flow: Flow, node: Node, ctx: CallContext, result: StepResult,
                   counters: _Counters, digits: str | None) -> None:
        digits = (digits or "").strip()
        if not digits:
            self._on_timeout(flow, node, ctx, result, counters, digits)
            return
        result.events.append(LogEvent("input", node.id, digits))
        if node.type == "input":
            self._run_input_hook(flow, node, ctx, result, counters, digits)
            return
        option = node.options.get(digits)
        if option is None:
            self._invalid(flow, node, ctx, result, counters, digits)
            return
        result.updates.update(option.set)
        ctx.state.update(option.set)
        target = node.id if option.target == REPEAT else option.target
        self._enter(flow, target, ctx, result, _Counters())

    def _on_timeout(self, flow: Flow, node: Node, ctx: CallContext, result: StepResult,
                    counters: _Counters, digits: str | None) -> None:
        counters.no_input += 1
        result.events.append(LogEvent("timeout", node.id, None, f"no input #{counters.no_input}"))
        rule = node.no_input
        self._say(result.twiml, rule.prompt if rule else None)
        # A no-input limit counts the replays allowed: leave on the try after the last one.
        self._retry(flow, node, ctx, result, counters,
                    _leave_to(rule, counters.no_input - 1))

    def _invalid(self, flow: Flow, node: Node, ctx: CallContext, result: StepResult,
                 counters: _Counters, digits: str | None) -> None:
        counters.invalid += 1
        result.events.append(LogEvent("invalid", node.id, digits, f"invalid #{counters.invalid}"))
        rule = node.invalid
        self._say(result.twiml, (rule.prompt if rule else None) or INVALID_PROMPT)
        self._retry(flow, node, ctx, result, counters, _leave_to(rule, counters.invalid))

    def _on_dial(self, flow: Flow, node: Node, ctx: CallContext, result: StepResult,
                 counters: _Counters, digits: str | None) -> None:
        status = ctx.params.get("DialCallStatus", "")
        result.events.append(LogEvent("dial", node.id, None, status or "unknown"))
        if status == "completed":
            result.updates["reached_operator"] = "1"
            self._enter(flow, node.next or "", ctx, result, _Counters())
        else:
            self._enter(flow, node.on_no_answer or "", ctx, result, _Counters())

    def _on_queue(self, flow: Flow, node: Node, ctx: CallContext, result: StepResult,
                  counters: _Counters, digits: str | None) -> None:
        """The ``<Enqueue>`` action: the caller left the queue (Twilio's ``QueueResult``).

        The node's hook is called with the queue result and says how it ended: talked to an
        operator (``next``), one of the node's ``outcomes``, gone (hang up) or failed
        (``on_no_answer``).
        """
        queue_result = ctx.params.get("QueueResult", "") or "error"
        result.events.append(LogEvent("queue", node.id, None, queue_result))
        left = self._call_hook(node.hook or "", ctx, queue_result, result)
        self._apply_hook(left, result, ctx)
        outcome = left.outcome or "failed"
        if outcome == "gone":
            result.twiml.hangup()
            return
        if outcome == "answered":
            result.updates["reached_operator"] = "1"
            target = node.next
        else:
            target = node.outcomes.get(outcome) or node.on_no_answer
        self._enter(flow, target or "", ctx, result, _Counters())

    def _on_empty(self, flow: Flow, node: Node, ctx: CallContext, result: StepResult,
                  counters: _Counters, digits: str | None) -> None:
        result.events.append(LogEvent("timeout", node.id, None, "nothing recorded"))
        self._enter(flow, node.on_empty or node.next or "", ctx, result, _Counters())

    def _on_record(self, flow: Flow, node: Node, ctx: CallContext, result: StepResult,
                   counters: _Counters, digits: str | None) -> None:
        result.events.append(
            LogEvent("recorded", node.id, ctx.params.get("RecordingSid"),
                     f"{ctx.params.get('RecordingDuration', '?')}s")
        )
        if node.hook:
            hook_result = self._call_hook(node.hook, ctx, None, result)
            self._apply_hook(hook_result, result)
            target = _next_node(flow, node, hook_result)
        else:
            target = node.next
        self._enter(flow, target or "", ctx, result, _Counters())

    def _run_input_hook(self, flow: Flow, node: Node, ctx: CallContext, result: StepResult,
                        counters: _Counters, digits: str) -> None:
        hook_result = self._call_hook(node.hook or "", ctx, digits, result)
        if hook_result.invalid:
            for prompt in hook_result.prompts:
                self._say(result.twiml, prompt)
            counters.invalid += 1
            result.events.append(LogEvent("invalid", node.id, digits, "rejected by hook"))
            self._retry(flow, node, ctx, result, counters,
                        _leave_to(node.invalid, counters.invalid))
            return
        self._apply_hook(hook_result, result, ctx)
        self._enter(flow, _next_node(flow, node, hook_result) or "", ctx, result, _Counters())

    def _retry(self, flow: Flow, node: Node, ctx: CallContext, result: StepResult,
               counters: _Counters, leave_to: str | None) -> None:
        """Replay ``node`` with its counters, or leave for ``leave_to`` once the limit is hit."""
        if leave_to:
            self._enter(flow, leave_to, ctx, result, _Counters())
        else:
            self._enter(flow, node.id, ctx, result, counters, replay=True)

    # -- rendering ----------------------------------------------------------------------

    def _enter(
        self,
        flow: Flow,
        node_id: str,
        ctx: CallContext,
        result: StepResult,
        counters: _Counters,
        *,
        replay: bool = False,
        depth: int = 0,
    ) -> None:
        if depth > MAX_CHAIN:
            raise FlowError(f"flow {flow.name!r}: more than {MAX_CHAIN} nodes without input")
        node = flow.node(node_id)
        result.last_node = node.id
        if not replay:
            result.events.append(LogEvent("enter", node.id))
        render = self._renderers.get(node.type)
        if render is None:  # pragma: no cover - the validator rejects unknown types
            raise FlowError(f"node {node.id!r} has unknown type {node.type!r}")
        render(_Visit(flow, node, ctx, result, counters, depth))

    def _chain(self, visit: _Visit, target: str | None) -> None:
        """Go on to ``target`` in the same response (a node that waits for nothing)."""
        self._enter(visit.flow, target or "", visit.ctx, visit.result, _Counters(),
                    depth=visit.depth + 1)

    def _render_say(self, visit: _Visit) -> None:
        self._prompt(visit.result.twiml, visit.node)
        self._chain(visit, visit.node.next)

    def _render_hangup(self, visit: _Visit) -> None:
        self._prompt(visit.result.twiml, visit.node)
        visit.result.twiml.hangup()

    def _render_branch(self, visit: _Visit) -> None:
        node, result = visit.node, visit.result
        result.pure = False
        func = self.hooks.conditions.get(node.condition or "")
        outcome = bool(func and func(visit.ctx))
        result.events.append(LogEvent("branch", node.id, None, f"{node.condition}={outcome}"))
        self._chain(visit, node.if_true if outcome else node.if_false)

    def _render_hook(self, visit: _Visit) -> None:
        hook_result = self._call_hook(visit.node.hook or "", visit.ctx, None, visit.result)
        self._apply_hook(hook_result, visit.result, visit.ctx)
        self._chain(visit, _next_node(visit.flow, visit.node, hook_result))

    def _render_gather(self, visit: _Visit) -> None:
        node, ctx, counters = visit.node, visit.ctx, visit.counters
        settings, response, flow = self.settings, visit.result.twiml, visit.flow
        keys: dict[str, int | str] = (
            {"num_digits": 1} if node.type == "menu" else {"finish_on_key": node.finish_on_key}
        )
        gather = Gather(
            input="dtmf",
            action=settings.step_url(flow.name, node.id, "gather", ctx.state,
                                     ni=counters.no_input, inv=counters.invalid),
            method="POST",
            timeout=node.timeout,
            action_on_empty_result=False,
            **keys,
        )
        self._prompt(gather, node)
        response.append(gather)
        # <Gather> falls through on silence: never let that hang up on the caller.
        response.redirect(
            settings.step_url(flow.name, node.id, "timeout", ctx.state,
                              ni=counters.no_input, inv=counters.invalid),
            method="POST",
        )

    def _render_dial(self, visit: _Visit) -> None:
        node, settings, response = visit.node, self.settings, visit.result.twiml
        self._prompt(response, node)
        if settings.live_stream_url:
            # Forked audio for the live transcript; the call goes on whatever the stream does.
            start = Start()
            start.stream(url=settings.live_stream_url, track="both_tracks")
            response.append(start)
        dial = Dial(
            action=settings.step_url(visit.flow.name, node.id, "dial", visit.ctx.state),
            method="POST",
            timeout=settings.dial_timeout,
            # The operator leg is kept for the record; the caller heard so in the prompt.
            record="record-from-answer-dual",
            recording_status_callback=f"{settings.recording_callback_url}?kind=operator",
            recording_status_callback_event="completed",
            recording_status_callback_method="POST",
            **({"caller_id": settings.caller_id} if settings.caller_id else {}),
        )
        for target in settings.operator_targets:
            if target.startswith("sip:"):
                dial.sip(target)
            else:
                dial.number(target)
        response.append(dial)

    def _render_enqueue(self, visit: _Visit) -> None:
        """Put the caller in the queue the node's hook chose (``<Enqueue>`` with the queue's
        ``waitUrl``), or, when the hook did not queue them, go on to that outcome's node."""
        node, ctx, result = visit.node, visit.ctx, visit.result
        joined = self._call_hook(node.hook or "", ctx, None, result)
        self._apply_hook(joined, result, ctx)
        if joined.outcome or not joined.queue:
            outcome = joined.outcome or "unavailable"
            result.events.append(LogEvent("queue", node.id, None, outcome))
            self._chain(visit, node.outcomes.get(outcome) or node.on_no_answer)
            return
        settings = self.settings
        self._prompt(result.twiml, node)
        result.twiml.enqueue(
            joined.queue,
            action=settings.step_url(visit.flow.name, node.id, "queue", ctx.state),
            method="POST",
            wait_url=settings.queue_url("wait"),
            wait_url_method="POST",
        )

    def _render_record(self, visit: _Visit) -> None:
        node, settings, response = visit.node, self.settings, visit.result.twiml
        flow_name, state = visit.flow.name, visit.ctx.state
        self._prompt(response, node)
        _record(response, settings, max_length=node.max_length or settings.voicemail_max_seconds,
                action=settings.step_url(flow_name, node.id, "record", state))
        # Twilio skips the action and goes on to the next verb when nothing was recorded.
        response.redirect(settings.step_url(flow_name, node.id, "empty", state), method="POST")

    def _call_hook(
        self, name: str, ctx: CallContext, digits: str | None, result: StepResult
    ) -> HookResult:
        result.pure = False
        hook = self.hooks.hooks.get(name)
        if hook is None:
            result.events.append(LogEvent("hook", None, None, f"{name}: not available"))
            return self.hooks.unavailable(name)
        return hook(ctx, digits)

    def _apply_hook(self, hook_result: HookResult, result: StepResult,
                    ctx: CallContext | None = None) -> None:
        for prompt in hook_result.prompts:
            self._say(result.twiml, prompt)
        result.updates.update(hook_result.updates)
        if ctx is not None:  # the next steps' URLs carry what the hook decided
            ctx.state.update(hook_result.updates)

    def _prompt(self, verb: VoiceResponse | Gather, node: Node) -> None:
        if node.audio:
            verb.play(node.audio)
        elif node.prompt:
            self._say(verb, node.prompt)

    def _say(self, verb: VoiceResponse | Gather, text: str | None) -> None:
        """Say ``text`` as it is: it may hold data (replies, names, article answers)."""
        text = speakable(text or "")
        if not text:
            return
        verb.say(text, voice=self.settings.voice, language=self.settings.language)

    def _flow(self, name: str) -> Flow:
        try:
            return self.flows[name]
        except KeyError:
            raise FlowError(f"no flow named {name!r}") from None

