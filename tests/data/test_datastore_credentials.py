"""Datastore credentials in the workspace vault (issue 21, item 2): ``Datastore.register(…, credentials=…)``
keeps the secret options as one vault secret per datastore — in no file of the workspace and not in the
database's bytes, in plaintext or base64 — and reads them back wherever the datastore is used, a job's
supervisor included; re-registering updates or deletes them, unregistering deletes them; a pre-vault
workspace's ``.mlws/datastore-credentials.json`` moves into the vault on first use; a wrong or missing
key is a clear error naming the datastore, where the key was looked for and the fix."""

from __future__ import annotations

import base64
import json
import multiprocessing
import os
import sys
import time
import uuid
from pathlib import Path

import pytest

from jupyter_mlws import Dataset, Datastore, ScriptRunConfig, Workspace
from jupyter_mlws.core.secret_key import SecretKeyError
from jupyter_mlws.data.datastore import LEGACY_CREDENTIALS_FILE, credentials_secret_name
from jupyter_mlws.errors import NotFoundError
from tests.compute.conftest import TIMEOUT, JobKit, _job_processes, kit  # noqa: F401 (fixtures)
from tests.data.conftest import KEY, SECRET, S3Server
from tests.support.secret_scan import sqlite_dump_holds
from tests.support.vault import new_key


def _encodings(value: str) -> list[bytes]:
    """``value`` and the base64 of it at each of the three alignments it could have inside a longer
    encoded text (standard and URL-safe alphabets), without the edge characters its neighbours change —
    stricter than ``secret_scan.needles``, which finds the value's base64 only when encoded alone: the
    credentials are stored as a JSON document, where the value sits at any offset."""
    raw = value.encode()
    found = [raw]
    for pad in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            text = encode(b"\0" * pad + raw).rstrip(b"=")
            found.append(text[4 if pad else 0 : -4])
    return found


def _leaks(root: Path, *values: str) -> list[str]:
    """Files under ``root`` whose bytes hold any of ``values`` (or their base64)."""
    needles = [n for v in values for n in _encodings(v)]
    return sorted(
        str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and any(n in p.read_bytes() for n in needles)
    )


def test_credentials_are_in_the_vault_and_in_no_stored_byte(
    ws: Workspace, s3_server: S3Server, tmp_path: Path, key_file_only: Path
) -> None:
    bucket = s3_server.create_bucket()
    lake = Datastore.register(ws, "team_lake.v2", f"s3://{bucket}/data", credentials=s3_server.credentials())
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "t.csv").write_text("x,y\n1,2\n3,4\n")
    lake.upload(str(tmp_path / "src"), target_path="tables", show_progress=False)

    # Another Workspace object (as another process) reads through the datastore with the vault's keys.
    again = Workspace(ws.root)
    table = Dataset.Tabular.from_delimited_files((Datastore.get(again, "team_lake.v2"), "tables/*.csv"))
    table.register(again, "table")
    assert Dataset.get_by_name(again, "table").to_pandas_dataframe()["y"].tolist() == [2, 4]

    secret_name = credentials_secret_name("team_lake.v2")
    assert secret_name.startswith("datastore-team-lake-v2-")  # Key Vault's alphabet: letters, digits, dashes
    vault = ws.get_default_keyvault()
    assert vault.list_secrets() == [{"name": secret_name}]
    assert json.loads(vault.get_secret(secret_name)) == {"key": KEY, "secret": SECRET}
    assert key_file_only.is_file() and ws.root not in key_file_only.parents  # the key is outside the workspace

    assert _leaks(ws.root, SECRET, KEY) == []  # .mlws/: the database, its WAL, caches, logs
    database = ws.path / "mlws.db"
    assert database.is_file() and not any(n in database.read_bytes() for n in _encodings(SECRET))
    assert not sqlite_dump_holds(database, SECRET) and not sqlite_dump_holds(database, KEY)  # every row as text
    shown = json.dumps([d.as_dict() for d in ws.datastores.values()]) + repr(ws.datastores) + repr(vault)
    assert SECRET not in shown and KEY not in shown


def test_register_again_updates_or_deletes_the_secret_and_unregister_deletes_it(ws: Workspace) -> None:
    url = f"memory://mlws-{uuid.uuid4().hex}"
    vault = ws.get_default_keyvault()
    name = credentials_secret_name("scratch")
    Datastore.register(ws, "scratch", url, credentials={"token": "first", "region_name": "eu"})
    assert json.loads(vault.get_secret(name)) == {"token": "first"}
    Datastore.register(ws, "scratch", url, credentials={"token": "second"})
    assert Datastore.get(ws, "scratch")._options()["token"] == "second"
    Datastore.register(ws, "scratch", url)  # no credentials now: none are kept
    assert vault.list_secrets() == [] and "token" not in Datastore.get(ws, "scratch")._options()
    store = Datastore.register(ws, "scratch", url, credentials={"token": "third"})
    Datastore.register(ws, "other", f"memory://mlws-{uuid.uuid4().hex}", credentials={"token": "x"})
    store.unregister()
    assert vault.list_secrets() == [{"name": credentials_secret_name("other")}]
    with pytest.raises(NotFoundError, match="scratch"):
        Datastore.get(ws, "scratch")


