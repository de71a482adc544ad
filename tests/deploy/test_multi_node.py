"""Two web nodes and two worker nodes sharing only PostgreSQL, Redis and S3 (SeaweedFS).

Each node is a separate process with its own instance and working directory. A voicemail
left through web node A with the terminal phone is transcribed by a worker node while the
one that took it first is killed mid-job, played with a Range request from web node B, and
still plays after every node's local directories are deleted. PostgreSQL only: SQLite is a
file on one machine's disk, which is exactly what a multi-node deployment cannot share.
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from console.users import create_user
from core.db import db, utcnow
from ivr.models import Call, Recording
from ivr.phone import HttpTransport, TerminalPhone
from tests.deploy.nodes import Node, answers, free_port, start_web, start_worker, wait_until
from transcription.models import Transcript
from transcription.recovery import clean_abandoned, reconcile
from transcription.statuses import TranscriptionStatus as S

pytestmark = pytest.mark.postgresql_only

AUTH_TOKEN = "deploy-" + secrets.token_hex(16)
ACCOUNT_SID = "AC" + "d" * 32
PASSWORD = "Deploy-test-1"


@pytest.fixture
def app_config(app_config: dict[str, Any], redis_url: str, seaweed: Any, s3_url: str,
               ko_model_dir: Path) -> dict[str, Any]:
    app_config.update(seaweed.settings(), REDIS_URL=redis_url, RECORDINGS_URL=s3_url,
                      TWILIO_AUTH_TOKEN=AUTH_TOKEN, TWILIO_ACCOUNT_SID=ACCOUNT_SID,
                      VOSK_MODEL_PATH=str(ko_model_dir), TWILIO_RECONCILE=False,
                      # No queue-level retries: the abandoned job goes to the failed list and
                      # the reconciliation gives the recording to another node.
                      TRANSCRIPTION_RETRY_INTERVALS=[])
    return app_config


@pytest.fixture
def cluster(app: Any, app_config: dict[str, Any], redis_conn: Any, tmp_path: Path) -> Any:
    """The shared settings every node gets from its environment, and the nodes started."""
    common = {
        "HOTLINE_MULTI_NODE": "true",
        "DATABASE_URL": app_config["DATABASE_URL"],
        "REDIS_URL": app_config["REDIS_URL"],
        "SECRET_KEY": secrets.token_hex(32),
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_RECONCILE": "false",
        "RECORDINGS_URL": app_config["RECORDINGS_URL"],
        "RECORDING_HOSTS": "api.twilio.com,127.0.0.1",
        "VOSK_MODEL_PATH": app_config["VOSK_MODEL_PATH"],
        "TRANSCRIPTION_RETRY_INTERVALS": "",
        **{key: value for key, value in app_config.items() if key.startswith("RECORDINGS_S3")},
    }
    nodes: list[Node] = []

    class Cluster:
        base = tmp_path / "nodes"

        def web(self, name: str, **extra: str) -> Node:
            nodes.append(start_web(name, self.base, common, **extra))
            return nodes[-1]

        def worker(self, name: str, queues: str, **extra: str) -> Node:
            nodes.append(start_worker(name, self.base, common, queues, **extra))  # type: ignore[arg-type]
            return nodes[-1]

        def ready(self, *started: Node) -> None:
            from rq import Worker

            for node in started:
                if node.url:
                    wait_until(lambda n=node: answers(f"{n.url}/healthz"), 60,
                               f"{node.name} to answer", list(started))
                else:
                    wait_until(lambda n=node: n.name in {w.name for w in Worker.all(redis_conn)},
                               60, f"{node.name} to listen", list(started))

        @property
        def nodes(self) -> list[Node]:
            return nodes

    yield Cluster()
    for node in nodes:  # the test is over: nothing of theirs is waited for
        node.kill()


def _recording_of(call_sid: str) -> Recording | None:
    db.session.remove()
    return db.session.scalars(select(Recording).join(Call).where(Call.call_sid == call_sid)
                              ).one_or_none()


def _sign_in(web: Node) -> requests.Session:
    browser = requests.Session()
    page = browser.get(f"{web.url}/console/login", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, page[:500]
    signed_in = browser.post(f"{web.url}/console/login", timeout=10, allow_redirects=False,
                             data={"username": "op1", "password": PASSWORD,
                                   "csrf_token": token.group(1)})
    assert signed_in.status_code == 303, signed_in.text[:500]
    return browser


def _play(browser: requests.Session, web: Node, recording: Recording, first: int,
          last: int) -> requests.Response:
    return browser.get(f"{web.url}/console/recordings/{recording.id}/audio", timeout=10,
                       headers={"Range": f"bytes={first}-{last}"})


def test_voicemail_across_nodes_survives_a_killed_worker_and_lost_disks(
        app: Any, cluster: Any, redis_conn: Any, word: Any) -> None:
    # One spoken word: nodes, storage and playback are under test; each decode of a longer
    # sentence cost seconds.
    audio = word.pcm8k.read_bytes()
    web_a = cluster.web("web-a", RECORDINGS_PRESIGNED_SECONDS="60")  # players go to S3
    web_b = cluster.web("web-b")  # streams from S3 itself
    light = cluster.worker("worker-light", "default,calls")
    # Each decode held up for a minute (tests/workers/slow_worker.py): it dies mid-job.
    doomed = cluster.worker("worker-doomed", "transcription", module="tests.workers.slow_worker")
    cluster.ready(web_a, web_b, light, doomed)
    with db.transaction() as session:
        create_user(session, username="op1", display_name="值班员", role="operator",
                    password=PASSWORD, now=utcnow())

    # A caller leaves a voicemail through web node A; the doomed node stores it, then dies.
    phone = TerminalPhone(transport=HttpTransport(web_a.url or ""), base_url=web_a.url or "",
                          auth_token=AUTH_TOKEN, account_sid=ACCOUNT_SID, echo=lambda _: None)
    first = phone.call(keys=[], voicemail=word.pcm8k, wait_for_fetch=60)
    assert first.recording_sid, first.heard
    wait_until(lambda: (r := _recording_of(first.call_sid)) is not None and r.audio_key
               and r.transcription_status == S.TRANSCRIBING, 60,
               "a worker node to store the audio and start decoding", cluster.nodes)
    doomed.kill()
    doomed.wipe()

    # Another worker node (a transcription-only one) picks the recording up, from S3: the
    # caller's phone stopped serving the file long ago.
    heavy = cluster.worker("worker-heavy", "transcription")
    cluster.ready(heavy)
    # What the periodic reconciliation finds once the dead node's heartbeat has expired.
    later = utcnow() + timedelta(hours=1)
    assert clean_abandoned(redis_conn, later) == 1
    report = reconcile(db.session(), redis_conn, app.config, now=later, twilio=None)
    db.session.commit()
    assert report.requeued == [first.recording_sid]
    wait_until(lambda: _recording_of(first.call_sid).transcription_status == S.DONE,  # type: ignore[union-attr]
               90, "the other worker node to finish the recording", cluster.nodes)
    assert _recording_of(first.call_sid).attempts == 2  # type: ignore[union-attr]

    # A second voicemail goes straight through the surviving nodes.
    second = phone.call(from_number="+8613900000002", keys=[], voicemail=word.pcm8k,
                        wait_for_fetch=60)
    wait_until(lambda: (r := _recording_of(second.call_sid)) is not None
               and r.transcription_status == S.DONE, 90, "the second transcript", cluster.nodes)

    recordings = [_recording_of(first.call_sid), _recording_of(second.call_sid)]
    for recording in recordings:
        assert recording is not None and recording.sha256 and recording.audio_key
        transcript = db.session.scalars(select(Transcript).where(
            Transcript.recording_id == recording.id)).one()
        assert transcript.duration > 0 and not transcript.is_empty

    # Signed in on node A, the console on node B plays both, with Range requests, from S3.
    browser = _sign_in(web_a)

    def plays_everywhere() -> None:
        for recording in recordings:
            assert recording is not None
            part = _play(browser, web_b, recording, 100, 4195)
            assert part.status_code == 206, part.text[:300]
            assert part.headers["Content-Range"] == f"bytes 100-4195/{len(audio)}"
            assert part.content == audio[100:4196]
            assert part.headers["Content-Type"] == "audio/wav"
            assert "sandbox" in part.headers["Content-Security-Policy"]
            redirected = _play(browser, web_a, recording, 0, 43)  # node A presigns
            assert redirected.history and redirected.history[0].status_code == 302
            assert (redirected.status_code, redirected.content) == (206, audio[:44])

    plays_everywhere()
    for node in cluster.nodes:
        node.wipe()
    plays_everywhere()  # nothing that matters was on any node's disk
    assert all(node.process.poll() is None for node in (web_a, web_b, light, heavy))


class LoadBalancer:
    """Twilio's requests go to one public address; the balancer hands each to a node that
    answers (in order), as nginx or a cloud balancer would. The nodes' ``PUBLIC_BASE_URL`` is
    the balancer's, so the signatures Twilio makes for it are checked the same on each."""

    def __init__(self, public: str, nodes: list[Node]) -> None:
        self.public = public
        self.nodes = nodes
        self.session = requests.Session()
        self.served: list[tuple[str, str]] = []  # (node, path)

    def post(self, url: str, params: dict[str, str], headers: dict[str, str]
             ) -> tuple[int, str]:
        path = url.removeprefix(self.public)
        for node in self.nodes:
            if node.killed:
                continue
            try:
                response = self.session.post(f"{node.url}{path}", data=params, timeout=15,
                                             headers=headers)
            except requests.ConnectionError:
                continue  # the node is gone: the next one
            self.served.append((node.name, path.split("?")[0]))
            return response.status_code, response.text
        raise AssertionError(f"no node answered {path}")


