"""The Mandarin model from the first ``make run``: pinned source, background install, state.

``make run`` starts ``flask model ensure`` beside the hotline: when the active model is
missing, it downloads the published zip (resuming a partial download), checks the SHA-256
pinned here, proves the model loads and renames it into place (``model_store``). Workers
load a model that appears while they run before their next transcription job; recordings
that waited for it are re-enqueued (docs/transcription.md).

What state the model is in — 已安装, 下载中 n%, 不可用：原因 — is read from the model folder
and a small state file beside it, so the banner, ``flask model status`` and the console all
say the same thing without asking the installer.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from core.config import parse_bool
from transcription.engine import DEFAULT_MODEL_NAME, model_problems
from transcription.model_fetch import install_model_from
from transcription.model_store import InstallInProgress, ModelInstallError, Verifier, verify_model

log = logging.getLogger(__name__)

# The published Mandarin model and its SHA-256 (README, "Speech model"). A zip with any
# other checksum is never installed.
DEFAULT_MODEL_URL = "https://alphacephei.com/vosk/models/vosk-model-small-cn-0.22.zip"
DEFAULT_MODEL_SHA256 = "3af8b0e7e0f835ae9d414ce5df580237a3cfb08d586c9fbbb0f7ff29ad5b14ba"
OFFLINE_COMMAND = "flask --app app model install --zip FILE"

State = Literal["installed", "downloading", "unavailable"]
# Without a known size, the state file is rewritten this often (seconds) while bytes arrive.
PROGRESS_EVERY = 0.5


@dataclass(frozen=True)
class ModelSource:
    url: str
    sha256: str


@dataclass(frozen=True)
class ModelAvailability:
    """Whether transcription can run, in one line operators read."""

    state: State
    percent: int | None = None
    reason: str = ""

    @property
    def text(self) -> str:
        if self.state == "installed":
            return "已安装"
        if self.state == "downloading":
            return f"下载中 {self.percent or 0}%"
        return f"不可用：{self.reason}；离线安装：{OFFLINE_COMMAND}"

    def as_dict(self) -> dict[str, Any]:
        return {"state": self.state, "percent": self.percent, "reason": self.reason,
                "text": self.text}


def state_file(target: Path) -> Path:
    return target.parent / f".{target.name}.install.json"


def _lock_file(target: Path) -> Path:
    return target.parent / f".{target.name}.install.lock"


def auto_install_source(config: Mapping[str, Any], target: Path
                        ) -> tuple[ModelSource | None, str]:
    """Where ``make run`` installs the active model from, or why it does not.

    ``VOSK_MODEL_URL`` + ``VOSK_MODEL_SHA256`` when set; otherwise the pinned Mandarin model,
    but only into a folder of its own name (a path named after another model is left for a
    person to fill) and unless ``VOSK_MODEL_AUTO_INSTALL`` is off.
    """
    url = str(config.get("VOSK_MODEL_URL") or "")
    if url:
        sha256 = str(config.get("VOSK_MODEL_SHA256") or "")
        if not sha256:
            return None, "设置了 VOSK_MODEL_URL 但没有 VOSK_MODEL_SHA256，不会安装未经校验的模型"
        return ModelSource(url, sha256), ""
    if not parse_bool(config.get("VOSK_MODEL_AUTO_INSTALL"), default=True):
        return None, "未安装，自动下载已关闭（VOSK_MODEL_AUTO_INSTALL）"
    if target.name != DEFAULT_MODEL_NAME:
        return None, f"{target} 不存在或不完整（只自动下载 {DEFAULT_MODEL_NAME}）"
    return ModelSource(DEFAULT_MODEL_URL, DEFAULT_MODEL_SHA256), ""


def _read_state(target: Path) -> dict[str, Any]:
    try:
        data = json.loads(state_file(target).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_state(target: Path, **fields: Any) -> None:
    path = state_file(target)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(fields, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:  # the state is a courtesy: never fail an install over it
        log.debug("could not write %s", path, exc_info=True)


def installer_running(target: Path) -> bool:
    """Whether some process holds the install lock of ``target`` right now."""
    try:
        fd = os.open(_lock_file(target), os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def download_started(target: Path, *pids: int) -> bool:
    """Whether an install run by one of the processes ``pids`` has begun: it asks its server
    (or has already heard from it). A state left by an earlier run does not count."""
    return _read_state(target).get("pid") in pids


def download_answered(target: Path, *pids: int) -> bool:
    """Whether the install run by one of the processes ``pids`` heard from its server: bytes
    or a size arrived, or it failed (a refused connection is an answer too). A state left by
    an earlier run does not count."""
    state = _read_state(target)
    if state.get("pid") not in pids:
        return False
    return state.get("state") == "failed" or bool(state.get("total") or state.get("done"))


def _percent(state: Mapping[str, Any]) -> int:
    done, total = state.get("done"), state.get("total")
    if isinstance(done, int) and isinstance(total, int) and total > 0:
        return max(0, min(100, done * 100 // total))
    return 0


def availability(config: Mapping[str, Any], target: Path) -> ModelAvailability:
    """The state of the active model at ``target`` (cheap: a few stat calls and a read)."""
    problems = model_problems(target)
    if not problems:
        return ModelAvailability("installed")
    state = _read_state(target)
    if installer_running(target):
        return ModelAvailability("downloading", percent=_percent(state))
    if state.get("state") == "failed" and state.get("reason"):
        return ModelAvailability("unavailable", reason=str(state["reason"]))
    if state.get("state") == "downloading":
        return ModelAvailability("unavailable", reason=(
            f"下载未完成（已下载 {_percent(state)}%），下次启动 make run 时续传"))
    source, why_not = auto_install_source(config, target)
    if source is None:
        return ModelAvailability("unavailable", reason=why_not)
    if not target.exists():
        return ModelAvailability("unavailable", reason=f"未安装（{target}）")
    return ModelAvailability("unavailable", reason=f"{target} 不完整：{'；'.join(problems)}")


@contextlib.contextmanager
def _install_lock(target: Path) -> Iterator[bool]:
    """Held for the whole install; yields False if another process holds it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(_lock_file(target), os.O_RDWR | os.O_CREAT, 0o640)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


