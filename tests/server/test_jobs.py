"""Write routes: submissions (a script run from the server root, starting with no workspace at all),
live logs followed by offset, the snapshot zip of a job run, cancelling a running job, and snapshots."""

from __future__ import annotations

import io
import textwrap
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.server.conftest import Api, expect_error, poll

TERMINAL = {"Completed", "Failed", "Canceled"}

TRAIN = """\
import sys
from pathlib import Path

from jupyter_mlws import Run

run = Run.get_context()
print("hello from the job", sys.argv[1:], flush=True)
print("config says", Path("config.txt").read_text(), flush=True)
Path("outputs").mkdir(exist_ok=True)
Path("outputs/result.txt").write_text("42")
run.log("score", 0.9)
run.log("score", float("nan"))
"""

WAITER = """\
import sys
import time
from pathlib import Path

flag = Path(sys.argv[1])
print("first part", flush=True)
while not flag.exists():
    time.sleep(0.05)
print("second part", flush=True)
while True:
    time.sleep(0.05)
"""


def write(root: Path, name: str, text: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))


async def wait_for_status(api: Api, run_id: str, statuses: set[str], what: str = "") -> dict[str, Any]:
    async def check() -> Any:
        run = await api.ok(f"runs/{run_id}")
        return run if run["status"] in statuses else None

    result: dict[str, Any] = await poll(check, what=what or f"run {run_id} to be one of {sorted(statuses)}")
    return result


@pytest.mark.slow
async def test_first_submission_creates_the_workspace_and_the_job_completes(api: Api, jobs: Path) -> None:
    root = jobs
    write(root, "proj/train.py", TRAIN)
    write(root, "proj/config.txt", "from-the-snapshot")
    write(root, "proj/.amlignore", "*.tmp\n")
    write(root, "proj/scratch.tmp", "ignored")
    assert not (root / ".mlws").exists()
    assert (await api.ok("workspace"))["exists"] is False

    body = {
        "script": "proj/train.py",
        "experiment": "rest-jobs",
        "arguments": ["--epochs", 3, True],
        "tags": {"via": "rest"},
    }
    reply = await api.post("submissions", body=body)
    assert reply.status == 201, reply
    run = reply.data
    assert (root / ".mlws" / "config.json").is_file()
    assert run["experiment"] == "rest-jobs"
    assert run["run_type"] == "script"
    assert run["compute_target"] == "local"
    assert run["status"] in {"NotStarted", "Queued", "Preparing", "Starting", "Running", "Finalizing", "Completed"}

    workspace = await api.ok("workspace")
    assert workspace["exists"] is True
    assert workspace["root"] == str(root.resolve())

    done = await wait_for_status(api, run["id"], TERMINAL)
    assert done["status"] == "Completed", done
    assert done["tags"] == {"via": "rest"}
    assert done["end_time"] is not None
    assert done["metrics"] == {"score": "NaN"}
    assert done["snapshot_id"]
    assert "user_logs/std_log.txt" in done["log_files"]

    log = await api.ok(f"runs/{run['id']}/logs")
    assert "hello from the job ['--epochs', '3', 'True']" in log["data"]
    assert "config says from-the-snapshot" in log["data"]
    tail = await api.ok(f"runs/{run['id']}/logs", params={"offset": log["next_offset"]})
    assert (tail["data"], tail["complete"]) == ("", True)

    files = {f["path"] for f in (await api.ok(f"runs/{run['id']}/files"))["items"]}
    assert {"outputs/result.txt", "user_logs/std_log.txt"} <= files
    result = await api.get(f"runs/{run['id']}/files/outputs/result.txt")
    assert result.body == b"42"
    series = await api.ok(f"runs/{run['id']}/metrics", params={"name": "score"})
    assert [p["value"] for p in series["points"]] == [0.9, "NaN"]

    snapshot = await api.get(f"runs/{run['id']}/snapshot")
    assert snapshot.status == 200, snapshot
    assert snapshot.content_type == "application/zip"
    assert snapshot.headers["Content-Disposition"] == f'attachment; filename="{run["id"]}-snapshot.zip"'
    with zipfile.ZipFile(io.BytesIO(snapshot.body)) as archive:
        assert archive.testzip() is None
        names = set(archive.namelist())
        assert {"train.py", "config.txt"} <= names
        assert "scratch.tmp" not in names
        assert archive.read("config.txt") == b"from-the-snapshot"

    listed = await api.ok("runs", params={"experiment": "rest-jobs"})
    assert [r["id"] for r in listed["items"]] == [run["id"]]
    assert "rest-jobs" in [e["name"] for e in (await api.ok("experiments"))["items"]]
    expect_error(await api.post(f"runs/{run['id']}/cancel"), 409, "InvalidStateError", "Completed")


