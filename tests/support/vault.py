"""The workspace vault's key for tests (issue 21): never the developer's. Registering a datastore with
credentials writes a vault secret, and so a key: without these fixtures it would land in the machine's
``~/.config/jupyter-mlws/secret.key`` or OS keyring.

- ``vault_key``: a fresh key in ``MLWS_SECRET_KEY`` (as a team workspace's members set it); the jobs,
  agents and workers a test starts inherit it.
- ``key_file_only``: no ``MLWS_SECRET_KEY`` and no OS keyring; the key file under this test's own
  ``XDG_CONFIG_HOME`` (a local workspace's default), which subprocesses started by the test find too.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_mlws.core import secret_key

__all__ = ["key_file_only", "new_key", "vault_key"]


def new_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


@pytest.fixture
def vault_key(monkeypatch: pytest.MonkeyPatch, _isolate_environment: None) -> str:
    """A fresh secret key in ``MLWS_SECRET_KEY`` (set after the shared fixture clears it)."""
    key = new_key()
    monkeypatch.setenv(secret_key.ENV, key)
    return key


@pytest.fixture
def key_file_only(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, _isolate_environment: None) -> Path:
    """The key file of this test (returned; made on the first secret written), and no other place."""
    monkeypatch.delenv(secret_key.ENV, raising=False)
    monkeypatch.setattr(secret_key, "_keyring", lambda: None)
    # Subprocesses import keyring afresh: its "fail" backend is one secret_key treats as no keyring.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return secret_key.key_file()
