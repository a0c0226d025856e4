"""The model registry through the public Model API."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_mlws import Experiment, Model, Workspace
from jupyter_mlws.errors import AlreadyExistsError, InvalidArgumentError, InvalidStateError, NotFoundError


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    d = tmp_path / "model"
    (d / "sub").mkdir(parents=True)
    (d / "weights.bin").write_bytes(b"w" * 1000)
    (d / "sub" / "config.json").write_text("{}")
    return d


def test_register_file_and_folder(ws: Workspace, model_dir: Path, tmp_path: Path) -> None:
    single = Model.register(ws, model_dir / "weights.bin", "single", tags={"a": 1}, properties={"fw": "x"},
                            description="one file")  # fmt: skip
    assert (single.id, single.version, single.description) == ("single:1", 1, "one file")
    assert single.get_file_names() == ["weights.bin"]
    folder = Model.register(ws, model_dir, "folder")
    assert folder.get_file_names() == ["model/sub/config.json", "model/weights.bin"]
    target = tmp_path / "dl"
    path = folder.download(target)
    assert Path(path) == target / "model" and (target / "model" / "sub" / "config.json").read_text() == "{}"
    with pytest.raises(AlreadyExistsError, match="exist_ok"):
        folder.download(target)
    folder.download(target, exist_ok=True)
    assert Path(single.download(target)).read_bytes() == b"w" * 1000
    assert single.created_time.tzinfo is not None


def test_versions_aliases_and_lookup(ws: Workspace, model_dir: Path) -> None:
    v1 = Model.register(ws, model_dir, "m")
    v2 = Model.register(ws, model_dir, "m")
    assert Model(ws, "m") == v2 and Model(ws, "m", version=1) == v1 and Model(ws, id="m:1") == v1
    v1.set_alias("production")
    assert Model(ws, "m", alias="production") == v1 and v1.aliases == ["production"]
    v2.set_alias("production")
    assert Model(ws, "m", alias="production").version == 2
    assert Model(ws, "m", 1).aliases == []
    with pytest.raises(InvalidArgumentError, match="version number"):
        v1.set_alias("3")
    with pytest.raises(InvalidArgumentError, match="not both"):
        Model(ws, "m", version=1, alias="production")
    with pytest.raises(InvalidArgumentError, match="name:version"):
        Model(ws, id="m-1")
    with pytest.raises(NotFoundError, match="versions are: 1, 2"):
        Model(ws, "m", version=5)
    with pytest.raises(InvalidArgumentError):
        Model(ws, "m", version=0)


def test_versions_are_never_reused_after_delete(ws: Workspace, model_dir: Path) -> None:
    for _ in range(3):
        Model.register(ws, model_dir, "m")
    Model(ws, "m", 3).delete()
    Model(ws, "m", 2).delete()
    assert Model.register(ws, model_dir, "m").version == 4
    assert [m.version for m in Model.list(ws, name="m")] == [4, 1]


def test_tags_and_properties(ws: Workspace, model_dir: Path) -> None:
    m = Model.register(ws, model_dir, "m", properties={"acc": 0.9})
    m.add_tags({"stage": "dev", "x": 1})
    m.remove_tags(["x"])
    assert m.tags == {"stage": "dev"} and Model(ws, "m").tags == {"stage": "dev"}
    m.add_properties({"more": "y"})
    with pytest.raises(InvalidStateError, match="immutable"):
        m.add_properties({"acc": "0.1"})
    assert m.properties == {"acc": "0.9", "more": "y"}


def test_list_filters(ws: Workspace, model_dir: Path) -> None:
    Model.register(ws, model_dir, "a", tags={"team": "x"})
    Model.register(ws, model_dir, "a", tags={"team": "y"})
    Model.register(ws, model_dir, "b", tags={"team": "x"}, properties={"fw": "torch"})
    assert [m.id for m in Model.list(ws)] == ["a:2", "a:1", "b:1"]
    assert [m.id for m in Model.list(ws, latest=True)] == ["a:2", "b:1"]
    assert [m.id for m in Model.list(ws, tags={"team": "x"})] == ["a:1", "b:1"]
    assert [m.id for m in Model.list(ws, tags=["team"])] == ["a:2", "a:1", "b:1"]
    assert [m.id for m in Model.list(ws, tags=[["team", "y"]])] == ["a:2"]
    assert [m.id for m in Model.list(ws, properties={"fw": "torch"})] == ["b:1"]
    assert [m.id for m in Model.list(ws, name="b")] == ["b:1"]
    with pytest.raises(InvalidArgumentError):
        Model.list(ws, tags=[1])


def test_registration_from_run_reuses_blobs(ws: Workspace, tmp_path: Path) -> None:
    run = Experiment(ws, "e").start_logging()
    out = tmp_path / "outputs"
    (out / "net").mkdir(parents=True)
    (out / "net" / "w.bin").write_bytes(b"1" * 5000)
    (out / "net" / "meta.txt").write_text("m")
    run.upload_folder("outputs", out)
    blobs_before = set(ws.artifacts.iter_digests())
    m = run.register_model("net", "outputs/net")
    assert m.get_file_names() == ["net/meta.txt", "net/w.bin"]
    assert set(ws.artifacts.iter_digests()) == blobs_before  # no bytes copied
    assert Model.list(ws, run_id=run.id) == [m]
    with pytest.raises(NotFoundError, match="its files"):
        run.register_model("bad", "outputs/missing")
    with pytest.raises(InvalidArgumentError):
        run.register_model("bad", "../outputs")


def test_bad_inputs(ws: Workspace, model_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError, match="model name"):
        Model.register(ws, model_dir, "bad name")
    with pytest.raises(NotFoundError, match="no model file"):
        Model.register(ws, tmp_path / "missing", "m")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InvalidArgumentError, match="holds no files"):
        Model.register(ws, empty, "m")
    with pytest.raises(NotFoundError, match="not registered"):
        Model(ws, "never")
    assert Model.list(ws) == []  # nothing half-registered


def test_registered_files_are_immutable_blobs(ws: Workspace, model_dir: Path, tmp_path: Path) -> None:
    m = Model.register(ws, model_dir / "weights.bin", "m")
    (model_dir / "weights.bin").write_bytes(b"changed")  # the source changes after registration
    assert Path(m.download(tmp_path / "d")).read_bytes() == b"w" * 1000


def test_a_failure_mid_registration_leaves_no_version(
    ws: Workspace, model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jupyter_mlws.stores.metadata.sql.base import SqlStoreBase

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("power cut")

    # The version row and its files are written; then the transaction dies before tags land.
    monkeypatch.setattr(SqlStoreBase, "insert_new_values", crash)
    with pytest.raises(RuntimeError, match="power cut"):
        Model.register(ws, model_dir, "m", tags={"a": "b"})
    monkeypatch.undo()
    assert Model.list(ws) == []
    with pytest.raises(NotFoundError):
        Model(ws, "m")
    assert Model.register(ws, model_dir, "m").get_file_names() == ["model/sub/config.json", "model/weights.bin"]
