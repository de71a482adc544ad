"""``make run``: migrate, seed, and run web + workers + cron on the embedded default.

SQLite under ``instance/`` and a real Redis server (``workers.embedded_redis``) unless
DATABASE_URL / REDIS_URL say otherwise. The supervisor restarts any child that stops —
Redis, the web server, a worker, cron — with back-off, and says so; the web server keeps
answering meanwhile (webhooks take their synchronous path while Redis is away). Only
Ctrl-C, SIGTERM or SIGHUP (the terminal closed) stops everything this started. A
``make run`` killed outright leaves its children behind: the next one finds them through
``instance/make-run.json`` and stops them first (``workers.instance_state``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from core import config as config_module
from core.files import private_directory, restrict_new_files
from core.queues import CALLS, DEFAULT, REPORTS, TRANSCRIPTION
from core.settings import SETTINGS
from workers import instance_state
from workers.banner import banner
from workers.model_install import model_line, start_model_install, stop_model_install

PYTHON = sys.executable
# How `flask seed --demo` starts its block of demo logins (console.seed).
DEMO_LOGINS_HEADING = "console demo logins"
BIN = Path(PYTHON).parent
# Restart back-off: 1 s, 2 s, 4 s … at most 30 s; reset once a child ran for a minute. The
# first delay is MAKE_RUN_RESTART_SECONDS; MAKE_RUN_STOP_SECONDS the children get to stop on
# Ctrl-C before their process groups are killed (core.settings).
FIRST_DELAY = float(SETTINGS["MAKE_RUN_RESTART_SECONDS"].default)
MAX_DELAY = 30.0
HEALTHY_AFTER = 60.0
STOP_GRACE = float(SETTINGS["MAKE_RUN_STOP_SECONDS"].default)
# Light work (call-log drain, filing, follow-ups) never waits behind a long transcription.
WORKER_QUEUES = {"worker": (DEFAULT, CALLS), "transcriber": (TRANSCRIPTION, REPORTS)}


def say(message: str) -> None:
    print(f"[make run] {message}", flush=True)


def _run(args: list[str], env: dict[str, str], echo: bool = True) -> str:
    """Run a set-up command, echo its output (unless told not to), and return it."""
    done = subprocess.run(args, env=env, check=True, capture_output=True, text=True)
    sys.stderr.write(done.stderr)
    if echo:
        sys.stdout.write(done.stdout)
    return done.stdout


def _seed(flask: list[str], env: dict[str, str]) -> str:
    """Migrate, then seed with demo accounts; echo the output but the demo logins, which it
    returns.

    The logins are printed once, in the banner; passwords (and the demo API token) only to a
    terminal, never into a log file `make run` is redirected to.
    """
    show = ["--show-secrets"] if sys.stdout.isatty() else []
    # --upgrade: migrations first, in the same process (`flask db upgrade` loaded the app
    # once more only to run them).
    output = _run([*flask, "seed", "--upgrade", "--demo", *show], env, echo=False)
    start = output.find(DEMO_LOGINS_HEADING)
    logins = output[start:] if start >= 0 else ""
    sys.stdout.write(output[:start] if start >= 0 else output)
    return logins


@dataclass
class Child:
    """One supervised process: how to start it, and its restart bookkeeping."""

    name: str
    args: list[str]
    env: dict[str, str]
    # Called after each start; raises if the child never became ready (e.g. Redis).
    ready: Callable[[subprocess.Popen[bytes]], None] | None = None
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    failures: int = 0
    restart_at: float | None = None
    restarts: int = field(default=0)
    terminated: bool = False  # SIGTERM sent to the current process

    def start(self) -> None:
        # A process group of its own, stopped only by this supervisor. Ctrl-C signals the
        # terminal's whole group: were the children in it, a gunicorn worker would get
        # SIGINT from the terminal and SIGQUIT from its master at once, and gthread's quit
        # handler, entered twice, can deadlock, leaving the worker holding the port.
        self.process = subprocess.Popen(self.args, env=self.env, start_new_session=True)
        self.started_at = time.monotonic()
        self.restart_at = None
        self.terminated = False
        say(f"{self.name} started (pid {self.process.pid})")
        if self.ready is not None:
            self.ready(self.process)

    def reap_group(self) -> None:
        """Kill what the child left behind in its group (work horses, gunicorn workers)."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def terminate(self) -> None:
        """Ask the child to stop (SIGTERM, once: a second one makes an RQ worker abandon
        its job); :meth:`stop` waits for it."""
        if self.process is not None and self.process.poll() is None and not self.terminated:
            self.terminated = True
            self.process.send_signal(signal.SIGTERM)

    def stop(self, deadline: float) -> None:
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            self.terminate()
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                say(f"{self.name} did not stop in time: killing its process group")
        self.reap_group()
        process.wait()


