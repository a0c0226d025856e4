"""Snapshots through the public API: ``Experiment.submit`` records them, ``download_snapshot`` exports them."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_mlws import Experiment, Workspace
from jupyter_mlws.cli import main
from jupyter_mlws.compute import agent
from jupyter_mlws.core.run_config import ScriptRunConfig
from jupyter_mlws.errors import InvalidArgumentError
from jupyter_mlws.snapshots import capture_snapshot, load_manifest
from tests.snapshots.conftest import git, init_repo, write_tree

TRAIN = """\
import os
from helpers.util import SCALE

listing = []
for folder, dirs, files in os.walk("."):
    dirs[:] = [d for d in dirs if d not in ("outputs", "logs")]
    for name in files:
        listing.append(os.path.relpath(os.path.join(folder, name), ".").replace(os.sep, "/"))
os.makedirs("outputs", exist_ok=True)
with open("outputs/listing.txt", "w") as f:
    f.write("\\n".join(sorted(listing)) + "\\n")
print("scale", SCALE)
"""


EXPECTED = {".gitignore", "train.py", "helpers/__init__.py", "helpers/util.py", "run.sh"}


@pytest.fixture
def job_ws(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    monkeypatch.setenv("MLWS_AGENT_IDLE_SECONDS", "5")  # stray dispatchers exit quickly
    yield ws
    agent.stop(ws)


@pytest.fixture
def project(tmp_path: Path, git_env: dict[str, str]) -> Path:
    """A new user's project: a git repository with a script, a helper package and ignored data."""
    repo = init_repo(tmp_path / "project", branch="main")
    write_tree(
        repo,
        {
            ".gitignore": "data/\n*.log\n",
            "train.py": TRAIN,
            "helpers/__init__.py": "",
            "helpers/util.py": "SCALE = 3\n",
            "run.sh": "#!/bin/sh\necho hi\n",
            "data/big.bin": os.urandom(200_000),
            "data/labels.csv": "y\n1\n",
            "debug.log": "noise\n",
        },
    )
    os.chmod(repo / "run.sh", 0o755)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial")
    git(repo, "remote", "add", "origin", "https://example.invalid/repo.git")
    return repo


def test_submit_records_the_snapshot_and_git_state(job_ws: Workspace, project: Path, tmp_path: Path) -> None:
    exp = Experiment(job_ws, "snapshots")
    run = exp.submit(ScriptRunConfig(source_directory=project, script="train.py"))
    details = run.wait_for_completion(timeout=60)
    assert details["status"] == "Completed"

    props = run.properties
    snapshot_id = props["mlws.snapshot_id"]
    assert props["azureml.git.commit"] == git(project, "rev-parse", "HEAD")
    assert props["azureml.git.branch"] == "main"
    assert props["azureml.git.dirty"] == "False"
    assert props["azureml.git.repository_uri"] == "https://example.invalid/repo.git"
    assert details["snapshotId"] == snapshot_id

    # The snapshot is the project minus its ignored files, stored content-addressed.
    manifest = load_manifest(job_ws.artifacts, snapshot_id)
    assert {e.path for e in manifest.entries} == EXPECTED
    assert capture_snapshot(project, job_ws.artifacts).id == snapshot_id  # unchanged tree, same id
    record = job_ws.metadata.get_snapshot(snapshot_id)
    assert record.file_count == len(EXPECTED)
    assert record.total_size == manifest.total_size

    # The job ran in a copy of the snapshot: the ignored data was not there.
    listing = Path(run.download_file("outputs/listing.txt", tmp_path / "listing.txt")).read_text().split()
    assert set(listing) == EXPECTED

    # download_snapshot writes a zip of exactly the snapshot.
    archive = Path(run.download_snapshot(tmp_path / "dl" / "snap.zip"))
    assert archive == tmp_path / "dl" / "snap.zip"
    with zipfile.ZipFile(archive) as zf:
        assert set(zf.namelist()) == EXPECTED
        assert zf.read("helpers/util.py") == b"SCALE = 3\n"
        assert (zf.getinfo("run.sh").external_attr >> 16) & 0o777 == 0o755
    # Into a folder: named after the run.
    folder = tmp_path / "dl-dir"
    folder.mkdir()
    assert Path(run.download_snapshot(folder)) == folder / f"{run.id}-snapshot.zip"


def test_a_second_submit_of_the_same_tree_adds_no_bytes(job_ws: Workspace, project: Path) -> None:
    exp = Experiment(job_ws, "snapshots")
    first = exp.submit(ScriptRunConfig(source_directory=project, script="train.py"))
    first.wait_for_completion(timeout=60)
    blobs = set(job_ws.artifacts.iter_digests())
    code_blobs = {e.digest for e in load_manifest(job_ws.artifacts, first.properties["mlws.snapshot_id"]).files}
    second = exp.submit(ScriptRunConfig(source_directory=project, script="train.py"))
    assert second.properties["mlws.snapshot_id"] == first.properties["mlws.snapshot_id"]
    second.wait_for_completion(timeout=60)
    new = set(job_ws.artifacts.iter_digests()) - blobs
    assert not new & code_blobs
    assert first.properties["mlws.snapshot_id"] not in new


def test_submit_outside_git(job_ws: Workspace, tmp_path: Path, git_env: dict[str, str]) -> None:
    src = write_tree(tmp_path / "plain", {"train.py": "print('ok')\n", ".amlignore": "secrets/\n", "secrets/k": "k"})
    run = Experiment(job_ws, "plain").submit(ScriptRunConfig(source_directory=src, script="train.py"))
    run.wait_for_completion(timeout=60)
    props = run.properties
    assert not any(k.startswith("azureml.git.") for k in props)
    manifest = load_manifest(job_ws.artifacts, props["mlws.snapshot_id"])
    assert {e.path for e in manifest.entries} == {"train.py", ".amlignore"}


def test_submit_over_the_limits_fails_before_creating_a_run(
    job_ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = write_tree(tmp_path / "big", {"train.py": "", **{f"data/{i}.csv": "x" for i in range(10)}})
    monkeypatch.setenv("MLWS_SNAPSHOT_MAX_FILES", "5")
    exp = Experiment(job_ws, "limits")
    with pytest.raises(InvalidArgumentError, match=r"\.amlignore"):
        exp.submit(ScriptRunConfig(source_directory=src, script="train.py"))
    assert list(exp.get_runs()) == []
    (src / ".amlignore").write_text("data/\n")
    run = exp.submit(ScriptRunConfig(source_directory=src, script="train.py"))
    run.wait_for_completion(timeout=60)
    assert run.get_status() == "Completed"


def test_mlws_runs_snapshot_command(
    job_ws: Workspace, project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = Experiment(job_ws, "cli").submit(ScriptRunConfig(source_directory=project, script="train.py"))
    run.wait_for_completion(timeout=60)
    capsys.readouterr()
    out = tmp_path / "cli.zip"
    assert main(["--workspace", str(job_ws.root), "runs", "snapshot", run.id, "-o", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    with zipfile.ZipFile(out) as zf:
        assert set(zf.namelist()) == EXPECTED