@pytest.mark.slow
async def test_follow_the_live_log_then_cancel_the_running_job(api: Api, jobs: Path) -> None:
    root = jobs
    write(root, "waiter/wait.py", WAITER)
    flag = root.parent / "go.flag"
    reply = await api.post("submissions", body={"script": "waiter/wait.py", "arguments": [str(flag)]})
    assert reply.status == 201, reply
    run_id = reply.data["id"]
    assert reply.data["experiment"] == "waiter"  # the source directory's name

    async def first() -> Any:
        chunk = await api.ok(f"runs/{run_id}/logs")
        return chunk if "first part" in chunk["data"] else None

    chunk = await poll(first, what="the first part of the live log")
    assert chunk["status"] == "Running"
    assert chunk["complete"] is False
    offset = chunk["next_offset"]
    assert offset == len(chunk["data"].encode())

    nothing_new = await api.ok(f"runs/{run_id}/logs", params={"offset": offset})
    assert (nothing_new["data"], nothing_new["next_offset"], nothing_new["complete"]) == ("", offset, False)

    flag.write_text("go")

    async def second() -> Any:
        more = await api.ok(f"runs/{run_id}/logs", params={"offset": offset})
        return more if "second part" in more["data"] else None

    more = await poll(second, what="the second part of the live log")
    assert "first part" not in more["data"]  # only what is new since offset
    assert more["offset"] == offset
    assert more["next_offset"] == offset + len(more["data"].encode())

    reply = await api.post(f"runs/{run_id}/cancel")
    assert reply.status == 200, reply
    assert reply.data["id"] == run_id
    assert reply.data["status"] in {"CancelRequested", "Canceled"}
    again = await api.post(f"runs/{run_id}/cancel")
    assert again.status in (200, 409), again  # asking twice is harmless
    done = await wait_for_status(api, run_id, TERMINAL)
    assert done["status"] == "Canceled", done
    log = await api.ok(f"runs/{run_id}/logs")
    assert "first part" in log["data"]
    assert "second part" in log["data"]

    snapshot = await api.get(f"runs/{run_id}/snapshot")
    with zipfile.ZipFile(io.BytesIO(snapshot.body)) as archive:
        assert archive.namelist() == ["wait.py"]
    expect_error(await api.post(f"runs/{run_id}/cancel"), 409, "InvalidStateError")


async def test_snapshots(api: Api, jp_root_dir: Path) -> None:
    root = Path(jp_root_dir)
    write(root, "proj/a.py", "print('a')\n")
    write(root, "proj/sub/b.txt", "bbb")
    write(root, "proj/.amlignore", "*.log\n")
    write(root, "proj/debug.log", "ignored")
    write(root, "top.txt", "top")
    assert not (root / ".mlws").exists()

    reply = await api.post("snapshots", body={"path": "proj"})
    assert reply.status == 201, reply
    snap = reply.data
    assert (root / ".mlws" / "config.json").is_file()  # the first write made the workspace
    assert snap["source"] == "proj"
    assert snap["file_count"] == 3  # a.py, sub/b.txt, .amlignore
    assert snap["total_size"] == len("print('a')\n") + 3 + len("*.log\n")
    assert snap["excluded_secrets"] == []

    write(root, "keys/.env", "TOKEN=1")
    write(root, "keys/id_rsa", "-----BEGIN")
    write(root, "keys/main.py", "")
    keys = await api.post("snapshots", body={"path": "keys"})
    assert keys.data["file_count"] == 1 and sorted(keys.data["excluded_secrets"]) == [".env", "id_rsa"]

    again = await api.post("snapshots", body={"path": "proj/"})
    assert again.data["id"] == snap["id"]  # content-addressed: same content, same snapshot
    assert (await api.post("snapshots", body={"path": "/proj"})).data["id"] == snap["id"]  # '/' is the root
    write(root, "proj/a.py", "print('changed')\n")
    changed = await api.post("snapshots", body={"path": "proj"})
    assert changed.data["id"] != snap["id"]

    whole = await api.post("snapshots")  # no body: the server root
    assert whole.status == 201, whole
    assert whole.data["source"] == "."
    names = await api.post("snapshots", body={})
    assert names.data["id"] == whole.data["id"]
    assert whole.data["file_count"] >= 4  # .mlws is never part of a snapshot

    expect_error(await api.post("snapshots", body={"path": "nope"}), 404, "NotFoundError", "nope")
    expect_error(await api.post("snapshots", body={"path": "top.txt"}), 404, "NotFoundError", "top.txt")
    expect_error(await api.post("snapshots", body={"path": ""}), 400, "InvalidArgumentError", "path")