def test_waiting_callers_survive_their_web_nodes_death(app: Any, cluster: Any,
                                                       redis_conn: Any) -> None:
    """Two callers wait in the queue through node A; A dies. Twilio's next waitUrl requests
    are answered by node B with the same positions; the callback asked for before the death
    and the one asked for after it are both kept. Nothing of the queue was on node A."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from callqueue.models import Agent, EntryKind, QueueEntry
    from ivr.switchboard import CallerScript, Switchboard, VirtualClock

    port = free_port()
    public = f"http://127.0.0.1:{port}"
    web_a = cluster.web("queue-a", PUBLIC_BASE_URL=public)
    web_b = cluster.web("queue-b", PUBLIC_BASE_URL=public)
    cluster.ready(web_a, web_b)
    with db.transaction() as session:  # one operator on duty, busy with another call
        session.add(Agent(user_id=1, username="op1", display_name="值班员",
                          device="+8613900000001", skills="factor,policy,special,other",
                          state="on_call", state_since=utcnow()))
    balancer = LoadBalancer(public, [web_a, web_b])
    at = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(UTC)
    phone = TerminalPhone(transport=balancer, base_url=public, auth_token=AUTH_TOKEN,
                          account_sid=ACCOUNT_SID, echo=lambda _: None, simulated_at=at)
    board = Switchboard(VirtualClock(at), phone.signed_post, account_sid=ACCOUNT_SID,
                        echo=lambda _: None)
    phone.switchboard = board
    outcomes: dict[str, Any] = {}

    def caller(name: str, number: str, press_at: float) -> None:
        outcomes[name] = phone.call(from_number=number, keys=["4"],
                                    queue=CallerScript(wait_keys=[(press_at, "1")]))

    board.spawn("early", lambda: caller("early", "+8613800000001", 20))
    board.spawn("late", lambda: caller("late", "+8613800000002", 120), delay=1)
    board.spawn("node A dies", web_a.kill, delay=60)
    board.run()

    assert web_a.killed and web_b.process.poll() is None
    served = balancer.served
    death = next(i for i, (node, _path) in enumerate(served) if node == "queue-b")
    assert any(node == "queue-a" and path == "/ivr/queue/wait" for node, path in served[:death])
    assert all(node == "queue-b" for node, _path in served[death:])
    assert ("queue-b", "/ivr/queue/wait") in served[death:]
    late = outcomes["late"]
    # Before and after the death the late caller heard the same place: second, behind the
    # early caller's callback request, which kept the early caller's place.
    places = [h for h in late.heard if "您前面还有" in h or "您是下一位" in h]
    waits_on_b = sum(1 for node, path in served if (node, path) == ("queue-b", "/ivr/queue/wait"))
    assert waits_on_b >= 1 and len(places) >= 3
    assert all(p.startswith("您前面还有1位来电") for p in places)
    assert any("已为您预约回电" in h for h in late.heard)
    assert any("已为您预约回电" in h for h in outcomes["early"].heard)
    db.session.remove()
    callbacks = db.session.scalars(select(QueueEntry).where(
        QueueEntry.kind == EntryKind.CALLBACK.value)).all()
    assert sorted(c.from_number for c in callbacks) == ["+8613800000001", "+8613800000002"]
    assert all(c.status == "waiting" and c.deadline is not None for c in callbacks)
