"""``mlws workspace migrate`` (issue 19): a local workspace (SQLite + a folder) copied into an empty
team workspace (a real PostgreSQL + a real S3 server), opened from another folder with the URLs:
ids, run numbers, model versions and blob digests kept, everything verified; a second migration into
the same database is refused."""

from __future__ import annotations

import json
import math
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlws import Dataset, Experiment, Model, Workspace
from jupyter_mlws.cli import main
from jupyter_mlws.core.migration import migrate_workspace
from jupyter_mlws.errors import InvalidArgumentError, InvalidStateError
from tests.support.s3 import KEY, SECRET, S3Server, s3_server, use_test_keys  # noqa: F401 - the module's S3 server

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def aws_keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    use_test_keys(monkeypatch)
    yield


def _fill(ws: Workspace, folder: Path) -> None:
    """Runs (a parent with a child) with metrics, params, files and a snapshot; two versions of a model;
    a dataset on the default datastore."""
    folder.mkdir()
    (folder / "train.py").write_text("print('train')\n")
    (folder / "weights.bin").write_bytes(os.urandom(2048))
    exp = Experiment(ws, "local-exp")
    for i in range(3):
        with exp.start_logging(display_name=f"try {i}", snapshot_directory=str(folder)) as run:
            run.log("acc", 0.5 + i / 10)
            run.log("acc", math.nan)
            run.log_list("loss", [3.0, 2.0])
            run.log_row("table", epoch=i, score=0.25)
            run.log_param("lr", str(0.1 * (i + 1)))
            run.tag("round", str(i))
            run.upload_file("outputs/weights.bin", str(folder / "weights.bin"))
            child = run.child_run("child")
            child.log("child_metric", i)
            child.complete()
            run.register_model("local-model", model_path="outputs/weights.bin", tags={"round": str(i)})
    import pandas as pd

    Dataset.Tabular.register_pandas_dataframe(
        pd.DataFrame({"store": ["1042", "7"], "sales": [10.5, 3.0]}),
        ws.get_default_datastore().path("sales"),
        "sales",
        show_progress=False,
    )


def _view(ws: Workspace) -> dict[str, Any]:
    """Everything _fill made, as read through ws, with the digests of every file."""
    queries = ws.services.queries
    runs = []
    for run in sorted(Experiment(ws, "local-exp").get_runs(include_children=True), key=lambda r: r.id):
        record = queries.run(run.id)
        runs.append(
            {
                "id": run.id,
                "number": run.number,
                "parent": record.parent_run_id,
                "status": run.status,
                "display_name": run.display_name,
                "tags": run.tags,
                "params": queries.params(run.id),
                "metrics": repr(run.get_metrics()),  # repr: NaN compares equal to itself
                "snapshot": record.snapshot_id,
                "files": sorted((f.path, f.digest, f.size) for f in queries.files(run.id)),
            }
        )
    models = [
        {
            "id": m.id,
            "version": m.version,
            "tags": m.tags,
            "run_id": m.run_id,
            "files": sorted((f.path, f.digest) for f in ws.metadata.list_model_files(m.name, m.version)),
        }
        for m in sorted(Model.list(ws), key=lambda m: m.version)
    ]
    dataset = Dataset.get_by_name(ws, "sales")
    return {
        "runs": runs,
        "models": models,
        "dataset": {"id": dataset.id, "version": dataset.version, "frame": dataset.to_pandas_dataframe().to_dict()},
    }


