"""A small closed-loop load generator: N threads, one keep-alive connection each, timings.

Stdlib only (``http.client``): a light client steals less of the 2 cores from the servers
under test than ``requests`` would, and it talks to 127.0.0.1 only.
"""

from __future__ import annotations

import http.client
import math
import queue
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")
LOCAL_HOSTS = frozenset({"127.0.0.1"})
# Errors a reused keep-alive connection raises when the server closed it in between.
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
          http.client.CannotSendRequest)


@dataclass(frozen=True)
class Sample:
    """One request: which endpoint, its HTTP status (0 = no response) and its latency."""

    endpoint: str
    status: int
    latency_ms: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and 200 <= self.status < 400


class Connection:
    """One HTTP/1.1 connection to a local server, reopened whenever the server closes it."""

    def __init__(self, host: str, port: int, timeout: float = 15.0) -> None:
        if host not in LOCAL_HOSTS:
            raise ValueError(f"refusing to load-test {host!r}: 127.0.0.1 only")
        self.host, self.port, self.timeout = host, port, timeout
        self._conn: http.client.HTTPConnection | None = None
        self.reconnects = 0

    def _open(self) -> http.client.HTTPConnection:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        conn.connect()
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes, float]:
        """POST and read the whole answer; returns (status, body, latency in ms).

        The clock runs from just before the request is written until the last body byte is
        read; it includes opening the TCP connection when the server does not keep it alive.
        """
        for attempt in (1, 2):
            reused = self._conn is not None
            started = time.perf_counter()
            try:
                if self._conn is None:
                    self._conn = self._open()
                self._conn.request("POST", path, body, headers)
                response = self._conn.getresponse()
                data = response.read()
            except _STALE:
                self.close()
                if reused and attempt == 1:
                    self.reconnects += 1
                    continue
                raise
            except BaseException:
                self.close()
                raise
            elapsed = (time.perf_counter() - started) * 1000.0
            if response.will_close:
                self.close()
            return response.status, data, elapsed
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


@dataclass
class RunResult(Generic[T]):
    """What a closed-loop run produced: per-job results, wall time, what did not finish."""

    results: list[T] = field(default_factory=list)
    wall_seconds: float = 0.0
    unfinished: int = 0
    failures: list[str] = field(default_factory=list)
    reconnects: int = 0


def run_closed_loop(
    jobs: Sequence[object],
    worker: Callable[[object, Connection], T],
    *,
    host: str,
    port: int,
    concurrency: int,
    deadline: float,
    timeout: float = 15.0,
    ramp_seconds: float = 0.0,
) -> RunResult[T]:
    """Run ``worker(job, connection)`` for every job on ``concurrency`` threads.

    Each thread takes the next job as soon as its previous one is done (a closed loop:
    ``concurrency`` jobs are always in flight). No new job starts after ``deadline``
    (a ``time.monotonic()`` value); those are counted as unfinished. Thread ``i`` starts
    ``ramp_seconds * i / concurrency`` late, so the loops do not run in lockstep.
    """
    todo: queue.SimpleQueue[object] = queue.SimpleQueue()
    for job in jobs:
        todo.put(job)
    out: RunResult[T] = RunResult()
    lock = threading.Lock()
    stop = threading.Event()

    def loop(index: int) -> None:
        time.sleep(ramp_seconds * index / max(1, concurrency))
        conn = Connection(host, port, timeout)
        try:
            while not stop.is_set():
                try:
                    job = todo.get_nowait()
                except queue.Empty:
                    return
                if time.monotonic() > deadline:
                    with lock:
                        out.unfinished += 1
                    continue
                try:
                    result = worker(job, conn)
                except Exception as exc:  # a bug or a dead server: report, keep going
                    conn.close()
                    with lock:
                        out.failures.append(f"{type(exc).__name__}: {exc}")
                    continue
                with lock:
                    out.results.append(result)
        finally:
            conn.close()
            with lock:
                out.reconnects += conn.reconnects

    threads = [threading.Thread(target=loop, args=(i,), daemon=True, name=f"load-{i}")
               for i in range(max(1, concurrency))]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(0.2)
    finally:
        stop.set()
    out.wall_seconds = time.perf_counter() - started
    return out


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100) of already sorted values; NaN if empty."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100.0 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass(frozen=True)
class Summary:
    """Latency and throughput figures of one server in one round."""

    requests: int
    errors: int
    p50: float
    p90: float
    p99: float
    max: float
    throughput: float

    @classmethod
    def of(cls, samples: Sequence[Sample], wall_seconds: float) -> Summary:
        latencies = sorted(s.latency_ms for s in samples)
        return cls(
            requests=len(samples),
            errors=sum(1 for s in samples if not s.ok),
            p50=percentile(latencies, 50),
            p90=percentile(latencies, 90),
            p99=percentile(latencies, 99),
            max=latencies[-1] if latencies else math.nan,
            throughput=len(samples) / wall_seconds if wall_seconds > 0 else math.nan,
        )