class Supervisor:
    """Keeps every child running until asked to stop."""

    def __init__(self, children: list[Child], instance: Path | None = None,
                 first_delay: float = FIRST_DELAY, stop_grace: float = STOP_GRACE) -> None:
        self.children = children
        self.stopping = False
        self.first_delay = first_delay
        self.stop_grace = stop_grace
        # Where the children's pids are recorded for a later `make run` (instance_state).
        self.instance = instance

    def record(self) -> None:
        if self.instance is None:
            return
        instance_state.write(self.instance, instance_state.InstanceState(os.getpid(), {
            child.name: child.process.pid for child in self.children
            if child.process is not None and child.process.poll() is None}))

    def request_stop(self, _signum: int = 0, _frame: object = None) -> None:
        self.stopping = True

    def check(self) -> None:
        """Restart children that exited, each after its back-off delay."""
        now = time.monotonic()
        for child in self.children:
            process = child.process
            if process is None or self.stopping:
                continue
            if child.restart_at is None:
                code = process.poll()
                if code is None:
                    continue
                child.reap_group()
                ran = now - child.started_at
                child.failures = 1 if ran >= HEALTHY_AFTER else child.failures + 1
                delay = min(self.first_delay * 2 ** (child.failures - 1), MAX_DELAY)
                child.restart_at = now + delay
                say(f"{child.name} (pid {process.pid}) exited with code {code} after "
                    f"{ran:.0f} s; restarting in {delay:.3g} s")
            elif now >= child.restart_at:
                child.restarts += 1
                try:
                    child.start()
                except Exception as exc:  # e.g. Redis not ready: try again later
                    say(f"{child.name} failed to start: {exc}")
                    child.restart_at = None
                self.record()

    def run(self, poll: float = 0.25) -> None:
        while not self.stopping:
            self.check()
            time.sleep(poll)

    def stop_all(self) -> None:
        """Stop every child at once, Redis last (workers can finish their writes).

        All but Redis get SIGTERM together and share one grace, so a worker finishing its
        job does not hold up the web server's stop (one after the other, each child's exit
        added to the next one's wait)."""
        deadline = time.monotonic() + self.stop_grace
        last = [child for child in self.children if child.name == "redis"]
        first = [child for child in reversed(self.children) if child not in last]
        for child in first:
            child.terminate()
        for group in (first, last):
            for child in group:
                child.stop(deadline)
        if self.instance is not None:
            instance_state.remove(self.instance)


def build_children(env: dict[str, str], port: str, redis_instance: Path | None) -> list[Child]:
    children: list[Child] = []
    if redis_instance is not None:
        from workers.embedded_redis import server_command, wait_until_ready

        def redis_ready(process: subprocess.Popen[bytes]) -> None:
            wait_until_ready(redis_instance, process)

        children.append(Child("redis", server_command(redis_instance), env, ready=redis_ready))
    host = SETTINGS["HOST"].parse(env.get("HOST"))
    children.append(Child(
        "web", [str(BIN / "gunicorn"), "--bind", f"{host}:{port}",
                "--config", "python:workers.gunicorn_conf", "--access-logfile", "-",
                "app:create_app()"], env))
    for name, queues in WORKER_QUEUES.items():
        children.append(Child(name, [PYTHON, "-m", "workers.worker", "--with-scheduler",
                                     "--queues", ",".join(queues)], env))
    children.append(Child("cron", [PYTHON, "-m", "workers.cron"], env))
    # Live transcripts of operator calls: decoding in a process of its own (docs/live.md).
    children.append(Child("live", [PYTHON, "-m", "workers.live"], env))
    return children


