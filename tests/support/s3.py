"""A real S3-compatible server for tests: moto's standalone server on loopback, one per test module
(fixture ``s3_server``), stopped by its pid. It is a pip package of the ``dev`` extra, so a failure to
start fails the tests rather than skipping them.

Use it from any test folder: ``from tests.support.s3 import S3Server, s3_server  # noqa: F401``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

__all__ = ["KEY", "SECRET", "S3Server", "aws_environment", "free_port", "s3_server", "use_test_keys"]

KEY = "mlws-test-key-id"
SECRET = "mlws-test-secret-7f3c9a"  # a value grep can find in any file that leaks it


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str
    pid: int

    def credentials(self) -> dict[str, str]:
        return {"key": KEY, "secret": SECRET, "endpoint_url": self.endpoint_url}

    def environment(self) -> dict[str, str]:
        """The standard AWS variables a process needs to reach this server (keys and endpoint)."""
        return aws_environment(self.endpoint_url)

    def create_bucket(self) -> str:
        import boto3

        name = f"bucket-{uuid.uuid4().hex[:10]}"
        client = boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=KEY,
            aws_secret_access_key=SECRET,
            region_name="us-east-1",
        )
        client.create_bucket(Bucket=name)
        return name


def aws_environment(endpoint_url: str) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_DEFAULT_REGION": "us-east-1",
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def s3_server() -> Iterator[S3Server]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                pytest.fail(f"moto's S3 server exited with code {proc.returncode} before answering")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("moto's S3 server did not answer within 30 s")
                time.sleep(0.1)
        yield S3Server(f"http://127.0.0.1:{port}", proc.pid)
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()


def use_test_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """This process has the test server's keys in the standard AWS variables, and nothing else of AWS
    from the machine (no endpoint: each test says where its endpoint comes from)."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
