"""The key that encrypts a workspace's secrets (issue 21), kept outside the database.

Looked for in this order:

1. ``MLWS_SECRET_KEY``: a Fernet key (32 bytes, url-safe base64). Required for a team workspace
   (PostgreSQL metadata), where every member sets the same key.
2. The OS keyring, service ``jupyter-mlws``, user ``secret-key`` — only when the ``keyring`` package
   imports and has a usable backend (not its fail or null backend). The key is **per user, not per
   workspace**, like the key file: one key for the user's local workspaces.
3. A key file, ``$XDG_CONFIG_HOME/jupyter-mlws/secret.key`` (default ``~/.config/jupyter-mlws/secret.key``),
   made 0600 in a 0700 folder, atomically, on the first write of a secret.

Reading a secret with no key anywhere is an error naming every place looked; so is a malformed key.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidArgumentError, InvalidStateError
from .layout import ENV_NEW_SECRET_KEY, ENV_SECRET_KEY

if TYPE_CHECKING:  # cryptography is imported when a secret is used: a job's runtime needs none of it
    from cryptography.fernet import Fernet

__all__ = [
    "ENV",
    "KEYRING_SERVICE",
    "KEYRING_USER",
    "MAKE_KEY",
    "NEW_ENV",
    "SecretKey",
    "SecretKeyError",
    "key_file",
    "load_key",
    "parse_key",
    "save_key",
]

ENV = ENV_SECRET_KEY
NEW_ENV = ENV_NEW_SECRET_KEY
KEYRING_SERVICE = "jupyter-mlws"
KEYRING_USER = "secret-key"
MAKE_KEY = 'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'


class SecretKeyError(InvalidStateError):
    """No usable key: missing, malformed, the wrong one, or not allowed where it was found."""


@dataclass(frozen=True)
class SecretKey:
    key: bytes
    #: Where it came from, for messages: ``"MLWS_SECRET_KEY"``, ``"the OS keyring (...)"`` or the file.
    source: str
    #: ``"env"``, ``"keyring"`` or ``"file"``.
    kind: str

    def fernet(self) -> Fernet:
        from cryptography.fernet import Fernet

        return Fernet(self.key)

    def __repr__(self) -> str:  # never the key itself
        return f"SecretKey(source={self.source!r})"


def parse_key(text: str | bytes, where: str) -> bytes:
    """``text`` as a Fernet key, or SecretKeyError saying what is wrong with the key found at ``where``."""
    raw = text.strip().encode() if isinstance(text, str) else text.strip()
    try:
        decoded = base64.urlsafe_b64decode(raw)
    except (binascii.Error, ValueError):
        decoded = b""
    if len(decoded) != 32 or not raw:
        raise SecretKeyError(
            f"the secret key in {where} is malformed: it must be 32 bytes in url-safe base64 "
            f"(44 characters, a Fernet key); make one with {MAKE_KEY}"
        )
    return raw


def key_file() -> Path:
    """``$XDG_CONFIG_HOME/jupyter-mlws/secret.key`` (default ``~/.config/jupyter-mlws/secret.key``)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "jupyter-mlws" / "secret.key"


def _keyring() -> Any | None:
    """The ``keyring`` module when it imports and has a usable backend, else None."""
    try:
        import keyring  # type: ignore[import-not-found,unused-ignore]
    except Exception:
        return None
    try:
        backend = keyring.get_keyring()
    except Exception:
        return None
    module = type(backend).__module__
    if module.endswith((".fail", ".null")) or getattr(backend, "priority", 1) <= 0:
        return None
    return keyring


_KEYRING_SOURCE = f"the OS keyring (service {KEYRING_SERVICE!r}, user {KEYRING_USER!r})"


def load_key(*, team: bool = False, create: bool = False) -> SecretKey:
    """The key, from the first place that has one. ``team``: only ``MLWS_SECRET_KEY`` is allowed.
    ``create``: when there is none, make one in the keyring or the key file (a write of a secret)."""
    env = os.environ.get(ENV)
    if env:
        return SecretKey(parse_key(env, ENV), ENV, "env")
    if team:
        raise SecretKeyError(
            f"this is a team workspace (PostgreSQL metadata): set {ENV} to the team's key, the same for every "
            f"member (make one with {MAKE_KEY}); a keyring or key file on one machine is not allowed"
        )
    ring = _keyring()
    if ring is not None:
        with contextlib.suppress(Exception):
            stored = ring.get_password(KEYRING_SERVICE, KEYRING_USER)
            if stored:
                return SecretKey(parse_key(stored, _KEYRING_SOURCE), _KEYRING_SOURCE, "keyring")
    path = key_file()
    if path.is_file():
        return SecretKey(parse_key(path.read_bytes(), str(path)), str(path), "file")
    looked = f"{ENV} (not set), " + ("the OS keyring (no key), " if ring is not None else "") + f"{path} (no file)"
    if not create:
        raise SecretKeyError(
            f"no secret key was found: looked in {looked}. A key is made on the first set_secret, or set {ENV} "
            f"(make one with {MAKE_KEY})"
        )
    from cryptography.fernet import Fernet

    return save_key(Fernet.generate_key(), "keyring" if ring is not None else "file")


def save_key(key: bytes, kind: str) -> SecretKey:
    """Store ``key`` in the keyring or the key file (``kind``) and return it; the file is replaced atomically
    (0600 in a 0700 folder). An ``env`` key cannot be written: InvalidArgumentError."""
    key = parse_key(key, "the new key")
    if kind == "keyring":
        ring = _keyring()
        if ring is None:
            raise SecretKeyError("the OS keyring is not available to store the secret key in")
        ring.set_password(KEYRING_SERVICE, KEYRING_USER, key.decode())
        return SecretKey(key, _KEYRING_SOURCE, "keyring")
    if kind != "file":
        raise InvalidArgumentError(f"a key from {ENV} cannot be written by mlws; set {ENV} to the new key yourself")
    path = key_file()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".secret.key.")  # mkstemp makes it 0600
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(key + b"\n")
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return SecretKey(key, str(path), "file")