CLEAN_COMMAND = ".venv/bin/python -m workers.stack --clean"


def clean_up_after_crash(instance: Path, grace: float = STOP_GRACE) -> bool:
    """Stop what a `make run` that is gone left running on ``instance``; False if another
    `make run` is using it, or something could not be stopped (then it says what to do)."""
    state = instance_state.read(instance)
    if state is not None and instance_state.alive(state.supervisor):
        say(f"another `make run` (pid {state.supervisor}) is using {instance}: stop it first "
            "(Ctrl-C in its terminal, or `kill -TERM {state.supervisor}`), or set "
            "HOTLINE_INSTANCE_PATH")
        return False
    if state is not None:
        left = instance_state.stop_groups(instance_state.stale_children(state), say, grace)
        if left:
            say(f"could not stop {', '.join(left)}: kill them by hand "
                f"(`kill -KILL -<pid>`), then run `make run` again")
            return False
        instance_state.remove(instance)
    return True


def _clean_unrecorded_redis(instance: Path) -> int:
    """``--clean``: also shut down an embedded Redis that answers without a record."""
    from redis import Redis
    from redis.exceptions import ConnectionError as RedisConnectionError

    from workers.embedded_redis import discover

    url = discover(instance)
    if url is not None:
        say(f"shutting down the Redis on {url}")
        with contextlib.suppress(RedisConnectionError):  # it goes away while answering
            Redis.from_url(url, socket_timeout=5).shutdown(nosave=True)
    say(f"nothing left running on {instance}")
    return 0


def main() -> int:
    env = dict(os.environ)
    settings = config_module.from_env(env)
    restrict_new_files()  # children inherit it: no file of theirs is world-readable
    instance = private_directory(Path(settings["INSTANCE_PATH"]))
    grace = float(settings["MAKE_RUN_STOP_SECONDS"])
    if not clean_up_after_crash(instance, grace):
        return 1
    if "--clean" in sys.argv[1:]:
        return _clean_unrecorded_redis(instance)
    redis_instance = None
    if not env.get("REDIS_URL"):
        from workers.embedded_redis import discover, url_for

        if discover(instance):
            say(f"a Redis no recorded `make run` started answers on {url_for(instance)}: stop "
                f"it with `{CLEAN_COMMAND}`, or set HOTLINE_INSTANCE_PATH")
            return 1
        redis_instance = instance
        env["REDIS_URL"] = url_for(instance)
    # The terminal phone serves voicemail files from 127.0.0.1; allow it locally.
    env.setdefault("RECORDING_HOSTS", "api.twilio.com,127.0.0.1")
    port = str(settings["PORT"])
    supervisor = Supervisor(build_children(env, port, redis_instance), instance,
                            first_delay=float(settings["MAKE_RUN_RESTART_SECONDS"]),
                            stop_grace=grace)
    # A closed terminal (SIGHUP) stops everything too: nothing is left unsupervised.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, supervisor.request_stop)
    installer = None
    try:
        redis_child = supervisor.children[0] if redis_instance is not None else None
        if redis_child is not None:
            redis_child.start()
            supervisor.record()
            print(f"embedded Redis: {env['REDIS_URL']}", flush=True)
        flask = [str(BIN / "flask"), "--app", "app"]
        logins = _seed(flask, env)
        installer = start_model_install(flask, env)
        for child in supervisor.children:
            if child is not redis_child:
                child.start()
        supervisor.record()
        print(banner(port, settings["PUBLIC_BASE_URL"], logins,
                     model=model_line(settings, installer, others=tuple(
                         child.process.pid for child in supervisor.children
                         if child.process is not None))), flush=True)
        supervisor.run()
    finally:
        stop_model_install(installer)
        supervisor.stop_all()
        print("stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
