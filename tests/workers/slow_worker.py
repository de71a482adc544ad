"""``python -m tests.workers.slow_worker``: the real worker, each decode held up for a minute.

Tests that kill a worker mid-decode run this instead of ``workers.worker``: the delay is
injected here, so the product has no test-only switch. The work horse is forked from this
process and inherits the patched decoder.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from transcription import pipeline
from workers import worker

DELAY_SECONDS = 60.0
_decode_file = pipeline.decode_file


def _slow_decode_file(path: Path, engine: Any) -> Any:
    time.sleep(DELAY_SECONDS)
    return _decode_file(path, engine)


if __name__ == "__main__":
    pipeline.decode_file = _slow_decode_file
    worker.main()
