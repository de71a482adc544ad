"""Each worker node installs its own speech model: VOSK_MODEL_URL + VOSK_MODEL_SHA256.

Nodes share no disk, so the model cannot be copied once for all. A worker that finds no
usable model at VOSK_MODEL_PATH fetches the zip (https:// as published, or s3://bucket/key
from the deployment's own object store, with the recording store's credentials), checks its
SHA-256 and installs it like ``flask model install`` (atomically, verified by a real load).
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from transcription.model_store import (
    ModelInstallError,
    ProgressCallback,
    Verifier,
    install_from_url,
    install_from_zip,
    verify_model,
)


def install_model_from(url: str, sha256: str, target: Path, config: Mapping[str, Any], *,
                       verifier: Verifier = verify_model,
                       progress: ProgressCallback | None = None) -> Path:
    """Install the zip at ``url`` (https:// or s3://) as the model directory ``target``."""
    models_dir = target.parent
    models_dir.mkdir(parents=True, exist_ok=True)
    parts = urlsplit(url)
    if parts.scheme != "s3":
        return install_from_url(url, models_dir, sha256=sha256, name=target.name,
                                verifier=verifier, progress=progress)
    from recordings.config import s3_client

    with tempfile.NamedTemporaryFile(prefix=".download-", suffix=".zip", dir=models_dir) as tmp:
        try:
            s3_client(config).download_fileobj(parts.netloc, parts.path.lstrip("/"), tmp)
        except Exception as exc:
            raise ModelInstallError(f"downloading {url} failed: {exc}") from exc
        tmp.flush()
        return install_from_zip(Path(tmp.name), models_dir, sha256=sha256, name=target.name,
                                verifier=verifier)
