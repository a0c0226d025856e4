"""``mlws secrets`` (issue 21): set from stdin (never argv), list without values, delete, rotate-key; mistakes
are one line (exit 2 for usage, 1 for errors)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from jupyter_mlws import Workspace
from jupyter_mlws.core import secret_key
from tests.test_cli import assert_one_line_error, mlws

VALUE = "cli-secret-value-9d2e"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def key_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(secret_key, "_keyring", lambda: None)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path / "config" / "jupyter-mlws" / "secret.key"


def stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))


def test_set_list_delete(ws: Workspace, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    w = str(ws.root)
    stdin(monkeypatch, VALUE + "\n")
    result = mlws(capsys, "-w", w, "secrets", "set", "API-KEY")
    assert result.code == 0 and VALUE not in result.out + result.err
    stdin(monkeypatch, "two\nlines\n\n")  # only one trailing newline is removed
    assert mlws(capsys, "-w", w, "secrets", "set", "multi").code == 0
    kv = ws.get_default_keyvault()
    assert kv.get_secret("API-KEY") == VALUE and kv.get_secret("multi") == "two\nlines\n"

    table = mlws(capsys, "-w", w, "secrets", "list")
    assert table.code == 0 and "API-KEY" in table.out and "multi" in table.out and VALUE not in table.out
    listed = mlws(capsys, "-w", w, "secrets", "list", "--json").json()
    assert [s["name"] for s in listed] == ["API-KEY", "multi"]
    assert set(listed[0]) == {"name", "created_time", "updated_time"} and VALUE not in json.dumps(listed)

    assert mlws(capsys, "-w", w, "secrets", "delete", "multi").code == 0
    assert [s["name"] for s in mlws(capsys, "-w", w, "secrets", "list", "--json").json()] == ["API-KEY"]
    line = assert_one_line_error(mlws(capsys, "-w", w, "secrets", "delete", "multi"))
    assert "'multi' does not exist" in line


def test_mistakes_are_one_line(
    ws: Workspace, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    w = str(ws.root)
    stdin(monkeypatch, VALUE)
    # a value on the command line is refused: there is no VALUE argument
    line = assert_one_line_error(mlws(capsys, "-w", w, "secrets", "set", "a", VALUE), 2, "")
    assert "usage error" in line and VALUE in line  # argparse echoes the stray word; nothing was stored
    assert ws.get_default_keyvault().list_secrets() == []
    line = assert_one_line_error(mlws(capsys, "-w", w, "secrets", "set", "bad name"), 2, "")
    assert "1-127 letters, digits and '-'" in line
    stdin(monkeypatch, "")
    assert "stdin was empty" in assert_one_line_error(mlws(capsys, "-w", w, "secrets", "set", "a"))
    monkeypatch.setenv("MLWS_SECRET_KEY", "nonsense")
    stdin(monkeypatch, VALUE)
    line = assert_one_line_error(mlws(capsys, "-w", w, "secrets", "set", "a"))
    assert "MLWS_SECRET_KEY is malformed" in line


def test_rotate_key(
    ws: Workspace, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, key_home: Path
) -> None:
    w = str(ws.root)
    ws.get_default_keyvault().set_secret("a", VALUE)
    old = key_home.read_bytes()
    result = mlws(capsys, "-w", w, "secrets", "rotate-key")
    assert result.code == 0 and f"re-encrypted 1 secret; the new key is kept in {key_home}" in result.out
    assert key_home.read_bytes() != old and ws.get_default_keyvault().get_secret("a") == VALUE

    new = Fernet.generate_key().decode()
    monkeypatch.setenv("MLWS_NEW_SECRET_KEY", new)
    assert mlws(capsys, "-w", w, "secrets", "rotate-key").code == 0
    assert key_home.read_text().strip() == new and ws.get_default_keyvault().get_secret("a") == VALUE

    monkeypatch.delenv("MLWS_NEW_SECRET_KEY")
    monkeypatch.setenv("MLWS_SECRET_KEY", new)
    line = assert_one_line_error(mlws(capsys, "-w", w, "secrets", "rotate-key"))
    assert "MLWS_NEW_SECRET_KEY" in line


def test_a_piped_value_in_a_real_process(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLWS_SECRET_KEY", Fernet.generate_key().decode())  # whatever keyring the machine has
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "jupyter_mlws.cli", "-w", str(ws.root), "secrets"]
    proc = subprocess.run(
        [*command, "set", "API-KEY"], input=VALUE + "\n", env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert VALUE not in proc.stdout + proc.stderr
    listed = subprocess.run([*command, "list"], env=env, capture_output=True, text=True, timeout=60)
    assert "API-KEY" in listed.stdout and VALUE not in listed.stdout
    assert ws.get_default_keyvault().get_secret("API-KEY") == VALUE
