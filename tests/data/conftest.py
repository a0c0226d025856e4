"""The datastore tests' real S3-compatible server (moto, one per test module) lives in
``tests/support/s3.py``, shared with other test folders; this folder also keeps the machine's AWS
variables out of its tests."""

from __future__ import annotations

import os

import pytest

from tests.support.s3 import KEY, SECRET, S3Server, free_port, s3_server

__all__ = ["KEY", "SECRET", "S3Server", "free_port", "no_aws_environment", "s3_server"]


@pytest.fixture(autouse=True)
def no_aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests choose the AWS variables they use; none leaks in from the machine."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
