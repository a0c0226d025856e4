"""Runs the Azure ML v1 way, the rest of issue 14 item 3: ``get_portal_url``, ``take_snapshot`` /
``restore_snapshot``, ``start_logging(snapshot_directory=, outputs=)``, ``Experiment(workspace=,
name=)`` with ``get_runs``, and ``wait_for_completion(show_output=True)`` printing as v1 does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from jupyter_mlws import Experiment, Run, ScriptRunConfig, Workspace
from jupyter_mlws.compute import agent
from jupyter_mlws.core.runs.remote import RemoteRun
from jupyter_mlws.errors import ActivityFailedException, InvalidArgumentError, InvalidStateError, NotFoundError
from jupyter_mlws.snapshots import SecretFilesExcludedWarning


def _zip_names(path: str) -> set[str]:
    with zipfile.ZipFile(path) as archive:
        return set(archive.namelist())


# -- get_portal_url ---------------------------------------------------------------------------------------
def _server_file(runtime: Path, pid: int, root: Path, url: str) -> None:
    # The fields a Jupyter server writes to its runtime file (the token too: it must not leak).
    info = {"pid": pid, "root_dir": str(root), "url": url, "base_url": "/", "token": "s3cret-token", "port": 1}
    (runtime / f"jpserver-{pid}.json").write_text(json.dumps(info))


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_get_portal_url_names_the_run_in_the_lab_serving_the_workspace(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(runtime))
    monkeypatch.delenv("MLWS_LAB_URL", raising=False)
    run = Experiment(ws, "portal").start_logging()

    # No Jupyter server known: the documented default, never an error.
    assert run.get_portal_url() == f"http://localhost:8888/lab?mlws-run={run.id}"

    # A server whose root holds the workspace; one with another root and a dead one do not count.
    _server_file(runtime, os.getpid(), ws.root.parent, "http://127.0.0.1:8123/base/")
    _server_file(runtime, os.getppid(), tmp_path / "elsewhere", "http://127.0.0.1:8999/")
    _server_file(runtime, _dead_pid(), ws.root, "http://127.0.0.1:8777/")
    url = run.get_portal_url()
    assert url == f"http://127.0.0.1:8123/base/lab?mlws-run={run.id}"
    assert "s3cret-token" not in url

    # MLWS_LAB_URL wins (a Lab behind a proxy, say).
    monkeypatch.setenv("MLWS_LAB_URL", "https://lab.example.org/user/me")
    assert run.get_portal_url() == f"https://lab.example.org/user/me/lab?mlws-run={run.id}"
    run.complete()


def test_get_portal_url_never_raises_nor_carries_a_token(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(runtime))
    monkeypatch.delenv("MLWS_LAB_URL", raising=False)
    run = Experiment(ws, "portal").start_logging()
    # A garbled runtime file (a NUL in its root) and a server on a Unix socket are passed over; a good one counts.
    _server_file(runtime, os.getpid(), Path("/srv/a\x00b"), "http://127.0.0.1:8111/")
    _server_file(runtime, os.getppid(), ws.root, "http+unix://%2Ftmp%2Fjupyter.sock/")
    _server_file(runtime, 2**40, ws.root, "http://127.0.0.1:8444/")  # no such pid (os.kill overflows on it)
    assert run.get_portal_url() == f"http://localhost:8888/lab?mlws-run={run.id}"
    _server_file(runtime, os.getppid(), ws.root, "http://127.0.0.1:8222/")  # the garbled file is still there
    assert run.get_portal_url() == f"http://127.0.0.1:8222/lab?mlws-run={run.id}"
    # A Lab URL copied with its token: the token is dropped.
    monkeypatch.setenv("MLWS_LAB_URL", "http://127.0.0.1:8333/base?token=s3cret-token#frag")
    assert run.get_portal_url() == f"http://127.0.0.1:8333/base/lab?mlws-run={run.id}"
    run.complete()


# -- snapshots --------------------------------------------------------------------------------------------
def test_take_and_restore_snapshots_of_a_run(ws: Workspace, tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text("print('v1')\n")
    (code / "data.bin").write_bytes(b"big")
    (code / ".amlignore").write_text("*.bin\n")
    single = tmp_path / "notes.md"
    single.write_text("# notes\n")
    run = Experiment(ws, "snaps").start_logging()
    with pytest.raises(NotFoundError, match="take_snapshot"):
        run.restore_snapshot(path=tmp_path)

    folder_id = run.take_snapshot(code)
    file_id = run.take_snapshot(str(single))
    assert folder_id != file_id

    # The latest by default, as a zip named for the snapshot in a folder.
    out = tmp_path / "out"
    out.mkdir()
    latest = run.restore_snapshot(path=out)
    assert latest == str(out / f"{file_id}.zip") and _zip_names(latest) == {"notes.md"}
    chosen = run.restore_snapshot(snapshot_id=folder_id, path=tmp_path / "code.zip")
    assert chosen == str(tmp_path / "code.zip")
    assert "train.py" in _zip_names(chosen) and "data.bin" not in _zip_names(chosen)  # .amlignore honoured
    # The same run read elsewhere knows its snapshots.
    assert Run.get(ws, run.id).restore_snapshot(path=tmp_path / "again.zip") == str(tmp_path / "again.zip")
    assert _zip_names(str(tmp_path / "again.zip")) == {"notes.md"}

    # A path ending in a separator is a folder, made if need be; a path that is no path is refused.
    assert run.restore_snapshot(file_id, f"{tmp_path}/new/") == str(tmp_path / "new" / f"{file_id}.zip")
    with pytest.raises(InvalidArgumentError, match="path must be"):
        run.restore_snapshot(file_id, 5)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="file or folder path"):
        run.take_snapshot(None)  # type: ignore[arg-type]
    with pytest.raises(NotFoundError, match="snapshot 'nope'"):
        run.restore_snapshot(snapshot_id="nope", path=tmp_path)
    with pytest.raises(NotFoundError, match="missing"):
        run.take_snapshot(tmp_path / "missing")
    # A secret-like file named on its own is still left out, and named.
    (tmp_path / ".env").write_text("TOKEN=1\n")
    with pytest.warns(SecretFilesExcludedWarning, match=".env"):
        empty = run.take_snapshot(tmp_path / ".env")
    assert _zip_names(run.restore_snapshot(empty, tmp_path / "env.zip")) == set()
    run.complete()


def test_take_snapshot_of_one_file_keeps_the_secret_rules_of_its_folders_and_links(
    ws: Workspace, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".kube").mkdir()
    (home / ".aws" / "credentials").write_text("aws_secret_access_key=XYZ\n")
    (home / ".kube" / "config").write_text("token: abc\n")
    (home / "notes.txt").symlink_to(Path(".aws") / "credentials")  # an innocent name for a secret
    (home / "readme.md").write_text("hello\n")
    (home / "link.md").symlink_to("readme.md")
    run = Experiment(ws, "snaps-secret").start_logging()
    for secret in (home / ".aws" / "credentials", home / ".kube" / "config", home / "notes.txt"):
        with pytest.warns(SecretFilesExcludedWarning, match=secret.name):
            snapshot_id = run.take_snapshot(secret)
        zipped = run.restore_snapshot(snapshot_id, tmp_path / f"{secret.name}.zip")
        assert _zip_names(zipped) == set(), secret  # as a snapshot of the folder would leave it out
    # A link to an ordinary file is still taken, under the name it was given.
    with zipfile.ZipFile(run.restore_snapshot(run.take_snapshot(home / "link.md"), tmp_path / "l.zip")) as archive:
        assert archive.namelist() == ["link.md"] and archive.read("link.md") == b"hello\n"
    # download_snapshot is the snapshot taken before the run started: none here, and it says where the others are.
    with pytest.raises(NotFoundError, match=r"start_logging\(snapshot_directory=.*restore_snapshot"):
        run.download_snapshot(tmp_path / "before.zip")
    run.complete()


def test_start_logging_captures_the_snapshot_directory_and_stores_outputs(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = tmp_path / "project"
    code.mkdir()
    (code / "train.py").write_text("print('hi')\n")
    outputs = tmp_path / "outs"
    (outputs / "sub").mkdir(parents=True)
    exp = Experiment(workspace=ws, name="interactive-v1")

    with exp.start_logging(display_name="tracked", snapshot_directory=str(code), outputs=str(outputs)) as run:
        (outputs / "model.pkl").write_bytes(b"weights")  # written while the run goes on
        (outputs / "sub" / "metrics.json").write_text("{}")
        run.log("acc", 0.9)
    assert run.get_status() == "Completed"
    assert run.properties["mlws.snapshot_id"] == run.record.snapshot_id
    assert ws.services.queries.run_view(run.id).snapshot_id == run.record.snapshot_id  # the run page offers it
    assert _zip_names(run.download_snapshot(tmp_path / "snap.zip")) == {"train.py"}
    assert run.restore_snapshot(path=tmp_path / "r.zip") == str(tmp_path / "r.zip")  # its latest snapshot
    assert sorted(run.get_file_names()) == ["outputs/model.pkl", "outputs/sub/metrics.json"]

    # v1's other spellings: outputs=False tracks nothing; experiment= this experiment is accepted.
    plain = exp.start_logging(outputs=False, experiment=exp)
    plain.complete()
    assert plain.get_file_names() == [] and plain.record.snapshot_id is None
    assert [r.display_name for r in exp.get_runs()] == [None, "tracked"]
    assert [r.id for r in Experiment(workspace=ws, name="interactive-v1").get_runs(status="Completed")] == [
        plain.id,
        run.id,
    ]

    with pytest.raises(InvalidArgumentError, match="unknown keyword"):
        exp.start_logging(snapshot_dir=str(code))
    with pytest.raises(InvalidArgumentError, match="another experiment"):
        exp.start_logging(experiment=Experiment(ws, "other"))
    with pytest.raises(NotFoundError, match="snapshot_directory"):
        exp.start_logging(snapshot_directory=str(tmp_path / "nowhere"))
    # Never the workspace's own store among a run's outputs (outputs='.' in the workspace's folder).
    monkeypatch.chdir(ws.root)
    for folder in (".", str(ws.root.parent)):
        with pytest.raises(InvalidArgumentError, match="holds the workspace's store"):
            exp.start_logging(outputs=folder)
    for bad in ("", 3):
        with pytest.raises(InvalidArgumentError, match="takes a folder path or False"):
            exp.start_logging(outputs=bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match=r"snapshot_directory=\.\.\.\) takes a folder path"):
        exp.start_logging(snapshot_directory=3)  # type: ignore[arg-type]
    assert len(list(exp.get_runs())) == 2  # none of these started a run


def test_start_logging_outputs_are_stored_when_the_run_fails_and_never_keep_it_running(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outputs = tmp_path / "outputs"
    outputs.mkdir()
    (outputs / "partial.pkl").write_bytes(b"half")
    exp = Experiment(ws, "outputs-v1")
    # Named relative to the working directory when the run starts, not when it ends.
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RuntimeError, match="diverged"), exp.start_logging(outputs=True) as failed:
        monkeypatch.chdir(ws.root)
        raise RuntimeError("diverged")
    assert failed.get_status() == "Failed"
    assert failed.get_file_names() == ["outputs/partial.pkl"]  # as a failed job's outputs are kept

    # A file the store refuses (a control character in its name) is named in a warning; the run still ends.
    (outputs / "bad\nname.txt").write_text("x")
    with pytest.warns(RuntimeWarning, match="outputs folder .* was not stored .*control characters"):
        with exp.start_logging(outputs=str(outputs)) as run:
            pass
    assert run.get_status() == "Completed"


# -- wait_for_completion(show_output=True) ------------------------------------------------------------------
def test_wait_for_completion_prints_as_v1_and_raises_for_a_failed_run(
    ws: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLWS_LAB_URL", "http://lab.test/")
    src = tmp_path / "src"
    src.mkdir()
    (src / "job.py").write_text("print('epoch 1 done', flush=True)\nraise SystemExit('the data is gone')\n")
    try:
        run = Experiment(ws, "v1-wait").submit(ScriptRunConfig(source_directory=str(src), script="job.py"))
        with pytest.raises(ActivityFailedException, match="Failed"):
            run.wait_for_completion(show_output=True, timeout=120)
    finally:
        agent.stop(ws)
    out = capsys.readouterr().out
    web_view = f"Web View: http://lab.test/lab?mlws-run={run.id}"
    assert out.startswith(f"RunId: {run.id}\n{web_view}\n")
    streaming = "Streaming user_logs/std_log.txt\n===============================\n"
    assert out.index(streaming) < out.index("epoch 1 done") < out.index("Execution Summary")
    summary = out.split("Execution Summary")[1]
    assert f"RunId: {run.id}" in summary and web_view in summary
    assert "Status: Failed" in summary and "Error:" in summary


def test_a_docker_job_is_told_why_the_new_run_methods_are_not_there() -> None:
    run = RemoteRun(connection=None, run_id="job-run")  # type: ignore[arg-type]  # refused before any call
    for name in ("get_portal_url", "take_snapshot", "restore_snapshot"):
        with pytest.raises(InvalidStateError, match=f"{name}\\(\\).*Docker target"):
            getattr(run, name)