def test_similar_names_get_their_own_secrets() -> None:
    names = ["a_b", "a-b", "a.b", "A_b", "x" * 255, "x" * 254 + "y"]
    secrets = [credentials_secret_name(n) for n in names]
    assert len(set(secrets)) == len(names)
    assert all(len(s) <= 127 and s.replace("-", "").isalnum() for s in secrets)


def _old_workspace(ws: Workspace, s3_server: S3Server) -> tuple[str, str]:
    """A workspace as a pre-vault version left it: datastore records in the database, their secret options
    in the plaintext file beside it (one of them for a datastore since unregistered by hand)."""
    bucket = s3_server.create_bucket()
    url = f"s3://{bucket}"
    ws.metadata.put_datastore("old_lake", url, {"endpoint_url": s3_server.endpoint_url}, time.time())
    ws.metadata.put_datastore("old_mem", f"memory://mlws-{uuid.uuid4().hex}", {}, time.time())
    legacy = ws.path / LEGACY_CREDENTIALS_FILE
    entries = {"old_lake": {"key": KEY, "secret": SECRET}, "old_mem": {"token": "t"}, "gone": {"token": "g"}}
    fd = os.open(legacy, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(entries, out)
    # A temporary copy the old version's atomic write left behind when it was killed: plaintext too.
    (ws.path / f".{LEGACY_CREDENTIALS_FILE}.k1l2.tmp").write_text(json.dumps(entries))
    return bucket, url


def test_an_old_credentials_file_moves_into_the_vault_on_first_use(
    ws: Workspace, s3_server: S3Server, tmp_path: Path, key_file_only: Path
) -> None:
    bucket, _ = _old_workspace(ws, s3_server)
    lake = Datastore.get(ws, "old_lake")
    lake.filesystem.pipe(f"{bucket}/f.txt", b"moved")  # the keys came from the vault now
    assert Datastore.get(Workspace(ws.root), "old_lake").filesystem.cat(f"{bucket}/f.txt") == b"moved"
    legacy = ws.path / LEGACY_CREDENTIALS_FILE
    assert not legacy.exists() and not legacy.with_name(legacy.name + ".lock").exists()
    vault = ws.get_default_keyvault()
    assert {s["name"] for s in vault.list_secrets()} == {
        credentials_secret_name("old_lake"),
        credentials_secret_name("old_mem"),  # every registered datastore's, not only the one in use
    }
    assert json.loads(vault.get_secret(credentials_secret_name("old_mem"))) == {"token": "t"}
    assert _leaks(ws.root, SECRET, KEY) == []


def test_a_crash_between_the_vault_write_and_the_file_removal_loses_nothing(
    ws: Workspace, s3_server: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket, _ = _old_workspace(ws, s3_server)
    legacy = ws.path / LEGACY_CREDENTIALS_FILE
    real_unlink = Path.unlink

    def crash(self: Path, missing_ok: bool = False) -> None:
        if self == legacy:
            raise KeyboardInterrupt("killed before the file was removed")
        real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", crash)
    with pytest.raises(KeyboardInterrupt):
        Datastore.get(ws, "old_lake").filesystem  # noqa: B018 - the property reads the credentials
    assert legacy.exists()
    monkeypatch.setattr(Path, "unlink", real_unlink)

    # The next use finds both copies: the vault's is kept, the file goes, nothing is lost.
    Datastore.get(ws, "old_lake").filesystem.pipe(f"{bucket}/g.txt", b"fine")
    assert not legacy.exists()
    vault = ws.get_default_keyvault()
    assert json.loads(vault.get_secret(credentials_secret_name("old_lake"))) == {"key": KEY, "secret": SECRET}


def _use_old_workspace(root: str, name: str) -> None:
    Datastore.get(Workspace(root), name)._options()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file locks")
def test_processes_moving_the_old_file_at_once_move_every_entry_once(ws: Workspace, s3_server: S3Server) -> None:
    _old_workspace(ws, s3_server)
    ctx = multiprocessing.get_context("spawn")  # a fresh interpreter each, as separate kernels are
    procs = [ctx.Process(target=_use_old_workspace, args=(str(ws.root), n)) for n in ("old_lake", "old_mem") * 3]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    assert not (ws.path / LEGACY_CREDENTIALS_FILE).exists()
    vault = ws.get_default_keyvault()
    assert json.loads(vault.get_secret(credentials_secret_name("old_lake"))) == {"key": KEY, "secret": SECRET}
    assert len(vault.list_secrets()) == 2


def test_a_wrong_or_missing_key_is_a_clear_error_naming_the_datastore(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = f"memory://mlws-{uuid.uuid4().hex}"
    Datastore.register(ws, "keyed", url, credentials={"token": "t"})
    Datastore.register(ws, "open", f"memory://mlws-{uuid.uuid4().hex}")

    monkeypatch.setenv("MLWS_SECRET_KEY", new_key())  # another key than the one the secret was written with
    with pytest.raises(SecretKeyError) as wrong:
        Datastore.get(ws, "keyed").filesystem  # noqa: B018 - the property reads the credentials
    message = wrong.value.message
    assert "datastore 'keyed'" in message and "key from MLWS_SECRET_KEY" in message
    assert "set MLWS_SECRET_KEY to the key they were written with" in message and "overwrite=True" in message
    assert "Traceback" not in message

    from jupyter_mlws.core import secret_key

    monkeypatch.delenv("MLWS_SECRET_KEY")
    monkeypatch.setattr(secret_key, "_keyring", lambda: None)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "no-config"))
    with pytest.raises(SecretKeyError) as missing:
        Datastore.get(ws, "keyed").filesystem  # noqa: B018
    message = missing.value.message
    assert "datastore 'keyed'" in message and "no secret key was found: looked in MLWS_SECRET_KEY (not set)" in message
    assert str(tmp_path / "no-config") in message and "overwrite=True" in message
    # A datastore without credentials needs no key.
    assert Datastore.get(ws, "open").filesystem is not None

    # The fix the message gives works: register it again with its credentials (a new key is made).
    Datastore.register(ws, "keyed", url, credentials={"token": "t2"}, overwrite=True)
    assert Datastore.get(ws, "keyed")._options()["token"] == "t2"


@pytest.mark.postgres
def test_a_team_workspace_needs_its_key_for_credentials(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLWS_SECRET_KEY")
    ws = Workspace.create(tmp_path / "team", metadata_url=postgres_url)
    url = f"memory://mlws-{uuid.uuid4().hex}"
    with pytest.raises(SecretKeyError, match=r"datastore 'lake'.*team workspace .*set MLWS_SECRET_KEY"):
        Datastore.register(ws, "lake", url, credentials={"token": "t"})
    with pytest.raises(NotFoundError):
        Datastore.get(ws, "lake")  # nothing registered without its credentials
    Datastore.register(ws, "lake", url)  # without credentials no key is needed
    monkeypatch.setenv("MLWS_SECRET_KEY", new_key())
    Datastore.register(ws, "lake", url, credentials={"token": "t"})
    assert Datastore.get(Workspace(ws.root), "lake")._options()["token"] == "t"


JOB = """\
from pathlib import Path
from jupyter_mlws import Run

folder = Run.get_context().input_datasets["lake_files"]
Path("outputs").mkdir(exist_ok=True)
Path("outputs/seen.txt").write_text((Path(folder) / "in.txt").read_text())
"""


def test_a_local_job_stages_an_input_from_a_datastore_with_credentials(
    ws: Workspace,
    s3_server: S3Server,
    tmp_path: Path,
    key_file_only: Path,
    kit: JobKit,  # noqa: F811 (the fixture)
) -> None:
    """The job's supervisor (another process) reads the credentials from the vault with the key file."""
    bucket = s3_server.create_bucket()
    # The endpoint inside client_kwargs is a secret option too: without the vault the supervisor could
    # not reach the server at all (no AWS variables here).
    credentials = {"key": KEY, "secret": SECRET, "client_kwargs": {"endpoint_url": s3_server.endpoint_url}}
    lake = Datastore.register(ws, "lake", f"s3://{bucket}", credentials=credentials)
    lake.filesystem.pipe(f"{bucket}/in/in.txt", b"from s3")
    files = Dataset.File.from_files(lake.path("in")).register(ws, "lake-files")
    (kit.src / "job.py").write_text(JOB)
    config = ScriptRunConfig(str(kit.src), "job.py", arguments=[files.as_named_input("lake_files").as_download()])
    run = kit.exp.submit(config)
    run.wait_for_completion(timeout=TIMEOUT)
    out = tmp_path / "seen.txt"
    run.download_file("outputs/seen.txt", str(out))
    assert out.read_text() == "from s3"
    assert _leaks(ws.root, SECRET, KEY) == []  # nor in the run's logs, snapshot or inputs description
