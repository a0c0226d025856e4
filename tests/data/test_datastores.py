"""Datastores (issue 15, item 1): local folders, memory:// and S3 against a real S3-compatible server
(moto's, started by ``conftest.py``); upload, upload_files, download, paths; credentials kept out of
the database, the REST replies and the reprs; the bad inputs."""

from __future__ import annotations

import json
import os
import stat
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from jupyter_mlws import AzureBlobDatastore, DataPath, Datastore, UserErrorException, Workspace
from jupyter_mlws.core.interfaces import DatastoreRecord
from jupyter_mlws.data.datastore import LEGACY_CREDENTIALS_FILE, _call_s3, credentials_secret_name, resolve_data_path
from jupyter_mlws.errors import (
    AlreadyExistsError,
    BackendUnavailableError,
    InvalidArgumentError,
    InvalidStateError,
    NotFoundError,
)
from tests.data.conftest import KEY, SECRET, S3Server, free_port


def _tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def _read_tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


SAMPLE = {"a.csv": "x,y\n1,2\n", "sub/b.csv": "x,y\n3,4\n", "sub/deep/c.txt": "hello"}


def _round_trip(ds: Datastore, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """upload → download gives the same files; existing files are skipped without overwrite."""
    src = _tree(tmp_path / "src", SAMPLE)
    ref = ds.upload(src, target_path="data/v1", show_progress=True)
    assert ref == DataPath(ds, "data/v1") and ref.path_on_datastore == "data/v1"
    out = capsys.readouterr().out
    assert "Uploaded 3 file(s)" in out and "data/v1/sub/b.csv" in out

    (src / "a.csv").write_text("changed\n")
    ds.upload(src, target_path="data/v1", show_progress=True)
    assert "Uploaded 0 file(s)" in capsys.readouterr().out  # v1: an existing file is skipped

    got = tmp_path / "got"
    assert ds.download(got, prefix="data/v1", show_progress=False) == 3
    assert _read_tree(got / "data" / "v1") == SAMPLE  # the original a.csv: it was not overwritten

    ds.upload(src, target_path="data/v1", overwrite=True, show_progress=False)
    assert ds.download(got, prefix="data/v1", show_progress=False) == 0  # local files kept
    assert ds.download(got, prefix="data/v1/a.csv", overwrite=True, show_progress=False) == 1
    assert (got / "data" / "v1" / "a.csv").read_text() == "changed\n"

    files = [src / "sub" / "b.csv", src / "sub" / "deep" / "c.txt"]
    ds.upload_files(files, relative_root=src, target_path="picked", show_progress=False)
    ds.upload_files([src / "a.csv"], target_path="single", show_progress=False)
    every = tmp_path / "every"
    assert ds.download(every, show_progress=False) == 6
    assert _read_tree(every / "picked") == {"sub/b.csv": SAMPLE["sub/b.csv"], "sub/deep/c.txt": "hello"}
    assert _read_tree(every / "single") == {"a.csv": "changed\n"}


def test_a_folder_datastore_is_made_and_round_trips(
    ws: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "lake" / "raw"
    ds = Datastore.register(ws, "lake", str(folder))
    assert folder.is_dir() and ds.url == f"file://{folder}" and ds.datastore_type == "file"
    _round_trip(ds, tmp_path, capsys)
    assert (folder / "data" / "v1" / "sub" / "b.csv").read_text() == SAMPLE["sub/b.csv"]
    # A path on a local datastore is usable where a path is.
    with open(ds.path("data/v1/a.csv")) as f:
        assert f.read() == "changed\n"
    assert Datastore.register(ws, "lake2", f"file://{folder}").url == ds.url


def test_a_memory_datastore_round_trips(ws: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ds = Datastore.register(ws, "scratch", f"memory://mlws-{uuid.uuid4().hex}")
    assert ds.datastore_type == "memory"
    _round_trip(ds, tmp_path, capsys)


def test_an_s3_datastore_round_trips_and_keeps_its_keys_private(
    ws: Workspace, s3_server: S3Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bucket = s3_server.create_bucket()
    ds = Datastore.register(ws, "s3store", f"s3://{bucket}/team/", credentials=s3_server.credentials())
    assert ds.url == f"s3://{bucket}/team" and ds.datastore_type == "s3"
    _round_trip(ds, tmp_path, capsys)
    assert ds.path("data/v1").url == f"s3://{bucket}/team/data/v1"

    # Another Workspace object (a new process would do the same) reads the keys from the vault.
    again = Datastore.get(Workspace(ws.root), "s3store")
    assert again == ds and again.download(tmp_path / "again", prefix="single", show_progress=False) == 1

    # Never in the database (nor its WAL), a file, the reprs, or the datastore's description.
    vault = ws.get_default_keyvault()
    assert json.loads(vault.get_secret(credentials_secret_name("s3store"))) == {"key": KEY, "secret": SECRET}
    assert not (ws.path / LEGACY_CREDENTIALS_FILE).exists()
    leaking = [p for p in ws.path.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]
    assert leaking == []
    shown = " ".join([repr(ds), str(ds.path("x")), repr(ds.path("x")), json.dumps(ds.as_dict()), repr(ws.datastores)])
    assert SECRET not in shown and KEY not in shown
    assert ds.as_dict()["options"] == {"endpoint_url": s3_server.endpoint_url}

    ds.unregister()
    assert vault.list_secrets() == []
    with pytest.raises(NotFoundError, match="s3store"):
        Datastore.get(ws, "s3store")


def test_s3_keys_and_endpoint_from_the_aws_environment(
    ws: Workspace, s3_server: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = s3_server.create_bucket()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_server.endpoint_url)
    ds = Datastore.register(ws, "fromenv", f"s3://{bucket}")
    ds.upload_files([_tree(tmp_path / "one", {"f.txt": "env"}) / "f.txt"], show_progress=False)
    assert ds.download(tmp_path / "back", show_progress=False) == 1
    assert (tmp_path / "back" / "f.txt").read_text() == "env"
    assert ds.as_dict()["options"] == {} and ws.get_default_keyvault().list_secrets() == []


def test_an_s3_endpoint_that_does_not_answer_is_named(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(BackendUnavailableError, match=dead.replace(".", r"\.")) as caught:
        Datastore.register(ws, "dead", "s3://bucket", credentials={"key": KEY, "secret": SECRET, "endpoint_url": dead})
    assert SECRET not in str(caught.value)
    with pytest.raises(NotFoundError):
        Datastore.get(ws, "dead")  # nothing registered

    # A registered S3 datastore whose endpoint stops answering: the same error, from any operation.
    gone = Datastore._of(ws, DatastoreRecord("gone", "s3://bucket", {"endpoint_url": dead}))
    with pytest.raises(InvalidArgumentError, match=r"no S3 keys.*AWS_ACCESS_KEY_ID"):
        gone.download(ws.root / "x")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    gone = Datastore._of(ws, DatastoreRecord("gone", "s3://bucket", {"endpoint_url": dead}))
    for use in (lambda: gone.upload_files([__file__], show_progress=False), lambda: gone.download(ws.root / "x")):
        with pytest.raises(BackendUnavailableError, match=dead.replace(".", r"\.")):
            use()


def test_the_s3_retry_is_bounded_and_passes_answers_through(monkeypatch: pytest.MonkeyPatch) -> None:
    """The one retry helper of datastores and s3:// URLs: an outage is tried S3_ATTEMPTS times, then the
    caller's error; an answer (a missing file, another error, missing keys) is raised at once."""
    monkeypatch.setattr("jupyter_mlws.data.datastore.S3_RETRY_PAUSE", 0)
    calls: list[str] = []

    def failing(exc: Exception) -> Callable[..., None]:
        def fn(path: str, *, flag: bool) -> None:
            calls.append(path)
            raise exc

        return fn

    unavailable = lambda exc: BackendUnavailableError(f"down: {exc}")  # noqa: E731
    with pytest.raises(BackendUnavailableError, match="down: refused"):
        _call_s3(failing(ConnectionRefusedError("refused")), ["a"], {"flag": True}, unavailable=unavailable)
    assert calls == ["a", "a"]
    assert _call_s3(lambda x, *, y: x + y, [1], {"y": 2}, unavailable=unavailable) == 3
    for answer in (FileNotFoundError("gone"), ValueError("bad")):
        calls.clear()
        with pytest.raises(type(answer)):
            _call_s3(failing(answer), ["b"], {"flag": False}, unavailable=unavailable)
        assert calls == ["b"]

    class NoCredentialsError(Exception):  # botocore's name is what is recognised
        pass

    calls.clear()
    with pytest.raises(InvalidArgumentError, match="no keys"):
        _call_s3(
            failing(NoCredentialsError()),
            ["c"],
            {"flag": True},
            unavailable=unavailable,
            no_credentials=lambda: InvalidArgumentError("no keys"),
        )
    assert calls == ["c"]


def test_a_missing_bucket_is_a_clear_error(ws: Workspace, s3_server: S3Server) -> None:
    with pytest.raises(InvalidArgumentError, match=r"no-such-bucket.*does not exist"):
        Datastore.register(ws, "nobucket", "s3://no-such-bucket", credentials=s3_server.credentials())


def test_a_missing_s3_driver_names_the_pip_extra(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "s3fs", None)  # import s3fs now fails as if it were not installed
    with pytest.raises(BackendUnavailableError, match=r's3fs.*pip install "jupyter-mlws\[s3\]"'):
        Datastore.register(ws, "nodriver", "s3://bucket", credentials={"endpoint_url": "http://127.0.0.1:1"})


def test_the_default_datastore_and_the_workspace_spellings(ws: Workspace, tmp_path: Path) -> None:
    default = ws.get_default_datastore()
    assert default.name == "workspaceblobstore" and default.is_default
    assert Path(default.url.removeprefix("file://")).is_dir()
    assert ws.path in Path(default.url.removeprefix("file://")).parents
    assert Datastore(ws) == default == Datastore.get_default(ws)

    other = Datastore.register(ws, "other", str(tmp_path / "other"))
    assert set(ws.datastores) == {"workspaceblobstore", "other"}
    assert isinstance(ws.datastores["other"], Datastore)
    ws.set_default_datastore("other")
    assert ws.get_default_datastore() == other and other.is_default and not default.is_default
    with pytest.raises(NotFoundError, match=r"'missing'.*'other', 'workspaceblobstore'"):
        ws.set_default_datastore("missing")
    other.unregister()
    assert ws.datastores["workspaceblobstore"].as_dict()["is_default"]  # the default again, when listed too
    assert ws.get_default_datastore().name == "workspaceblobstore"


def test_re_registering_needs_overwrite_for_another_url(ws: Workspace, tmp_path: Path) -> None:
    first = Datastore.register(ws, "d", str(tmp_path / "one"))
    assert Datastore.register(ws, "d", str(tmp_path / "one")) == first
    with pytest.raises(AlreadyExistsError, match="overwrite=True"):
        Datastore.register(ws, "d", str(tmp_path / "two"))
    assert Datastore.get(ws, "d").url == first.url
    assert Datastore.register(ws, "d", str(tmp_path / "two"), overwrite=True).url == f"file://{tmp_path / 'two'}"


def test_bad_input_gets_clear_errors(ws: Workspace, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match=r"'nope'.*registered: none yet"):
        Datastore.get(ws, "nope")
    for url in ("gs://bucket/x", "http://example.com/data", "ftp://host/x"):
        with pytest.raises(InvalidArgumentError, match=r"unsupported.*s3://.*memory://"):
            Datastore.register(ws, "bad", url)
    with pytest.raises(InvalidArgumentError, match="credentials"):
        Datastore.register(ws, "bad", "s3://key:secret@bucket")
    with pytest.raises(InvalidArgumentError, match="invalid datastore name"):
        Datastore.register(ws, "no spaces", str(tmp_path))
    ds = Datastore.register(ws, "ok", str(tmp_path / "ok"))
    with pytest.raises(InvalidArgumentError, match="not a folder"):
        ds.upload(tmp_path / "missing")
    with pytest.raises(InvalidArgumentError, match=r"\.\."):
        ds.path("../escape")
    with pytest.raises(InvalidArgumentError, match="relative_root"):
        ds.upload_files([_tree(tmp_path / "f", {"x.txt": "x"}) / "x.txt"], relative_root=tmp_path / "elsewhere")
    with pytest.raises(InvalidArgumentError, match="nothing under 'absent'"):
        ds.download(tmp_path / "out", prefix="absent")
    with pytest.raises(InvalidArgumentError, match=r"datastore.path"):
        resolve_data_path("just/a/string")


def test_paths_are_hashable_references_and_tuples_are_accepted(ws: Workspace, tmp_path: Path) -> None:
    ds = Datastore.register(ws, "p", f"memory://mlws-{uuid.uuid4().hex}")
    ref = ds.path("folder/file.csv")
    assert ref == ds.path("./folder//file.csv") and hash(ref) == hash((ds, "folder/file.csv"))
    assert len({ref, ds.path("folder/file.csv"), ds.path("other")}) == 2
    assert repr(ref) == "DataPath(datastore='p', path='folder/file.csv')"
    assert resolve_data_path((ds, "folder/file.csv")) == ref and resolve_data_path(ref) is ref
    with pytest.raises(InvalidArgumentError, match="download"):
        os.fspath(ref)  # not a local folder


def test_v1_cloud_only_registrations_name_the_local_spelling(ws: Workspace) -> None:
    for use in (
        lambda: Datastore.register_azure_blob_container(ws, "blob", "container", "account", account_key="k"),
        lambda: Datastore.register_azure_file_share(ws, "share", "share", "account"),
        lambda: Datastore.register_azure_data_lake_gen2(ws, "adls", "fs", "account"),
        lambda: AzureBlobDatastore(ws, "blob"),
    ):
        with pytest.raises(UserErrorException, match=r"cloud-only.*Datastore\.register\(ws, name, url"):
            use()


def test_a_team_workspace_keeps_only_public_options_in_its_database(
    any_ws: Workspace, s3_server: S3Server, tmp_path: Path
) -> None:
    """On SQLite and on PostgreSQL: the database row holds the URL and the endpoint, never the keys."""
    bucket = s3_server.create_bucket()
    Datastore.register(any_ws, "shared", f"s3://{bucket}", credentials=s3_server.credentials())
    record = any_ws.metadata.get_datastore("shared")
    assert record.options == {"endpoint_url": s3_server.endpoint_url}
    assert SECRET not in json.dumps([r.__dict__ for r in any_ws.metadata.list_datastores()], default=str)
    ds = Datastore.get(any_ws, "shared")
    ds.upload_files([_tree(tmp_path / "t", {"t.txt": "team"}) / "t.txt"], show_progress=False)
    assert ds.download(tmp_path / "back", show_progress=False) == 1


def test_download_refuses_a_remote_name_that_would_escape_the_target_folder(ws: Workspace, tmp_path: Path) -> None:
    """An object key such as ``x/../../evil`` (legal on S3, and in memory://) must not be written outside
    the download folder."""
    ds = Datastore.register(ws, "escape", f"memory://escape-{uuid.uuid4().hex}")
    root = ds._root()
    ds.filesystem.pipe_file(f"{root}/ok.txt", b"fine")
    ds.filesystem.pipe_file(f"{root}/x/../../evil.txt", b"bad")
    out = tmp_path / "deep" / "out"
    with pytest.raises(InvalidArgumentError, match="evil"):
        ds.download(out, show_progress=False)
    assert not (tmp_path / "deep" / "evil.txt").exists() and not (tmp_path / "evil.txt").exists()


def test_an_interrupted_download_leaves_no_partial_file_to_be_skipped_later(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A download cut off mid-file must not leave a truncated file: the next download (overwrite=False)
    would skip it as already there, and the local copy would stay corrupt."""
    ds = Datastore.register(ws, "partial", f"memory://partial-{uuid.uuid4().hex}")
    src = _tree(tmp_path / "src", {"big.bin": "0123456789" * 100})
    ds.upload(src, show_progress=False)
    fs = ds.filesystem
    real_get_file = fs.get_file

    def cut_off(rpath: str, lpath: str, **kwargs: object) -> None:
        Path(lpath).write_text("01234")  # the first bytes arrived, then the connection dropped
        raise ConnectionResetError("connection reset")

    monkeypatch.setattr(fs, "get_file", cut_off)
    out = tmp_path / "out"
    with pytest.raises(OSError):
        ds.download(out, show_progress=False)
    assert not (out / "big.bin").exists()
    assert [p.name for p in out.iterdir()] == []  # no temporary file left either
    monkeypatch.setattr(fs, "get_file", real_get_file)
    assert ds.download(out, show_progress=False) == 1
    assert (out / "big.bin").read_text() == "0123456789" * 100
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE((out / "big.bin").stat().st_mode) == 0o666 & ~mask  # as a plain download made it


@pytest.mark.parametrize("kind", ["folder", "memory"])
def test_a_file_in_the_way_of_a_folder_is_a_clear_error(ws: Workspace, tmp_path: Path, kind: str) -> None:
    """Uploading under a target_path that is a file, or downloading where a local file stands in for a
    folder, names the path and the fix instead of a bare FileExistsError."""
    url = str(tmp_path / "store") if kind == "folder" else f"memory://inway-{uuid.uuid4().hex}"
    ds = Datastore.register(ws, "inway", url)
    src = _tree(tmp_path / "src", {"a.txt": "a"})
    ds.upload(src, target_path="t", show_progress=False)
    with pytest.raises(InvalidArgumentError, match=r"t/a\.txt.*target_path"):
        ds.upload(src, target_path="t/a.txt", show_progress=False)
    assert ds.filesystem.cat_file(ds._full("t/a.txt")) == b"a"  # nothing stored was harmed
    out = _tree(tmp_path / "out", {"t": "a local file"})
    with pytest.raises(InvalidArgumentError, match=r"'t/a\.txt'.*target_path"):
        ds.download(out, show_progress=False)
    assert (out / "t").read_text() == "a local file"


def test_a_password_in_an_unsupported_url_is_not_repeated_in_the_error(ws: Workspace) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        Datastore.register(ws, "leaky", "https://bob:hunter2@example.com/data")
    assert "hunter2" not in str(caught.value) and "https" in str(caught.value)


@pytest.mark.parametrize("kind", ["folder", "memory"])
def test_an_interrupted_upload_leaves_no_partial_file_to_be_skipped_later(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    url = str(tmp_path / "store") if kind == "folder" else f"memory://cut-{uuid.uuid4().hex}"
    ds = Datastore.register(ws, "cut", url)
    src = _tree(tmp_path / "src", {"big.bin": "0123456789" * 100})
    fs = ds.filesystem
    real_put_file = fs.put_file

    def cut_off(lpath: str, rpath: str, **kwargs: object) -> None:
        fs.pipe_file(rpath, b"01234")  # the first bytes arrived, then the upload stopped
        raise ConnectionResetError("connection reset")

    monkeypatch.setattr(fs, "put_file", cut_off)
    with pytest.raises(OSError):
        ds.upload(src, target_path="d", show_progress=False)
    assert not fs.exists(ds._full("d/big.bin"))
    assert fs.find(ds._root()) == []  # no temporary file left either
    monkeypatch.setattr(fs, "put_file", real_put_file)
    ds.upload(src, target_path="d", show_progress=False)
    assert fs.cat_file(ds._full("d/big.bin")) == b"0123456789" * 100


def test_uploading_a_file_onto_a_folder_of_its_name_is_a_clear_error(ws: Workspace, tmp_path: Path) -> None:
    ds = Datastore.register(ws, "ontodir", str(tmp_path / "store"))
    ds.upload(_tree(tmp_path / "one", {"x/inner.txt": "i"}), show_progress=False)
    with pytest.raises(InvalidArgumentError, match="target_path"):
        ds.upload(_tree(tmp_path / "two", {"x": "a file"}), overwrite=True, show_progress=False)
    assert sorted(p.name for p in (tmp_path / "store" / "x").iterdir()) == ["inner.txt"]


def test_a_damaged_credentials_secret_is_named_and_registering_again_repairs_it(ws: Workspace) -> None:
    ds = Datastore.register(ws, "scratch", f"memory://mlws-{uuid.uuid4().hex}", credentials={"key": "k"})
    vault = ws.get_default_keyvault()
    name = credentials_secret_name("scratch")
    vault.set_secret(name, '"not an object"')  # set by hand through the vault
    with pytest.raises(InvalidStateError, match=r"'scratch'.*not a JSON object of storage options.*overwrite=True"):
        Datastore.get(ws, "scratch").filesystem  # noqa: B018 - the property builds the filesystem
    Datastore.register(ws, "scratch", ds.url, credentials={"key": "k2"}, overwrite=True)
    assert json.loads(vault.get_secret(name)) == {"key": "k2"}
