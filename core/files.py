"""Files the app creates are readable by its own user (and group), never by everybody.

Recordings, the SQLite database, Redis's append-only file and the instance secrets all hold
callers' or the installation's private data; a login shell's usual umask (022) would leave
them world-readable.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# New files 640, new directories 750.
PRIVATE_UMASK = 0o027


def restrict_new_files() -> None:
    """From now on this process (and the children it starts) creates no world-readable file."""
    os.umask(os.umask(PRIVATE_UMASK) | PRIVATE_UMASK)


@contextmanager
def private_umask() -> Iterator[None]:
    """Only inside the block (e.g. while spawning a server that writes its own files)."""
    previous = os.umask(PRIVATE_UMASK)
    try:
        yield
    finally:
        os.umask(previous)


def private_directory(path: Path) -> Path:
    """Create ``path`` (mode 750) if needed; take away everybody's access to an existing one."""
    path.mkdir(parents=True, exist_ok=True, mode=0o750)
    mode = path.stat().st_mode
    if mode & 0o007:
        path.chmod(mode & 0o770)
    return path


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to a file only its owner can read (mode 600 from creation on)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    path.chmod(0o600)
