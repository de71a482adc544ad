"""Worker nodes install their own model from VOSK_MODEL_URL (s3:// or https) + SHA-256."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from transcription.engine import model_problems
from transcription.model_setup import ensure_configured_model
from transcription.model_store import ModelInstallError

FILES = {"am/final.mdl": b"am", "conf/model.conf": b"c", "conf/mfcc.conf": b"m",
         "graph/HCLG.fst": b"g"}


def check_layout(path: Path) -> None:
    """Stands in for a real Vosk load (the layout is what the real model needs)."""
    problems = model_problems(path)
    if problems:
        raise ModelInstallError("; ".join(problems))


@pytest.fixture
def model_zip(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "vosk-model-test.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in FILES.items():
            archive.writestr(f"vosk-model-test/{name}", data)
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_worker_installs_the_model_from_the_object_store(tmp_path: Path, seaweed: Any,
                                                           s3_url: str, model_zip: Any) -> None:
    archive, sha256 = model_zip
    parts = urlsplit(s3_url)
    key = f"{parts.path.lstrip('/')}/models/vosk-model-test.zip"
    seaweed.client().upload_file(str(archive), parts.netloc, key)
    config = {"VOSK_MODEL_URL": f"s3://{parts.netloc}/{key}", "VOSK_MODEL_SHA256": sha256,
              **seaweed.settings()}
    target = tmp_path / "node-a" / "models" / "vosk-model-small-cn-0.22"

    assert ensure_configured_model(config, target, verifier=check_layout) is True
    assert model_problems(target) == [] and (target / "am/final.mdl").read_bytes() == b"am"
    assert ensure_configured_model(config, target, verifier=check_layout) is False  # present

    wrong = {**config, "VOSK_MODEL_SHA256": "0" * 64}
    other = tmp_path / "node-b" / "models" / "vosk-model-small-cn-0.22"
    assert ensure_configured_model(wrong, other, verifier=check_layout) is False
    assert not other.exists()  # a zip that is not the one named is never installed


def test_a_worker_installs_the_model_from_a_url(tmp_path: Path, http_server: Any,
                                                model_zip: Any) -> None:
    archive, sha256 = model_zip
    url = http_server.script("/models/vosk-model-test.zip", http_server.reply(
        body=archive.read_bytes(), headers=(("Content-Type", "application/zip"),)))
    target = tmp_path / "models" / "active"
    config = {"VOSK_MODEL_URL": url, "VOSK_MODEL_SHA256": sha256}
    assert ensure_configured_model(config, target, verifier=check_layout) is True
    assert model_problems(target) == []
    no_checksum = {"VOSK_MODEL_URL": url}
    assert ensure_configured_model(no_checksum, tmp_path / "m2" / "x",
                                   verifier=check_layout) is False