def test_migrate_round_trip_keeps_ids_numbers_and_digests(
    tmp_path: Path,
    postgres_url: str,
    s3_server: S3Server,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    local = Workspace.create(tmp_path / "local")
    _fill(local, tmp_path / "src")
    before = _view(local)
    assert len(before["runs"]) == 6 and [m["version"] for m in before["models"]] == [1, 2, 3]
    assert sum(1 for r in before["runs"] if r["snapshot"]) == 3 and all(
        r["files"] for r in before["runs"] if r["parent"] is None
    )

    artifact_url = f"s3://{s3_server.create_bucket()}/team"
    endpoint = f"endpoint_url={s3_server.endpoint_url}"
    argv = ["--workspace", str(local.root), "workspace", "migrate", "--to", postgres_url, "--artifacts", artifact_url]
    assert main([*argv, "--artifact-option", endpoint]) == 0
    out = capsys.readouterr().out
    assert "verified" in out and "Workspace.create(" in out and artifact_url in out

    team = Workspace.create(
        tmp_path / "elsewhere",
        metadata_url=postgres_url,
        artifact_url=artifact_url,
        artifact_options={"endpoint_url": s3_server.endpoint_url},
    )
    assert _view(team) == before
    # Every blob of the local store is in the team's, and the default datastore moved beside it.
    assert not team.artifacts.missing(set(local.artifacts.iter_digests()))
    assert team.get_default_datastore().url.startswith(artifact_url + "/")
    # The local workspace is untouched (no --switch).
    assert Workspace(local.root).metadata_url == local.metadata_url and _view(local) == before

    # Counters and sequences go on from the copied keys.
    with Experiment(team, "local-exp").start_logging() as run:
        run.log("acc", 1.0)
    assert run.number == max(r["number"] for r in before["runs"]) + 1
    assert Model.register(team, str(tmp_path / "src" / "train.py"), "local-model").version == 4

    # A second migration into the same database is refused, with the reason, and changes nothing.
    assert main([*argv, "--artifact-option", endpoint]) == 1
    err = capsys.readouterr().err
    assert "holds a workspace's data already" in err and "Traceback" not in err
    with pytest.raises(InvalidStateError, match="empty database"):
        migrate_workspace(local, postgres_url, artifact_url, {"endpoint_url": s3_server.endpoint_url})
    assert len(list(Experiment(team, "local-exp").get_runs())) == 4  # the three copied and the new one


def test_migrate_with_switch_points_the_workspace_at_the_team(
    tmp_path: Path,
    postgres_server: Any,
    s3_server: S3Server,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_server.endpoint_url)  # no artifact options this time
    local = Workspace.create(tmp_path / "local")
    with Experiment(local, "e").start_logging() as run:
        run.log("acc", 0.5)
    url = postgres_server.create_database(f"mlws_{uuid.uuid4().hex[:12]}")
    artifact_url = f"s3://{s3_server.create_bucket()}/team"
    report = migrate_workspace(local, url, artifact_url, switch=True)
    assert report.switched and report.rows["runs"] == 1 and report.blobs == 0
    shown = json.loads(json.dumps(report.as_dict()))  # what `--json` prints
    assert (
        shown["metadata_url"] == url
        and shown["open"] == f"Workspace.create('<folder>', metadata_url={url!r}, artifact_url={artifact_url!r})"
    )
    again = Workspace(local.root)
    assert (again.metadata_url, again.artifact_url) == (url, artifact_url)
    assert again.get_run(run.id).get_metrics() == {"acc": 0.5}
    assert local.get_run(run.id).number == 1  # the object itself follows too
    assert (local.path / "mlws.db").exists()  # the old database stays, as a backup


def test_migrate_refuses_bad_targets_clearly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    local = Workspace.create(tmp_path / "local")
    with pytest.raises(InvalidArgumentError, match="own database"):
        migrate_workspace(local, local.metadata_url, "s3://bucket/x")
    with pytest.raises(InvalidArgumentError, match="AWS_ACCESS_KEY_ID"):
        migrate_workspace(local, "postgresql+psycopg://h/db", "s3://bucket/x", {"secret": SECRET})
    with pytest.raises(InvalidArgumentError, match="URL"):
        migrate_workspace(local, "not a url", "s3://bucket/x")
    argv = ["--workspace", str(local.root), "workspace", "migrate", "--to", "postgresql+psycopg://h/db"]
    assert main([*argv, "--artifacts", "s3://b/x", "--artifact-option", "no-equals-sign"]) == 1
    assert "KEY=VALUE" in capsys.readouterr().err


def test_migrate_refuses_a_database_of_other_tables_and_a_run_still_logging(tmp_path: Path) -> None:
    import sqlite3

    local = Workspace.create(tmp_path / "local")
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    with pytest.raises(InvalidStateError, match=r"holds other tables \(invoices\)"):
        migrate_workspace(local, f"sqlite:///{other}", str(tmp_path / "team-artifacts"))
    with sqlite3.connect(other) as conn:  # nothing was created there
        assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")] == ["invoices"]

    run = Experiment(local, "e").start_logging()
    with pytest.raises(InvalidStateError, match="still logging"):
        migrate_workspace(local, f"sqlite:///{tmp_path / 'empty.db'}", str(tmp_path / "team-artifacts"))
    run.complete()
