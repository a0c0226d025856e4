"""Read routes of the REST API against a seeded workspace: workspace, experiments, run search (paging,
filter, order_by, include_children, experiment=), run detail, metrics (NaN/inf as strings,
down-sampling), files, logs, models and computes. Every reply is validated against openapi.yaml by the
``api`` client, which also fails on any 5xx."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

import jupyter_mlws
from jupyter_mlws import Experiment, Workspace
from tests.server.apispec import validate_schema
from tests.server.conftest import Api, Seed, expect_error


async def _all_pages(api: Api, path: str, page_size: int, **params: Any) -> tuple[list[dict[str, Any]], int]:
    items: list[dict[str, Any]] = []
    token = None
    pages = 0
    while True:
        query: dict[str, Any] = {"page_size": page_size, **params}
        if token:
            query["page_token"] = token
        page = await api.ok(path, params=query)
        pages += 1
        assert len(page["items"]) <= page_size
        items.extend(page["items"])
        token = page["next_page_token"]
        if token is None:
            return items, pages
        assert pages < 100, "paging does not end"


# -- workspace, experiments, computes -------------------------------------------------------------------
async def test_workspace(api: Api, seed: Seed, jp_root_dir: Path) -> None:
    data = await api.ok("workspace")
    assert data["exists"] is True
    assert data["root"] == str(Path(jp_root_dir).resolve())
    assert data["version"] == jupyter_mlws.__version__
    assert data["metadata_backend"] == "sqlite"
    assert data["artifact_store"]
    assert "script-jobs" in data["capabilities"]
    assert "notebook-jobs" in data["capabilities"]
    assert {"datasets", "pipelines", "webservices"} <= set(data["capabilities"])
    assert data["default_compute_target"] == "local"
    assert [t["name"] for t in data["compute_targets"]] == ["local"]


async def test_experiments_and_computes(api: Api, seed: Seed) -> None:
    page = await api.ok("experiments")
    assert [e["name"] for e in page["items"]] == ["other", "train"]
    assert page["next_page_token"] is None
    computes = await api.ok("computes")
    assert computes["items"][0]["name"] == "local"
    assert computes["items"][0]["type"] == "local"
    assert computes["next_page_token"] is None


async def test_reads_without_a_workspace_answer_empty_and_create_nothing(api: Api, jp_root_dir: Path) -> None:
    data = await api.ok("workspace")
    assert data["exists"] is False
    assert data["artifact_store"] is None
    assert [t["name"] for t in data["compute_targets"]] == ["local"]
    empty = {"items": [], "next_page_token": None}
    assert await api.ok("experiments") == empty
    assert await api.ok("runs") == empty
    assert await api.ok("runs", params={"include_children": "true", "experiment": "x"}) == empty
    assert await api.ok("models") == empty
    assert (await api.ok("computes"))["items"][0]["name"] == "local"
    expect_error(await api.get("runs", params={"filter": "metrics.acc >"}), 400, "InvalidArgumentError", "filter")
    expect_error(await api.get("runs", params={"order_by": "bogus"}), 400, "InvalidArgumentError", "bogus")
    for path in (
        "experiments/x/runs",
        "runs/r1",
        "runs/r1/metrics",
        "runs/r1/files",
        "models/m",
        "models/m/versions/1",
    ):
        expect_error(await api.get(path), 404, "NotFoundError", "workspace")
    expect_error(await api.post("runs/r1/cancel"), 404, "NotFoundError")
    assert not (Path(jp_root_dir) / ".mlws").exists()


# -- run search -----------------------------------------------------------------------------------------------
async def test_experiment_runs_page_through_with_next_page_token(api: Api, seed: Seed) -> None:
    items, pages = await _all_pages(api, "experiments/train/runs", 2)
    assert pages == 3
    assert [r["id"] for r in items] == list(reversed(seed.train))  # newest first by default
    assert all(r["experiment"] == "train" and r["parent_run_id"] is None for r in items)
    whole = await api.ok("experiments/train/runs")
    assert whole["next_page_token"] is None
    assert [r["id"] for r in whole["items"]] == list(reversed(seed.train))


async def test_runs_page_through_every_experiment(api: Api, seed: Seed) -> None:
    items, pages = await _all_pages(api, "runs", 4)
    assert pages == 2
    assert sorted(r["id"] for r in items) == sorted([*seed.train, seed.special_run])
    with_children, _ = await _all_pages(api, "runs", 3, include_children="true")
    assert sorted(r["id"] for r in with_children) == sorted([*seed.train, *seed.children, seed.special_run])


async def test_run_list_entries(api: Api, seed: Seed) -> None:
    page = await api.ok("experiments/train/runs", params={"filter": "attributes.display_name = 'r2'"})
    (run,) = page["items"]
    assert run["id"] == seed.files_run
    assert run["status"] == "Completed"
    assert run["run_type"] == "interactive"
    assert run["compute_target"] is None
    assert run["metrics"] == {"acc": 0.2, "loss": 0.4}
    assert run["params"] == {"lr": "0.03"}
    assert run["tags"] == {"fold": "0"}
    assert run["duration_seconds"] >= 0
    assert run["created_time"].endswith("Z")


@pytest.mark.parametrize(
    ("flt", "names"),
    [
        ("metrics.acc > 0.25", {"r3", "r4"}),
        ("params.lr = '0.03'", {"r2"}),
        ("tags.best = 'yes' or metrics.acc < 0.05", {"r0", "r4"}),
        ("(tags.fold = '1' or tags.best = 'yes') and metrics.acc >= 0.3", {"r3", "r4"}),
        ("attributes.display_name LIKE 'r%'", {"r0", "r1", "r2", "r3", "r4"}),
        ("attributes.display_name IN ('r1', 'r3')", {"r1", "r3"}),
        ("attributes.status = 'Completed' and metrics.loss <= 0.35", {"r3", "r4"}),
        ("metrics.nothing > 0", set()),
    ],
)
async def test_filter(api: Api, seed: Seed, flt: str, names: set[str]) -> None:
    page = await api.ok("experiments/train/runs", params={"filter": flt})
    assert {r["display_name"] for r in page["items"]} == names
    same = await api.ok("runs", params={"filter": flt, "experiment": "train"})
    assert {r["display_name"] for r in same["items"]} == names


async def test_filter_with_children(api: Api, seed: Seed) -> None:
    page = await api.ok("experiments/train/runs", params={"filter": "metrics.acc > 0.25", "include_children": "1"})
    found = {r["id"] for r in page["items"]}  # children's acc: 0.05, 0.15, 0.25, 0.35, 0.45
    assert found == {seed.train[3], seed.train[4], seed.children[3], seed.children[4]}
    children = [r for r in page["items"] if r["parent_run_id"] is not None]
    assert {r["parent_run_id"] for r in children} == {seed.train[3], seed.train[4]}


async def test_order_by(api: Api, seed: Seed) -> None:
    page = await api.ok("experiments/train/runs", params={"order_by": "metrics.acc DESC"})
    assert [r["display_name"] for r in page["items"]] == ["r4", "r3", "r2", "r1", "r0"]
    page = await api.ok("experiments/train/runs", params={"order_by": "metrics.acc"})
    assert [r["display_name"] for r in page["items"]] == ["r0", "r1", "r2", "r3", "r4"]
    expected = ["r4", "r2", "r0", "r3", "r1"]
    repeated = [("order_by", "tags.fold"), ("order_by", "metrics.acc DESC")]
    page = await api.ok("experiments/train/runs", params=repeated)
    assert [r["display_name"] for r in page["items"]] == expected
    page = await api.ok("experiments/train/runs", params={"order_by": "tags.fold ASC,metrics.acc DESC"})
    assert [r["display_name"] for r in page["items"]] == expected
    page = await api.ok("runs", params={"order_by": "attributes.run_number", "experiment": "train", "page_size": 2})
    assert [r["display_name"] for r in page["items"]] == ["r0", "r1"]


async def test_runs_experiment_parameter(api: Api, seed: Seed) -> None:
    page = await api.ok("runs", params={"experiment": "other"})
    assert [r["id"] for r in page["items"]] == [seed.special_run]
    page = await api.ok("runs", params=[("experiment", "train"), ("experiment", "other")])
    assert len(page["items"]) == 6
    page = await api.ok("runs", params={"experiment": "train,other"})
    assert len(page["items"]) == 6
    assert await api.ok("runs", params={"experiment": "nope"}) == {"items": [], "next_page_token": None}


async def test_unknown_experiment_is_404_and_not_created(api: Api, seed: Seed) -> None:
    expect_error(await api.get("experiments/nope/runs"), 404, "NotFoundError", "nope")
    assert "nope" not in [e["name"] for e in (await api.ok("experiments"))["items"]]


# -- run detail and metrics -----------------------------------------------------------------------------------
async def test_run_detail(api: Api, seed: Seed) -> None:
    run = await api.ok(f"runs/{seed.files_run}")
    assert run["id"] == seed.files_run
    assert run["display_name"] == "r2"
    assert run["experiment"] == "train"
    assert run["properties"] == {}
    assert run["error"] is None
    assert run["snapshot_id"] is None
    assert run["git"] == {}
    assert run["log_files"] == []
    assert [c["id"] for c in run["children"]] == [seed.children[2]]
    assert run["children"][0]["parent_run_id"] == seed.files_run
    assert run["children"][0]["metrics"] == {"acc": pytest.approx(0.25)}
    assert {(s["name"], s["kind"], s["count"]) for s in run["series"]} == {("acc", "scalar", 1), ("loss", "scalar", 2)}
    listed = (await api.ok("runs", params={"filter": "attributes.display_name = 'r2'"}))["items"][0]
    assert {k: run[k] for k in listed} == listed  # a detail is a list entry plus more
    child = await api.ok(f"runs/{seed.children[2]}")
    assert child["parent_run_id"] == seed.files_run
    assert child["children"] == []


async def test_metrics_summary(api: Api, seed: Seed) -> None:
    page = await api.ok(f"runs/{seed.files_run}/metrics")
    by_name = {s["name"]: s for s in page["items"]}
    assert by_name["acc"] == {"name": "acc", "kind": "scalar", "count": 1, "last_value": 0.2, "last_step": None}
    assert by_name["loss"] == {"name": "loss", "kind": "scalar", "count": 2, "last_value": 0.4, "last_step": 1}
    assert page["next_page_token"] is None
    special = {s["name"]: s for s in (await api.ok(f"runs/{seed.special_run}/metrics"))["items"]}
    assert special["special"]["last_value"] == "-Infinity"
    assert special["table"]["kind"] == "table"
    assert special["table"]["count"] == 2
    assert special["table"]["last_value"] is None
    assert special["picture"]["kind"] == "image"


async def test_metrics_summary_reports_a_nan_last_value_as_the_string_nan(api: Api, seed: Seed) -> None:
    """The run list says ``"loss": "NaN"``; the series summary of the same run must agree (not null)."""
    listed = (await api.ok("runs", params={"experiment": "other"}))["items"][0]
    assert listed["metrics"]["loss"] == "NaN"
    special = {s["name"]: s for s in (await api.ok(f"runs/{seed.special_run}/metrics"))["items"]}
    assert special["loss"]["last_value"] == "NaN"


async def test_metric_series_with_non_finite_values_as_strings(api: Api, seed: Seed) -> None:
    series = await api.ok(f"runs/{seed.special_run}/metrics", params={"name": "special"})
    assert series["kind"] == "scalar"
    assert series["total"] == 4
    assert series["downsampled"] is False
    assert [p["value"] for p in series["points"]] == [1.0, "NaN", "Infinity", "-Infinity"]
    for point in series["points"]:
        validate_schema("Point", point)
    loss = await api.ok(f"runs/{seed.special_run}/metrics", params={"name": "loss"})
    assert [p["value"] for p in loss["points"]] == ["NaN"]
    run = await api.ok(f"runs/{seed.special_run}")
    assert run["metrics"] == {"special": "-Infinity", "loss": "NaN"}


async def test_metric_series_with_steps(api: Api, seed: Seed) -> None:
    series = await api.ok(f"runs/{seed.train[0]}/metrics", params={"name": "loss"})
    assert [(p["step"], p["value"]) for p in series["points"]] == [(0, 1.0), (1, 0.5)]
    assert all(p["timestamp"].endswith("Z") for p in series["points"])


async def test_table_and_image_series(api: Api, seed: Seed) -> None:
    table = await api.ok(f"runs/{seed.special_run}/metrics", params={"name": "table"})
    assert table["kind"] == "table"
    assert table["total"] == 2
    assert table["value"] == {"epoch": [1, 2], "score": [0.5, 0.75]}
    image = await api.ok(f"runs/{seed.special_run}/metrics", params={"name": "picture"})
    assert image["kind"] == "image"
    assert image["total"] == 1
    name = image["value"]
    assert isinstance(name, str)
    assert name.startswith("images/")
    reply = await api.get(f"runs/{seed.special_run}/files/{name}")
    assert reply.status == 200
    assert reply.content_type == "image/png"
    assert reply.body.startswith(b"\x89PNG")


async def test_unknown_metric_and_bad_max_points(api: Api, seed: Seed) -> None:
    expect_error(await api.get(f"runs/{seed.files_run}/metrics", params={"name": "nope"}), 404, "NotFoundError", "nope")
    for bad in ("1", "100001", "-5", "many"):
        reply = await api.get(f"runs/{seed.files_run}/metrics", params={"name": "acc", "max_points": bad})
        expect_error(reply, 400, "InvalidArgumentError", "max_points")


@pytest.mark.slow
async def test_long_series_is_downsampled_keeping_min_max_and_last(api: Api, seed: Seed) -> None:
    n = 100_000
    values = [math.sin(i / 700.0) * 10.0 for i in range(n)]
    values[12_345] = -1e6  # the global minimum, inside a bucket
    values[87_654] = 1e6  # the global maximum
    values[-1] = 42.0  # the last point
    with Experiment(seed.ws, "long").start_logging() as run:
        run.log_batch(metrics=[("curve", v, i) for i, v in enumerate(values)])
    for max_points in (2, 3, 10, 500):
        series = await api.ok(f"runs/{run.id}/metrics", params={"name": "curve", "max_points": max_points})
        points = series["points"]
        assert series["total"] == n
        assert series["downsampled"] is True
        # max_points=2 gives 3 points (the minimum, the maximum and the last): reported, tolerated here.
        assert 2 <= len(points) <= max(max_points, 3), (max_points, len(points))
        steps = [p["step"] for p in points]
        assert steps == sorted(set(steps))
        assert points[-1] == {"step": n - 1, "value": 42.0, "timestamp": points[-1]["timestamp"]}
        if max_points >= 3:
            assert min(p["value"] for p in points) == -1e6
            assert max(p["value"] for p in points) == 1e6
            assert {12_345, 87_654} <= set(steps)
    default = await api.ok(f"runs/{run.id}/metrics", params={"name": "curve"})
    assert 900 <= len(default["points"]) <= 1000
    assert all(values[p["step"]] == p["value"] for p in default["points"])
    assert (await api.ok(f"runs/{run.id}"))["series"] == [{"name": "curve", "kind": "scalar", "count": n}]


# -- files and logs -------------------------------------------------------------------------------------------------
async def test_files_list_and_download(api: Api, seed: Seed) -> None:
    page = await api.ok(f"runs/{seed.files_run}/files")
    assert {f["path"]: f["size"] for f in page["items"]} == {k: len(v) for k, v in seed.files.items()}
    assert page["next_page_token"] is None
    types = {
        "outputs/model.txt": "text/plain",
        "outputs/data.bin": "application/octet-stream",
        "outputs/sub/info.json": "application/json",
    }
    for name, data in seed.files.items():
        reply = await api.get(f"runs/{seed.files_run}/files/{name}")
        assert reply.status == 200, reply
        assert reply.body == data
        assert reply.content_type == types[name]
        base = name.rsplit("/", 1)[-1]
        assert reply.headers["Content-Disposition"] == f'inline; filename="{base}"'
        for flag in ("1", "true"):
            reply = await api.get(f"runs/{seed.files_run}/files/{name}", params={"download": flag})
            assert reply.body == data
            assert reply.headers["Content-Disposition"] == f'attachment; filename="{base}"'
    encoded = await api.get(f"runs/{seed.files_run}/files/outputs%2Fsub%2Finfo.json")
    assert encoded.body == seed.files["outputs/sub/info.json"]
    expect_error(await api.get(f"runs/{seed.files_run}/files/outputs/nope.txt"), 404, "NotFoundError")
    expect_error(await api.get(f"runs/{seed.files_run}/files/outputs"), 404, "NotFoundError")
    reply = await api.get(f"runs/{seed.files_run}/files/outputs/model.txt", params={"download": "maybe"})
    expect_error(reply, 400, "InvalidArgumentError", "download")
    assert (await api.ok(f"runs/{seed.train[0]}/files"))["items"] == []


async def test_logs_read_with_offsets(api: Api, seed: Seed, tmp_path: Path) -> None:
    text = "line one\nline two\nünïcode\n"
    source = tmp_path / "log.txt"
    source.write_text(text, encoding="utf-8")
    run = Experiment(Workspace(seed.ws.root), "logs").start_logging()
    run.upload_file("user_logs/std_log.txt", source)
    run.upload_file("logs/extra.log", source)
    chunk = await api.ok(f"runs/{run.id}/logs")
    size = len(text.encode())
    assert chunk == {
        "name": "user_logs/std_log.txt",
        "offset": 0,
        "next_offset": size,
        "data": text,
        "status": "Running",
        "complete": False,
    }
    rest = await api.ok(f"runs/{run.id}/logs", params={"offset": 9})
    assert rest["data"] == "line two\nünïcode\n"
    assert rest["next_offset"] == size
    end = await api.ok(f"runs/{run.id}/logs", params={"offset": size})
    assert (end["data"], end["next_offset"], end["complete"]) == ("", size, False)
    extra = await api.ok(f"runs/{run.id}/logs", params={"name": "logs/extra.log", "offset": 18})
    assert extra["data"] == "ünïcode\n"
    run.complete()
    done = await api.ok(f"runs/{run.id}/logs", params={"offset": size})
    assert (done["status"], done["complete"]) == ("Completed", True)
    assert (await api.ok(f"runs/{run.id}/logs"))["complete"] is False  # data was left to read
    missing = await api.ok(f"runs/{seed.train[0]}/logs", params={"name": "logs/none.txt"})
    assert (missing["data"], missing["next_offset"], missing["complete"]) == ("", 0, True)
    assert (await api.ok(f"runs/{run.id}"))["log_files"] == ["logs/extra.log", "user_logs/std_log.txt"]
    for bad in ("-1", "x"):
        expect_error(
            await api.get(f"runs/{run.id}/logs", params={"offset": bad}), 400, "InvalidArgumentError", "offset"
        )


async def test_snapshot_of_an_interactive_run_is_404(api: Api, seed: Seed) -> None:
    expect_error(await api.get(f"runs/{seed.files_run}/snapshot"), 404, "NotFoundError", "snapshot")


async def test_cancel_interactive_and_finished_runs(api: Api, seed: Seed) -> None:
    run = Experiment(Workspace(seed.ws.root), "cancel").start_logging()
    reply = await api.post(f"runs/{run.id}/cancel")
    assert reply.status == 200, reply
    assert reply.data["id"] == run.id
    assert reply.data["status"] == "Canceled"
    assert reply.data["end_time"] is not None
    assert (await api.ok(f"runs/{run.id}"))["status"] == "Canceled"
    for finished in (run.id, seed.files_run):
        expect_error(await api.post(f"runs/{finished}/cancel"), 409, "InvalidStateError", finished)
    assert (await api.ok(f"runs/{seed.files_run}"))["status"] == "Completed"


# -- models ----------------------------------------------------------------------------------------------------------
async def test_models_list(api: Api, seed: Seed) -> None:
    page = await api.ok("models")
    assert sorted(m["id"] for m in page["items"]) == ["clf:1", "clf:2", "other-model:1"]
    assert page["next_page_token"] is None
    clf = [m for m in page["items"] if m["name"] == "clf"]
    assert [m["version"] for m in clf] == [2, 1]
    latest = await api.ok("models", params={"latest": "true"})
    assert sorted(m["id"] for m in latest["items"]) == ["clf:2", "other-model:1"]
    named = await api.ok("models", params={"name": "clf"})
    assert [m["id"] for m in named["items"]] == ["clf:2", "clf:1"]
    assert [m["id"] for m in (await api.ok("models", params={"tag": "stage=dev"}))["items"]] == ["clf:1"]
    tagged = await api.ok("models", params={"tag": "stage"})
    assert sorted(m["id"] for m in tagged["items"]) == ["clf:1", "clf:2"]
    both = await api.ok("models", params=[("tag", "stage"), ("tag", "stage=test")])
    assert [m["id"] for m in both["items"]] == ["clf:2"]
    assert (await api.ok("models", params={"name": "nope"}))["items"] == []
    expect_error(await api.get("models", params={"name": "..."}), 400, "InvalidArgumentError", "model name")
    expect_error(await api.get("models", params={"latest": "perhaps"}), 400, "InvalidArgumentError", "latest")


async def test_model_detail_and_versions(api: Api, seed: Seed) -> None:
    model = await api.ok("models/clf")
    assert model["name"] == "clf"
    assert model["latest_version"] == 2
    assert model["aliases"] == {"prod": 1}
    assert [v["version"] for v in model["versions"]] == [2, 1]
    one = await api.ok("models/clf/versions/1")
    assert one["id"] == "clf:1"
    assert one["description"] == "first"
    assert one["tags"] == {"stage": "dev"}
    assert one["aliases"] == ["prod"]
    assert one["run_id"] is None
    assert {f["path"]: f["size"] for f in one["files"]} == {k: len(v) for k, v in seed.model_files.items()}
    assert await api.ok("models/clf/versions/prod") == one
    latest = await api.ok("models/clf/versions/latest")
    assert latest["version"] == 2
    assert latest["run_id"] == seed.files_run
    assert latest["files"] == [{"path": "model.txt", "size": len(seed.files["outputs/model.txt"])}]
    assert await api.ok("models/clf/versions/2") == latest


async def test_model_files(api: Api, seed: Seed) -> None:
    page = await api.ok("models/clf/versions/prod/files")
    assert {f["path"]: f["size"] for f in page["items"]} == {k: len(v) for k, v in seed.model_files.items()}
    for name, data in seed.model_files.items():
        reply = await api.get(f"models/clf/versions/1/files/{name}")
        assert reply.status == 200, reply
        assert reply.body == data
        base = name.rsplit("/", 1)[-1]
        assert reply.headers["Content-Disposition"] == f'inline; filename="{base}"'
        reply = await api.get(f"models/clf/versions/prod/files/{name}", params={"download": "1"})
        assert reply.body == data
        assert reply.headers["Content-Disposition"] == f'attachment; filename="{base}"'
    json_file = await api.get("models/clf/versions/1/files/clf/meta/config.json")
    assert json_file.content_type == "application/json"
    latest = await api.get("models/clf/versions/latest/files/model.txt")
    assert (latest.body, latest.content_type) == (seed.files["outputs/model.txt"], "text/plain")
    expect_error(await api.get("models/clf/versions/1/files/model.txt"), 404, "NotFoundError", "model.txt")


async def test_unknown_models_and_versions(api: Api, seed: Seed) -> None:
    expect_error(await api.get("models/nope"), 404, "NotFoundError", "nope")
    for path in ("models/nope/versions/1", "models/nope/versions/latest", "models/nope/versions/1/files"):
        expect_error(await api.get(path), 404, "NotFoundError", "nope")
    expect_error(await api.get("models/clf/versions/99"), 404, "NotFoundError", "99")
    expect_error(await api.get("models/clf/versions/staging"), 404, "NotFoundError", "staging")
    expect_error(await api.get("models/clf/versions/99/files/model.txt"), 404, "NotFoundError", "99")
    expect_error(await api.get("models/clf/versions/0"), 400, "InvalidArgumentError", "version")
    expect_error(await api.get("models/.bad"), 400, "InvalidArgumentError", "model name")
