"""REST reads of registered datasets (issue 15): the list, one dataset's versions, one version (schema,
manifest summary, lineage), a preview of its rows, and a run's input datasets on the run detail. Every
reply is validated against openapi.yaml by the ``api`` client, which also fails on any 5xx."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from jupyter_mlws import Dataset, Experiment, Model, Workspace
from jupyter_mlws.core.interfaces.datasets import DatasetInputRecord
from tests.server.conftest import Api, expect_error

IRIS_V1 = "sepal,petal,species,measured\n5.1,1.4,setosa,2024-01-02T03:04:05\n4.9,1.3,setosa,2024-01-03T00:00:00\n"
IRIS_MORE = "sepal,petal,species,measured\n6.3,4.9,virginica,2024-02-01T00:00:00\n"


@dataclass
class Seeded:
    ws: Workspace
    iris: Dataset  # tabular, v2 (v1 has one CSV, v2 two)
    iris_v1: Dataset
    blobs: Dataset  # file dataset of 1,001 small files (the manifest answer lists 1,000)
    run_id: str  # a run that used iris v1 as its input "training"
    plain_run_id: str  # a run that used nothing


def _record_input(ws: Workspace, run_id: str, name: str, ds: Dataset, mode: str) -> None:
    ws.metadata.add_run_inputs(run_id, [DatasetInputRecord(run_id, name, ds.id, ds.name, ds.version, ds.digest, mode)])


@pytest.fixture
def seeded(jp_root_dir: Path) -> Seeded:
    root = Path(jp_root_dir)
    ws = Workspace.create(root)
    data = root / "data"
    (data / "iris").mkdir(parents=True)
    (data / "iris" / "a.csv").write_text(IRIS_V1)
    iris_v1 = Dataset.Tabular.from_delimited_files(str(data / "iris" / "*.csv")).register(
        ws, "iris", description="flowers", tags={"team": "bio"}
    )
    (data / "iris" / "b.csv").write_text(IRIS_MORE)
    iris = Dataset.Tabular.from_delimited_files(str(data / "iris" / "*.csv")).register(
        ws, "iris", create_new_version=True
    )
    blobs_dir = data / "blobs"
    blobs_dir.mkdir()
    for i in range(1001):
        (blobs_dir / f"f{i:04d}.bin").write_bytes(b"x" * (i % 7))
    blobs = Dataset.File.from_files(str(blobs_dir)).register(ws, "blobs")
    exp = Experiment(ws, "train")
    with exp.start_logging(display_name="uses-iris") as run:
        run.log("acc", 0.9)
    _record_input(ws, run.id, "training", iris_v1, "direct")
    with exp.start_logging(display_name="plain") as plain:
        plain.log("acc", 0.1)
    weights = root / "weights.bin"
    weights.write_bytes(b"w")
    Model.register(ws, str(weights), "clf", datasets=[("training", iris_v1)])
    return Seeded(ws, iris, iris_v1, blobs, run.id, plain.id)


async def test_list_answers_the_latest_version_of_each(api: Api, seeded: Seeded) -> None:
    page = await api.ok("datasets")
    assert page["next_page_token"] is None
    by_name = {d["name"]: d for d in page["items"]}
    assert list(by_name) == ["blobs", "iris"]  # by name
    iris = by_name["iris"]
    assert iris["version"] == 2 and iris["kind"] == "tabular"
    assert iris["id"] == seeded.iris.id and iris["digest"] == seeded.iris.digest
    assert iris["rows"] == 3 and iris["file_count"] == 2
    assert iris["total_size"] == len(IRIS_V1) + len(IRIS_MORE)
    assert iris["created_time"].endswith("Z")
    assert set(iris) == {*seeded.iris.summary()}
    blobs = by_name["blobs"]
    assert blobs["kind"] == "file" and blobs["rows"] is None and blobs["file_count"] == 1001


async def test_one_dataset_lists_its_versions_oldest_first(api: Api, seeded: Seeded) -> None:
    data = await api.ok("datasets/iris")
    assert data["name"] == "iris" and data["kind"] == "tabular"
    assert [v["version"] for v in data["versions"]] == [1, 2]
    first, second = data["versions"]
    assert first["description"] == "flowers" and first["tags"] == {"team": "bio"}
    assert first["digest"] == seeded.iris_v1.digest != second["digest"]
    assert first["rows"] == 2 and second["rows"] == 3


async def test_a_version_has_schema_manifest_and_lineage(api: Api, seeded: Seeded) -> None:
    v1 = await api.ok("datasets/iris/versions/1")
    assert v1["version"] == 1 and v1["id"] == seeded.iris_v1.id
    assert [c["name"] for c in v1["schema"]] == ["sepal", "petal", "species", "measured"]
    assert v1["manifest"] == {
        "file_count": 1,
        "total_size": len(IRIS_V1),
        "files": [{"path": "a.csv", "size": len(IRIS_V1), "sha256": hashlib.sha256(IRIS_V1.encode()).hexdigest()}],
        "truncated": False,
    }
    # The run that used v1 and the model registered with it; v2 has no lineage yet.
    assert v1["lineage"] == {"runs": [seeded.run_id], "models": ["clf:1"]}
    latest = await api.ok("datasets/iris/versions/latest")
    assert latest["version"] == 2 and latest["lineage"] == {"runs": [], "models": []}
    assert [f["path"] for f in latest["manifest"]["files"]] == ["a.csv", "b.csv"]
    assert latest == await api.ok("datasets/iris/versions/2")


async def test_a_big_manifest_is_truncated_at_1000_files(api: Api, seeded: Seeded) -> None:
    blobs = await api.ok("datasets/blobs/versions/latest")
    assert blobs["schema"] is None and blobs["rows"] is None
    manifest = blobs["manifest"]
    assert manifest["file_count"] == 1001 and manifest["truncated"] is True
    assert len(manifest["files"]) == 1000
    assert manifest["files"][0] == {"path": "f0000.bin", "size": 0, "sha256": hashlib.sha256(b"").hexdigest()}
    assert manifest["total_size"] == sum(i % 7 for i in range(1001))


async def test_preview_of_a_tabular_dataset(api: Api, seeded: Seeded) -> None:
    preview = await api.ok("datasets/iris/versions/2/preview")
    assert [c["name"] for c in preview["columns"]] == ["sepal", "petal", "species", "measured"]
    assert all(isinstance(c["type"], str) and c["type"] for c in preview["columns"])
    assert preview["total_rows"] == 3
    assert len(preview["rows"]) == 3
    assert preview["rows"][0][:3] == [5.1, 1.4, "setosa"]
    assert preview["rows"][2][:3] == [6.3, 4.9, "virginica"]
    assert str(preview["rows"][0][3]).startswith("2024-01-02")
    one = await api.ok("datasets/iris/versions/2/preview", params={"rows": "1"})
    assert one["rows"] == preview["rows"][:1] and one["total_rows"] == 3
    v1 = await api.ok("datasets/iris/versions/1/preview", params={"rows": "1000"})
    assert [r[2] for r in v1["rows"]] == ["setosa", "setosa"]


async def test_preview_of_a_file_dataset_lists_its_files(api: Api, seeded: Seeded) -> None:
    preview = await api.ok("datasets/blobs/versions/1/preview", params={"rows": "5"})
    assert [c["name"] for c in preview["columns"]] == ["path", "size", "sha256"]
    assert [r[0] for r in preview["rows"]] == ["f0000.bin", "f0001.bin", "f0002.bin", "f0003.bin", "f0004.bin"]
    assert preview["rows"][3][1] == 3 and preview["rows"][3][2] == hashlib.sha256(b"xxx").hexdigest()
    assert preview["total_rows"] in (1001, None)


async def test_unknown_names_and_versions_are_404s_naming_what_exists(api: Api, seeded: Seeded) -> None:
    for path in ("datasets/nope", "datasets/nope/versions/1", "datasets/nope/versions/latest/preview"):
        message = expect_error(await api.get(path), 404, "NotFoundError", "nope")
        assert "iris" in message and "blobs" in message, message
    for path in ("datasets/iris/versions/3", "datasets/iris/versions/3/preview", "datasets/iris/versions/2147483647"):
        expect_error(await api.get(path), 404, "NotFoundError", "iris")


async def test_a_file_changed_since_registration_is_a_409_never_other_data(
    api: Api, seeded: Seeded, jp_root_dir: Path
) -> None:
    csv = Path(jp_root_dir) / "data" / "iris" / "a.csv"
    before = csv.stat()
    csv.write_text(IRIS_V1.replace("5.1", "9.9"))  # same size, in place, mtime put back
    os.utime(csv, ns=(before.st_atime_ns, before.st_mtime_ns))
    reply = await api.get("datasets/iris/versions/1/preview")
    message = expect_error(reply, 409, "DatasetChangedError", "a.csv", seeded.iris_v1.manifest.entries[0].sha256)
    assert "9.9" not in message
    # The version itself (manifest, lineage) is still answered: it is what was registered.
    assert (await api.ok("datasets/iris/versions/1"))["digest"] == seeded.iris_v1.digest


@pytest.mark.parametrize("rows", ["0", "1001", "-1", "abc", "1.5", "", "99999999999999999999999"])
async def test_bad_rows_are_400s(api: Api, seeded: Seeded, rows: str) -> None:
    reply = await api.get("datasets/iris/versions/1/preview", params={"rows": rows})
    expect_error(reply, 400, "InvalidArgumentError", "rows")


@pytest.mark.parametrize(
    "version", ["0", "-1", "abc", "1.5", "v1", "LATEST", "\u0661", "2147483648", "99999999999999999999999"]
)
async def test_bad_versions_are_400s(api: Api, seeded: Seeded, version: str) -> None:
    for suffix in ("", "/preview"):
        reply = await api.get(f"datasets/iris/versions/{version}{suffix}")
        expect_error(reply, 400, "InvalidArgumentError", "version")


async def test_a_run_lists_its_input_datasets(api: Api, seeded: Seeded) -> None:
    run = await api.ok(f"runs/{seeded.run_id}")
    assert run["input_datasets"] == [
        {
            "name": "training",
            "dataset": {
                "name": "iris",
                "version": 1,
                "id": seeded.iris_v1.id,
                "digest": seeded.iris_v1.digest,
            },
            "mode": "direct",
        }
    ]
    assert run["input_datasets"] == [
        {**i, "dataset": dict(i["dataset"])} for i in seeded.ws.get_run(seeded.run_id).get_details()["inputDatasets"]
    ]
    assert (await api.ok(f"runs/{seeded.plain_run_id}"))["input_datasets"] == []


async def test_without_a_workspace(api: Api, jp_root_dir: Path) -> None:
    assert await api.ok("datasets") == {"items": [], "next_page_token": None}
    for path in ("datasets/iris", "datasets/iris/versions/1", "datasets/iris/versions/latest/preview"):
        expect_error(await api.get(path), 404, "NotFoundError", "workspace")
    # Bad input is still a 400, before the missing workspace.
    expect_error(await api.get("datasets/iris/versions/x"), 400, "InvalidArgumentError", "version")
    assert not (Path(jp_root_dir) / ".mlws").exists()
