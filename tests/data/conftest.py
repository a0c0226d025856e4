"""The datastore tests' real S3-compatible server (moto, one per test module) lives in
``tests/support/s3.py``, shared with other test folders; this folder also keeps the machine's AWS
variables out of its tests, and gives each test a vault key of its own (datastore credentials are vault
secrets): ``MLWS_SECRET_KEY``, unless a test asks for ``key_file_only``."""

from __future__ import annotations

import os

import pytest

from tests.support.s3 import KEY, SECRET, S3Server, free_port, s3_server
from tests.support.vault import key_file_only, vault_key

__all__ = [
    "KEY",
    "SECRET",
    "S3Server",
    "free_port",
    "key_file_only",
    "no_aws_environment",
    "s3_server",
    "vault_key",
    "vault_key_per_test",
]


@pytest.fixture(autouse=True)
def no_aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests choose the AWS variables they use; none leaks in from the machine."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)


@pytest.fixture(autouse=True)
def vault_key_per_test(vault_key: str) -> str:
    """Datastore credentials go to the vault: its key is this test's, never the machine's."""
    return vault_key
