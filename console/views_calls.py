"""The call log, a call's IVR path, recordings (streamed with range support), corrections."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import HTTPException

from callqueue.history import queue_history
from callqueue.models import OUTCOME_LABELS
from cases.enterprises import find_or_register_enterprise
from cases.vocab import CATEGORY_LABELS
from console import queries, review
from console.auth import CENTRE, EVERYONE, safe_next
from console.blueprint import route
from console.labels import CALL_STATUS_LABELS, VALUE_LABELS
from console.web import actor, calendar, now, optional, perform, text, tz, user
from core.db import db
from core.redis_conn import connect
from core.settings import setting
from ivr.models import Call, Recording
from ivr.operator_recordings import file_case_from_call
from live.bus import LiveBus, call_channel, listen
from live.store import transcripts_of_call
from recordings.config import open_store
from recordings.http import audio_response
from recordings.keys import stored_key
from transcription.models import Transcript


def _date_arg(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


@route("/calls", roles=CENTRE)
def calls() -> Any:
    status = request.args.get("status") or None
    category = request.args.get("category") or None
    filters = queries.CallFilters(
        date_from=_date_arg("from"), date_to=_date_arg("to"),
        caller=(request.args.get("caller") or "")[:64],
        status=status if status in CALL_STATUS_LABELS else None,
        category=category if category in CATEGORY_LABELS else None,
        voicemail=request.args.get("voicemail") == "1",
    )
    page = queries.call_log(db.session, filters, tz(), cursor=request.args.get("after"))
    args = {k: v for k, v in request.args.items() if k != "after" and v}
    return render_template("console/calls.html", page=page, filters=filters, args=args,
                           statuses=CALL_STATUS_LABELS, categories=CATEGORY_LABELS,
                           node_labels={name: _node_labels(name) for name in _flows()})


@route("/calls/<int:call_id>", roles=CENTRE)
def call_detail(call_id: int) -> Any:
    call = db.session.scalars(
        select(Call).where(Call.id == call_id)
        .options(selectinload(Call.events), selectinload(Call.recordings))).one_or_none()
    if call is None:
        abort(404)
    return render_template(
        "console/call.html", call=call, recordings=review.reviewed(db.session, call.recordings),
        cases=queries.cases_of_call(db.session, call.id), node_labels=_node_labels(call.flow),
        flow_title=getattr(_flows().get(call.flow), "title", call.flow),
        subcategories=VALUE_LABELS["subcategory"],
        queue=queue_history(db.session, call.call_sid), outcome_labels=OUTCOME_LABELS,
        live_transcripts=transcripts_of_call(db.session, call.call_sid))


# An open page keeps a thread of the web server: the stream ends after this long and the
# browser's EventSource opens it again.
LIVE_STREAM_SECONDS = 300


@route("/calls/<int:call_id>/live", roles=CENTRE)
def call_live(call_id: int) -> Any:
    """实时转写: Server-Sent Events of the call's live transcript (through Redis pub/sub)."""
    call = db.session.get(Call, call_id)
    if call is None:
        abort(404)
    url = current_app.config.get("REDIS_URL")
    if not url:
        return Response(status=204)  # no Redis: the transcript shows once stored
    channel = call_channel(call.call_sid)
    db.session.remove()  # hold no connection while streaming

    def events() -> Iterator[str]:
        yield "retry: 3000\n\n"
        for message in listen(LiveBus(connect(url)), channel, seconds=LIVE_STREAM_SECONDS):
            if message is None:
                yield ": keep-alive\n\n"
            else:
                yield f"data: {json.dumps(message, ensure_ascii=False)}\n\n"

    return Response(stream_with_context(events()), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@route("/calls/<int:call_id>/case", roles=CENTRE, methods=("POST",))
def call_file_case(call_id: int) -> Any:
    """登记诉求 from this call: a case linked to the call and its operator recording."""
    call = db.session.get(Call, call_id)
    if call is None:
        abort(404)

    def action() -> Any:
        at = now()
        enterprise = find_or_register_enterprise(
            db.session, name=optional("enterprise_name"), uscc=None, now=at)
        return file_case_from_call(
            db.session, call.id, description=text("description"),
            contact_name=optional("contact_name"), contact_phone=optional("contact_phone"),
            category=call.category, subcategory=call.subcategory,
            enterprise_id=enterprise.enterprise.id if enterprise else None,
            actor=actor(), now=at, calendar=calendar(), tz=tz(), transcript_of=_transcript_of)

    return perform(action, success=lambda c: f"已受理，诉求编号 {c.number}",
                   redirect_to=lambda c: url_for("console.case_detail", case_id=c.id),
                   on_error=lambda: call_detail(call_id))


def _transcript_of(recording_id: int) -> tuple[str, float] | None:
    """A recording's transcript so far (text, confidence), if it was transcribed already."""
    done = db.session.scalars(
        select(Transcript).where(Transcript.recording_id == recording_id)).one_or_none()
    return (done.text, done.confidence) if done is not None else None


def _flows() -> dict[str, Any]:
    """The flows the running engine uses."""
    return current_app.extensions["ivr_runtime"].engine.flows


def _node_labels(flow_name: str) -> dict[str, str]:
    """Chinese labels of the flow's nodes."""
    flow = _flows().get(flow_name)
    return {node.id: node.label for node in flow.nodes.values() if node.label} if flow else {}


def _may_hear(recording: Recording) -> bool:
    account = user()
    if account.role in CENTRE:
        return True
    return any(queries.department_sees_case(db.session, account.department_id or 0, case_id)
               for case_id in queries.cases_of_recording(db.session, recording.id))


@route("/recordings/<int:recording_id>/audio", roles=EVERYONE)
def recording_audio(recording_id: int) -> Any:
    """The audio of a voicemail, from the recording store, with HTTP range requests."""
    recording = db.session.get(Recording, recording_id)
    if recording is None or not _may_hear(recording):
        abort(404)
    config = current_app.config
    key = stored_key(recording.audio_key, Path(config["RECORDINGS_DIR"]))
    if key is None:
        abort(404)
    return audio_response(
        open_store(config), key, sha256=recording.sha256,
        download_name=f"{recording.recording_sid}{PurePosixPath(key).suffix}",
        range_header=request.headers.get("Range"), if_range=request.headers.get("If-Range"),
        presign_seconds=int(setting(config, "RECORDINGS_PRESIGNED_SECONDS")))


@route("/recordings/<int:recording_id>/retry", roles=CENTRE, methods=("POST",))
def recording_retry(recording_id: int) -> Any:
    """重新下载并转写: a new transcription job unless one is live."""
    back = safe_next(request.form.get("next"), url_for("console.calls"))
    if db.session.get(Recording, recording_id) is None:
        abort(404)
    try:
        jid = current_app.extensions["transcription_retry"](db.session, recording_id)
    except RedisError:
        db.session.rollback()
        flash("后台任务队列暂时不可用，请稍后再试或联系系统管理员", "error")
        return redirect(back, code=303)
    flash("已重新排队，录音将重新下载并转写，请稍候刷新" if jid
          else "该录音正在处理中或已转写完成，请稍候刷新", "success" if jid else "warning")
    return redirect(back, code=303)


@route("/transcripts/<int:transcript_id>/correct", roles=CENTRE, methods=("POST",))
def transcript_correct(transcript_id: int) -> Any:
    """更正转写: whole text, or word by word (inputs ``word-<index>``; timings are kept)."""
    transcript = db.session.get(Transcript, transcript_id)
    if transcript is None:
        abort(404)
    back = safe_next(request.form.get("next"), url_for("console.calls"))

    def call() -> Any:
        if request.form.get("mode") == "words":
            edits = {int(key.removeprefix("word-")): value
                     for key, value in request.form.items()
                     if key.startswith("word-") and key.removeprefix("word-").isdigit()}
            return review.correct(db.session, transcript_id, new_text=None, word_edits=edits,
                                  actor=actor(), now=now())
        return review.correct(db.session, transcript_id, new_text=text("text"),
                              word_edits=None, actor=actor(), now=now())

    return perform(call, success="转写已更正（原始识别结果已保留）", redirect_to=back,
                   on_error=lambda: _error_page(back))


def _error_page(back: str) -> Any:
    """The page the correction was made on (case or call), drawn again with what was typed."""
    try:
        endpoint, args = current_app.url_map.bind("").match(urlsplit(back).path, method="GET")
    except HTTPException:
        endpoint, args = "", {}
    if endpoint in ("console.case_detail", "console.call_detail"):
        return current_app.view_functions[endpoint](**args)
    return render_template("console/error.html", status=422, message="", back=back)
