"""坐席工作台: an operator's presence, device and skills, the live screen pop, wrap-up (话后整理),
callback requests, and the browser softphone's access token (docs/console.md)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import select

from callqueue import service
from callqueue.agents import AgentError, presence_event, skill_labels
from callqueue.live import call_channel, operator_channel
from callqueue.models import (
    AREAS,
    OUTCOME_LABELS,
    Agent,
    EntryKind,
    EntryStatus,
    Outcome,
    QueueEntry,
    WrapUp,
)
from callqueue.presence import STATE_LABELS, PresenceRefused, State
from callqueue.runtime import QueueRuntime
from cases.vocab import CATEGORY_LABELS
from console import softphone
from console.auth import CENTRE
from console.blueprint import refuse, route
from console.live_stream import StreamSlots, event_stream
from console.operators import NotAnOperator, agent_for
from console.screen_pop import may_see, screen_pop
from console.web import now, tz, user
from core.db import db, write_intent
from ivr import calllog
from knowledge.models import Article, ArticleState

# The desk marks its operator seen this often while its live stream is open.
SEEN_EVERY = timedelta(seconds=20)


def _runtime() -> QueueRuntime:
    return current_app.extensions["queue_runtime"]


def _slots() -> StreamSlots:
    return current_app.extensions["live_stream_slots"]


def _agent() -> Agent:
    try:
        agent = agent_for(db.session, user(), now())
    except NotAnOperator:
        abort(403)
    return agent


def _node_labels() -> dict[str, str]:
    flow = current_app.extensions["ivr_runtime"].engine.flows.get("hotline")
    return {n.id: n.label for n in flow.nodes.values() if n.label} if flow else {}


def _done(changes: Any, message: str) -> Any:
    _runtime().commit(db.session, changes)
    flash(message, "success")
    return redirect(url_for("console.desk"), code=303)


def _failed(exc: Exception) -> Any:
    db.session.rollback()
    flash(str(exc), "error")
    return redirect(url_for("console.desk"), code=303)


def _pending_wrapup(agent: Agent) -> QueueEntry | None:
    """The last call the operator answered, if its outcome is still to be recorded."""
    if agent.last_entry_id is None:
        return None
    entry = db.session.get(QueueEntry, agent.last_entry_id)
    recorded = db.session.scalar(select(WrapUp.id).where(WrapUp.entry_id == agent.last_entry_id))
    return entry if entry is not None and recorded is None else None


def _current_entry_id(agent: Agent) -> int | None:
    """The caller the screen pop shows: the one ringing or talking, else the last answered."""
    if agent.offer_id is not None:
        from callqueue.models import Offer

        offer = db.session.get(Offer, agent.offer_id)
        if offer is not None:
            return offer.entry_id
    return agent.last_entry_id


@route("/desk", roles=CENTRE)
def desk() -> Any:
    agent = _agent()
    db.session.commit()
    callbacks = db.session.scalars(
        select(QueueEntry).where(QueueEntry.kind == EntryKind.CALLBACK.value,
                                 QueueEntry.status == EntryStatus.WAITING.value)
        .order_by(QueueEntry.place_at, QueueEntry.id).limit(50)).all()
    mine = [c for c in callbacks if c.area in agent.skill_set]
    articles = db.session.execute(
        select(Article.id, Article.title).where(Article.state == ArticleState.PUBLISHED)
        .order_by(Article.title).limit(500)).all()
    today_start = now().astimezone(tz()).replace(hour=0, minute=0, second=0, microsecond=0)
    answered_today = db.session.scalars(
        select(QueueEntry).where(QueueEntry.agent_id == agent.id,
                                 QueueEntry.answered_at >= today_start)
        .order_by(QueueEntry.answered_at.desc()).limit(20)).all()
    outcomes = {w.entry_id: w for w in db.session.scalars(select(WrapUp).where(
        WrapUp.entry_id.in_([e.id for e in answered_today])))}
    phone_in_browser = softphone.enabled(current_app.config) and (
        agent.device or "").startswith("client:")
    page = make_response(render_template(
        "console/desk.html", agent=agent, state=State(agent.state),
        state_labels=STATE_LABELS, presence=presence_event(agent),
        skills=skill_labels(agent.skills), areas=[(a, CATEGORY_LABELS[a]) for a in AREAS],
        current_entry=_current_entry_id(agent), wrapup=_pending_wrapup(agent),
        outcomes=OUTCOME_LABELS, articles=articles, callbacks=mine, now=now(),
        answered_today=answered_today, recorded=outcomes, softphone=phone_in_browser,
        sdk_url=current_app.config.get("TWILIO_VOICE_SDK_URL", "")))
    origin = softphone.script_origin(current_app.config) if phone_in_browser else None
    if origin:
        # The Voice SDK: its script, its signalling and media (Twilio's), its ringtones.
        page.headers["Content-Security-Policy"] = (
            f"default-src 'self'; script-src 'self' {origin}; "
            "connect-src 'self' https://*.twilio.com wss://*.twilio.com; "
            f"media-src 'self' blob: {origin} https://*.twilio.com; img-src 'self' data:; "
            "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
    return page


@route("/desk/presence", roles=CENTRE, methods=("POST",))
def desk_presence() -> Any:
    agent = _agent()
    db.session.commit()
    wanted = {"idle": State.IDLE, "break": State.BREAK, "offline": State.OFFLINE}.get(
        request.form.get("state", ""))
    if wanted is None:
        return refuse(400, "未知的状态")
    try:
        changes = service.set_presence(db.session, _runtime(), agent.id, wanted, now=now())
    except (PresenceRefused, AgentError) as exc:
        return _failed(exc)
    return _done(changes, f"状态已改为{STATE_LABELS[wanted]}")


@route("/desk/settings", roles=CENTRE, methods=("POST",))
def desk_settings() -> Any:
    agent = _agent()
    db.session.commit()
    try:
        changes = service.set_device(db.session, _runtime(), agent.id,
                                     request.form.get("device", ""))
        skills = request.form.getlist("skills")
        changes.merge(service.set_skills(db.session, _runtime(), agent.id, skills, now=now()))
    except (PresenceRefused, AgentError) as exc:
        return _failed(exc)
    return _done(changes, "接听设备和服务领域已保存")


@route("/desk/pop/<int:entry_id>", roles=CENTRE)
def desk_pop(entry_id: int) -> Any:
    """The screen pop of a caller this operator was offered (an HTML fragment)."""
    agent = _agent()
    if not may_see(db.session, agent.id, entry_id):
        abort(404)
    pop = screen_pop(db.session, entry_id, agent_id=agent.id, now=now(),
                     node_labels=_node_labels())
    if pop is None:
        abort(404)
    db.session.commit()
    return render_template("console/_screen_pop.html", pop=pop, outcomes=OUTCOME_LABELS)


@route("/desk/calls/<int:entry_id>/case", roles=CENTRE)
def desk_file_case(entry_id: int) -> Any:
    """登记诉求 from the screen pop: today's case form of that call, filled from it."""
    agent = _agent()
    entry = db.session.get(QueueEntry, entry_id)
    if entry is None or not may_see(db.session, agent.id, entry_id):
        abort(404)
    # The call log may still be on its way through Redis: the row is made the same way.
    call = calllog.get_or_create_call(db.session, entry.call_sid, now=entry.enqueued_at,
                                      from_number=entry.from_number)
    if entry.answered_at is not None:
        call.reached_operator = True
    db.session.commit()
    pop = screen_pop(db.session, entry_id, agent_id=agent.id, now=now(),
                     node_labels=_node_labels())
    enterprise = pop.enterprises[0] if pop and pop.enterprises else ""
    return redirect(url_for("console.call_detail", call_id=call.id, enterprise_name=enterprise,
                            contact_phone=entry.from_number) + "#file-case", code=303)