@pytest.mark.slow
async def test_submission_and_cancel_replies_are_the_whole_run(api: Api, jobs: Path) -> None:
    """POST submissions and POST runs/{id}/cancel answer a Run: the same fields, with the same values, as
    GET runs (today their metrics, params and tags are always empty)."""
    write(jobs, "proj/train.py", "print('hi')\n")
    reply = await api.post("submissions", body={"script": "proj/train.py", "tags": {"via": "rest"}})
    assert reply.status == 201, reply
    problems = []
    if reply.data["tags"] != {"via": "rest"}:
        problems.append(f"POST submissions answered tags {reply.data['tags']}, not {{'via': 'rest'}}")

    from jupyter_mlws import Experiment, Workspace

    run = Experiment(Workspace(jobs), "interactive").start_logging()
    run.log("acc", 0.5)
    run.log_param("lr", "0.1")
    run.tag("k", "v")
    canceled = await api.post(f"runs/{run.id}/cancel")
    assert canceled.status == 200, canceled
    listed = (await api.ok("runs", params={"experiment": "interactive"}))["items"][0]
    for key in ("metrics", "params", "tags"):
        if canceled.data[key] != listed[key]:
            problems.append(f"POST cancel answered {key} {canceled.data[key]}, GET runs says {listed[key]}")
    assert not problems, "\n".join(problems)


NOTEBOOK_CELLS = [
    ({"tags": ["parameters"]}, "epochs = 2\nlabel = 'default'"),
    (
        {},
        "from jupyter_mlws import Run\nrun = Run.get_context()\n"
        "for i in range(epochs):\n    run.log('loss', 1 / (i + 1))\nprint('label', label)",
    ),
]


@pytest.mark.slow
async def test_a_notebook_submission_runs_with_its_parameters(api: Api, jobs: Path) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook()
    for metadata, source in NOTEBOOK_CELLS:
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata.update(metadata)
        nb.cells.append(cell)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    (jobs / "nbproj").mkdir()
    nbformat.write(nb, jobs / "nbproj" / "train.ipynb")
    body = {"notebook": "nbproj/train.ipynb", "parameters": {"epochs": "4", "label": "rest"}, "experiment": "nbs"}
    reply = await api.post("submissions", body=body)
    assert reply.status == 201, reply
    run = await wait_for_status(api, reply.data["id"], TERMINAL)
    assert run["status"] == "Completed", run
    series = await api.ok(f"runs/{run['id']}/metrics", params={"name": "loss"})
    assert series["total"] == 4
    files = [f["path"] for f in (await api.ok(f"runs/{run['id']}/files"))["items"]]
    assert "outputs/train.ipynb" in files
    log = await api.ok(f"runs/{run['id']}/logs")
    assert "label rest" in log["data"]


async def test_a_submission_with_text_no_store_can_keep_is_refused(api: Api, jp_root_dir: Path) -> None:
    # JSON may escape a lone surrogate; no database can store it: a 400 naming it, and no run.
    write(jp_root_dir, "proj/train.py", "print('hi')\n")
    reply = await api.post("submissions", body=b'{"script": "proj/train.py", "tags": {"k": "\\ud800"}}')
    expect_error(reply, 400, "InvalidArgumentError", "lone surrogate")
    assert not (jp_root_dir / ".mlws").exists()  # nothing was created for it
