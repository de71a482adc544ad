"""``python -m workers.live``: the live-transcription process (``live.server``).

Its own process, started and supervised by ``make run`` (``workers.stack``) and a role of
its own in docs/deploy.md, so decoding never delays a webhook or a voicemail's transcription.
"""

from __future__ import annotations

import argparse
import asyncio
import logging

from core.settings import setting
from live.server import build, run

log = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="8718 live transcription (Twilio Media Streams)")
    parser.add_argument("--host", default=None)
    parser.add_argument("--port", type=int, default=None)
    args = parser.parse_args(argv)
    from app import create_app

    app = create_app()
    server = build(app)
    if server.model is None:
        log.warning("no speech model: operator calls get no live transcript until one is "
                    "installed and this process restarts")
    host = args.host or str(setting(app.config, "HOST"))
    port = args.port or int(setting(app.config, "LIVE_PORT"))
    asyncio.run(run(server, host, port))


if __name__ == "__main__":
    main()
