"""Workspace secrets (issue 21): ``ws.get_default_keyvault()`` with v1's names, encrypted at rest with a
key kept outside the database; wrong, missing and malformed keys are clear errors naming where the key
was looked for; rotation re-encrypts everything or nothing; a team workspace needs ``MLWS_SECRET_KEY``.
"""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from jupyter_mlws import Keyvault, Workspace
from jupyter_mlws.core import secret_key
from jupyter_mlws.core.secret_key import SecretKeyError
from jupyter_mlws.errors import InvalidArgumentError, NotFoundError

VALUE = "s3cr3t-value-that-must-not-leak-7f3a"


@pytest.fixture(autouse=True)
def key_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No OS keyring, the key file under this test's own XDG_CONFIG_HOME."""
    monkeypatch.setattr(secret_key, "_keyring", lambda: None)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path / "config" / "jupyter-mlws" / "secret.key"


def test_v1_names_round_trip(ws: Workspace, key_home: Path) -> None:
    kv = ws.get_default_keyvault()
    assert isinstance(kv, Keyvault)
    kv.set_secret("API-KEY", VALUE)
    kv.set_secrets({"db-password": "pw", "token": "t"})
    assert kv.get_secret("API-KEY") == VALUE
    assert kv.get_secrets(["token", "db-password"]) == {"token": "t", "db-password": "pw"}
    assert kv.list_secrets() == [{"name": "API-KEY"}, {"name": "db-password"}, {"name": "token"}]
    kv.set_secret("token", "t2")
    assert kv.get_secret("token") == "t2"
    kv.delete_secret("token")
    assert [s["name"] for s in kv.list_secrets()] == ["API-KEY", "db-password"]
    with pytest.raises(NotFoundError, match=r"'token' does not exist.*list_secrets\(\)"):
        kv.get_secret("token")
    assert VALUE not in repr(kv)


def test_the_key_file_is_private_and_made_on_first_write(ws: Workspace, key_home: Path) -> None:
    kv = ws.get_default_keyvault()
    assert kv.list_secrets() == [] and not key_home.exists()  # reading names needs no key
    kv.set_secret("a", VALUE)
    assert stat.S_IMODE(key_home.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_home.parent.stat().st_mode) == 0o700
    assert not [p for p in key_home.parent.iterdir() if p != key_home]  # no temporary file left


def test_find_needs_a_key_only_for_a_secret_that_exists(ws: Workspace, key_home: Path) -> None:
    """``find`` is how a caller reads a secret that may be absent (a datastore's credentials)."""
    service = ws.services.secrets
    assert service.find("absent") is None and not key_home.exists()  # no key looked for, none made
    ws.get_default_keyvault().set_secret("present", VALUE)
    assert service.find("present") == VALUE
    key_home.unlink()
    assert service.find("absent") is None
    with pytest.raises(SecretKeyError, match="no secret key was found"):
        service.find("present")


def test_bad_names_and_values_are_refused(ws: Workspace) -> None:
    kv = ws.get_default_keyvault()
    with pytest.raises(InvalidArgumentError, match="1-127 letters, digits and '-'"):
        kv.set_secret("bad name", "v")
    with pytest.raises(InvalidArgumentError, match="1-127"):
        kv.set_secret("", "v")
    with pytest.raises(InvalidArgumentError, match="value is empty"):
        kv.set_secret("a", "")
    with pytest.raises(InvalidArgumentError, match="must be a str, not int"):
        kv.set_secret("a", 3)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="must be a str"):
        kv.set_secrets({"ok": "v", "bad": b"v"})  # type: ignore[dict-item]
    assert kv.list_secrets() == []  # all checked before any is written


def test_the_value_is_in_no_byte_of_the_database(ws: Workspace) -> None:
    ws.get_default_keyvault().set_secret("API-KEY", VALUE)
    ws.flush()
    from jupyter_mlws.core.workspace import close_backends

    close_backends()
    data = b"".join(p.read_bytes() for p in ws.path.rglob("*") if p.is_file())
    assert data  # the database is there
    for needle in (VALUE.encode(), base64.b64encode(VALUE.encode()), base64.urlsafe_b64encode(VALUE.encode())):
        assert needle not in data
    assert Workspace(ws.root).get_default_keyvault().get_secret("API-KEY") == VALUE


def test_a_missing_key_names_every_place_looked(ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kv = ws.get_default_keyvault()
    kv.set_secret("a", VALUE)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "elsewhere"))
    with pytest.raises(SecretKeyError, match="no secret key was found") as info:
        kv.get_secret("a")
    assert "MLWS_SECRET_KEY" in info.value.message
    assert str(tmp_path / "elsewhere" / "jupyter-mlws" / "secret.key") in info.value.message