@route("/desk/wrapup", roles=CENTRE, methods=("POST",))
def desk_wrapup() -> Any:
    agent = _agent()
    db.session.commit()
    try:
        outcome = Outcome(request.form.get("outcome", ""))
    except ValueError:
        return _failed(AgentError("请选择话后结果"))
    article = request.form.get("article_id") or ""
    given = service.WrapUpInput(outcome=outcome,
                                article_id=int(article) if article.isdigit() else None,
                                note=request.form.get("note"))
    entry_id = request.form.get("entry_id", "")
    if not entry_id.isdigit():
        return refuse(400, "缺少来电")
    try:
        _wrapup, changes = service.record_wrapup(db.session, _runtime(), agent.id,
                                                 int(entry_id), given, now=now())
    except AgentError as exc:
        return _failed(exc)
    return _done(changes, f"话后结果已记录：{OUTCOME_LABELS[outcome]}")


@route("/desk/callbacks/<int:entry_id>/close", roles=CENTRE, methods=("POST",))
def desk_close_callback(entry_id: int) -> Any:
    _agent()
    db.session.commit()
    reached = request.form.get("reached") == "1"
    try:
        changes = service.close_callback(db.session, _runtime(), entry_id, now=now(),
                                         reached=reached)
    except AgentError as exc:
        return _failed(exc)
    return _done(changes, "回电任务已关闭")