_CAUSES = (
    (("NameResolutionError", "Failed to resolve", "Name or service not known",
      "Temporary failure in name resolution"), "域名无法解析，可能没有网络"),
    (("Connection refused",), "服务器拒绝连接"),
    (("timed out", "Timeout"), "连接超时"),
    (("Network is unreachable", "No route to host"), "网络不可达"),
)


def describe_failure(exc: BaseException, url: str) -> str:
    """A short Chinese reason for a failed install (the full error goes to the log)."""
    text = str(exc)
    host = urlsplit(url).hostname or url
    if "SHA-256 mismatch" in text:
        return f"从 {host} 下载的文件校验失败（SHA-256 不符），已删除"
    if "HTTP " in text and "failed: HTTP" in text:
        return f"从 {host} 下载失败（{text.rsplit('failed: ', 1)[1][:40]}）"
    if "failed after" in text and "resumes" in text:
        return f"从 {host} 下载中断，下次启动 make run 时续传"
    for needles, cause in _CAUSES:
        if any(needle in text for needle in needles):
            return f"无法连接 {host}（{cause}）"
    if "verification" in text or "does not work" in text:
        return "下载的模型无法加载"
    return f"安装失败：{text[:160]}"


def install_if_absent(
    config: Mapping[str, Any],
    target: Path,
    *,
    source: ModelSource | None = None,
    verifier: Verifier = verify_model,
    on_progress: Callable[[int], None] | None = None,
) -> ModelAvailability:
    """Install the active model from ``source`` (default: ``auto_install_source``) unless it
    is there or another process is installing it; returns the state afterwards.

    Never raises for a failed download: the failure is the returned (and recorded) state.
    """
    if not model_problems(target):
        return ModelAvailability("installed")
    if source is None:
        source, why_not = auto_install_source(config, target)
        if source is None:
            return ModelAvailability("unavailable", reason=why_not)
    with _install_lock(target) as mine:
        if not mine:
            return availability(config, target)
        if not model_problems(target):  # installed by the process that held the lock
            return ModelAvailability("installed")
        started = {"url": source.url, "pid": os.getpid()}
        _write_state(target, state="downloading", done=0, total=None, **started)
        last = {"at": 0.0, "percent": -1}

        def progress(done: int, total: int | None) -> None:
            # Every whole percent (or twice a second when the size is unknown).
            percent = done * 100 // total if total else 0
            now = time.monotonic()
            if percent == last["percent"] and now - last["at"] < PROGRESS_EVERY:
                return
            last["at"] = now
            _write_state(target, state="downloading", done=done, total=total, **started)
            if on_progress is not None and percent != last["percent"]:
                on_progress(percent)
            last["percent"] = percent

        try:
            install_model_from(source.url, source.sha256, target, config,
                               verifier=verifier, progress=progress)
        except InstallInProgress:
            return ModelAvailability("downloading", percent=_percent(_read_state(target)))
        except ModelInstallError as exc:
            if not model_problems(target):
                return ModelAvailability("installed")
            reason = describe_failure(exc, source.url)
            _write_state(target, state="failed", reason=reason, detail=str(exc)[:1000],
                         **started)
            log.info("speech model not installed from %s: %s", source.url, exc)
            return ModelAvailability("unavailable", reason=reason)
        state_file(target).unlink(missing_ok=True)
        return ModelAvailability("installed")


def wait_for_install(config: Mapping[str, Any], target: Path, *,
                     on_progress: Callable[[int], None] | None = None,
                     poll: float = 0.5) -> ModelAvailability:
    """The outcome of the install another process is running into ``target`` (a worker node
    and ``make run``'s installer may both start one; the second waits for the first)."""
    last = -1
    while installer_running(target):
        percent = _percent(_read_state(target))
        if on_progress is not None and percent != last:
            on_progress(percent)
        last = percent
        time.sleep(poll)
    return availability(config, target)


def ensure_configured_model(config: Mapping[str, Any], target: Path, *,
                            verifier: Verifier = verify_model) -> bool:
    """A worker node installs its own model from ``VOSK_MODEL_URL`` (docs/deploy.md) when
    the active one is not usable; True if it was installed now."""
    url = str(config.get("VOSK_MODEL_URL") or "")
    if not url or not model_problems(target):
        return False
    sha256 = str(config.get("VOSK_MODEL_SHA256") or "")
    if not sha256:
        log.error("VOSK_MODEL_URL is set without VOSK_MODEL_SHA256: not installing %s", url)
        return False
    log.info("installing the speech model from %s into %s", url, target)
    state = install_if_absent(config, target, source=ModelSource(url, sha256), verifier=verifier)
    if state.state == "unavailable":
        log.error("could not install the speech model from %s: %s", url, state.reason)
    return state.state == "installed"