def test_a_wrong_key_says_where_it_came_from(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    kv = ws.get_default_keyvault()
    kv.set_secret("a", VALUE)
    monkeypatch.setenv("MLWS_SECRET_KEY", Fernet.generate_key().decode())
    with pytest.raises(SecretKeyError, match="key from MLWS_SECRET_KEY: the secrets were written with another key"):
        kv.get_secret("a")


@pytest.mark.parametrize("bad", ["not-a-key", base64.urlsafe_b64encode(b"short").decode(), "!" * 44])
def test_a_malformed_key_says_what_is_wrong_and_how_to_make_one(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, bad: str
) -> None:
    monkeypatch.setenv("MLWS_SECRET_KEY", bad)
    with pytest.raises(SecretKeyError, match="MLWS_SECRET_KEY is malformed: it must be 32 bytes") as info:
        ws.get_default_keyvault().set_secret("a", VALUE)
    assert "Fernet.generate_key()" in info.value.message and bad not in info.value.message


def test_an_environment_key_wins_and_no_file_is_made(
    ws: Workspace, key_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("MLWS_SECRET_KEY", key)
    kv = ws.get_default_keyvault()
    kv.set_secret("a", VALUE)
    assert not key_home.exists()
    token = ws.metadata.get_secret_ciphertext("a")
    assert Fernet(key.encode()).decrypt(token.encode()).decode() == VALUE


def test_rotation_re_encrypts_everything(ws: Workspace, key_home: Path) -> None:
    kv = ws.get_default_keyvault()
    kv.set_secrets({"a": VALUE, "b": "other"})
    old = key_home.read_bytes().strip()
    before = ws.metadata.get_secret_ciphertext("a")
    assert kv.rotate_key() == str(key_home)
    new = key_home.read_bytes().strip()
    assert new != old and stat.S_IMODE(key_home.stat().st_mode) == 0o600
    assert kv.get_secrets(["a", "b"]) == {"a": VALUE, "b": "other"}
    after = ws.metadata.get_secret_ciphertext("a")
    assert after != before
    with pytest.raises(Exception):  # noqa: B017 - the old key no longer opens it
        Fernet(old).decrypt(after.encode())


def test_rotation_with_an_environment_key(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLWS_SECRET_KEY", Fernet.generate_key().decode())
    kv = ws.get_default_keyvault()
    kv.set_secret("a", VALUE)
    with pytest.raises(InvalidArgumentError, match="cannot rewrite: give the new key"):
        kv.rotate_key()
    new = Fernet.generate_key().decode()
    assert "MLWS_SECRET_KEY" in kv.rotate_key(new)
    with pytest.raises(SecretKeyError, match="written with another key"):
        kv.get_secret("a")
    monkeypatch.setenv("MLWS_SECRET_KEY", new)
    assert kv.get_secret("a") == VALUE


def test_a_failed_rotation_changes_nothing(ws: Workspace, key_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kv = ws.get_default_keyvault()
    kv.set_secret("a", VALUE)
    # one secret written with another key: it cannot be decrypted, so the rotation must not start
    ws.metadata.put_secret("stray", Fernet(Fernet.generate_key()).encrypt(b"x").decode(), 1.0)
    old_file = key_home.read_bytes()
    before = {n: ws.metadata.get_secret_ciphertext(n) for n in ("a", "stray")}
    with pytest.raises(SecretKeyError, match="'stray' cannot be decrypted"):
        kv.rotate_key()
    assert key_home.read_bytes() == old_file
    assert {n: ws.metadata.get_secret_ciphertext(n) for n in ("a", "stray")} == before
    assert kv.get_secret("a") == VALUE


@pytest.mark.postgres
def test_a_team_workspace_needs_the_environment_key(
    tmp_path: Path, postgres_url: str, key_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    team = Workspace.create(tmp_path / "team", metadata_url=postgres_url)
    kv = team.get_default_keyvault()
    with pytest.raises(SecretKeyError, match=r"team workspace .*set MLWS_SECRET_KEY"):
        kv.set_secret("a", VALUE)
    assert not key_home.exists() and kv.list_secrets() == []
    monkeypatch.setenv("MLWS_SECRET_KEY", Fernet.generate_key().decode())
    kv.set_secret("a", VALUE)
    assert kv.get_secret("a") == VALUE
    monkeypatch.delenv("MLWS_SECRET_KEY")
    with pytest.raises(SecretKeyError, match="team workspace"):
        kv.get_secret("a")