@route("/desk/stream", roles=CENTRE)
def desk_stream() -> Any:
    """The desk's live stream: presence, screen pop, call events (Server-Sent Events)."""
    agent = _agent()
    agent.seen_at = now()
    db.session.commit()
    agent_id = agent.id
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    runtime = _runtime()
    clock_now = runtime.now
    last_seen = [clock_now()]

    def hello() -> list[tuple[str, dict[str, Any]]]:
        found = db.session.get(Agent, agent_id)
        if found is None:
            return []
        events: list[tuple[str, dict[str, Any]]] = [("presence", presence_event(found))]
        entry_id = _current_entry_id(found)
        if entry_id is not None:
            events.append(("pop", {"entry_id": entry_id}))
        return events

    def on_message(message: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        kind = str(message.get("type") or "message")
        return [(kind, message)]

    def on_tick() -> list[tuple[str, dict[str, Any]]]:
        at = clock_now()
        if at - last_seen[0] >= SEEN_EVERY:
            last_seen[0] = at
            # A read then a write: on SQLite the write lock is taken first, or a webhook's
            # commit in between would fail the write and end the stream.
            with write_intent():
                service.seen(db.session, agent_id, at)
                db.session.commit()
        return []

    channels = [operator_channel(agent_id)]
    return event_stream(app, _slots(), runtime.bus, channels, hello=hello,
                        on_message=on_message, on_tick=on_tick, tick_seconds=2.0)


@route("/desk/calls/<int:entry_id>/stream", roles=CENTRE)
def desk_call_stream(entry_id: int) -> Any:
    """Events of one call the operator was offered (for panels such as a live transcript)."""
    agent = _agent()
    entry = db.session.get(QueueEntry, entry_id)
    if entry is None or not may_see(db.session, agent.id, entry_id):
        abort(404)
    sid = entry.call_sid
    db.session.commit()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return event_stream(app, _slots(), _runtime().bus, [call_channel(sid)],
                        hello=lambda: [("hello", {"entry_id": entry_id})],
                        on_message=lambda m: [(str(m.get("type") or "message"), m)])


@route("/softphone/token", roles=CENTRE)
def softphone_token() -> Any:
    """A Twilio Voice access token for the browser softphone (``client:`` devices only)."""
    agent = _agent()
    db.session.commit()
    config = current_app.config
    device = agent.device or ""
    if not softphone.enabled(config) or not device.startswith("client:"):
        return jsonify({"error": "浏览器坐席未启用"}), 404
    identity = device.removeprefix("client:")
    token = softphone.access_token(config, identity=identity)
    return jsonify({"identity": identity, "token": token, "ttl": softphone.TTL_SECONDS})
