"""When figures computed ahead may be served: how often the job runs, how old is too old, and
the digest of the settings they were computed with.

Shared by the periodic snapshots (:mod:`reports.snapshots`) and the counts by day
(:mod:`reports.daily`), which are written by the same job and served by the same rule.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from datetime import timedelta

from reports.indicators import Scope

# The job runs every REFRESH_SECONDS; figures older than MAX_AGE (the job is behind or
# stopped) are not served: the page computes its figures instead.
REFRESH_SECONDS = 300
MAX_AGE = timedelta(seconds=3 * REFRESH_SECONDS)


def settings_digest(scope: Scope) -> str:
    """The time zone and the report settings, digested."""
    settings = json.dumps(asdict(scope.settings), sort_keys=True, default=list)
    return hashlib.sha256(f"{scope.tz.key}|{settings}".encode()).hexdigest()[:16]
