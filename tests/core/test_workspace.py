from __future__ import annotations

import json
from pathlib import Path

import pytest

from jupyter_mlws import Experiment, Workspace
from jupyter_mlws.errors import AlreadyExistsError, InvalidArgumentError, NotFoundError


def test_create_makes_the_layout(tmp_path: Path) -> None:
    ws = Workspace.create(tmp_path / "proj", name="team")
    assert (tmp_path / "proj" / ".mlws" / "config.json").is_file()
    assert (tmp_path / "proj" / ".mlws" / "mlws.db").is_file()
    assert (tmp_path / "proj" / ".mlws" / "artifacts").is_dir()
    config = json.loads((tmp_path / "proj" / ".mlws" / "config.json").read_text())
    assert config["name"] == "team"
    assert (ws.name, ws.root, ws.path) == ("team", tmp_path / "proj", tmp_path / "proj" / ".mlws")


def test_create_is_idempotent_unless_told_otherwise(tmp_path: Path) -> None:
    ws = Workspace.create(tmp_path)
    Experiment(ws, "kept")
    again = Workspace.create(tmp_path)
    assert again == ws and "kept" in again.experiments
    with pytest.raises(AlreadyExistsError, match="exist_ok"):
        Workspace.create(tmp_path, exist_ok=False)
    with pytest.raises(AlreadyExistsError, match="name"):
        Workspace.create(tmp_path, name="different")


def test_from_config_finds_the_nearest_workspace_upward(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = Workspace.create(tmp_path)
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert Workspace.from_config(deep) == ws
    monkeypatch.chdir(deep)
    assert Workspace.from_config() == ws
    inner = Workspace.create(tmp_path / "a")
    assert Workspace.from_config(deep) == inner


def test_env_var_overrides_and_accepts_the_mlws_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    one = Workspace.create(tmp_path / "one")
    two = Workspace.create(tmp_path / "two")
    monkeypatch.setenv("MLWS_WORKSPACE", str(two.root))
    assert Workspace.from_config(one.root) == two
    monkeypatch.setenv("MLWS_WORKSPACE", str(two.path))
    assert Workspace.from_config() == two
    assert Workspace(two.path) == two


def test_missing_workspace_error_says_how_to_fix(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="mlws init"):
        Workspace.from_config(tmp_path)
    with pytest.raises(NotFoundError, match=r"Workspace\.create"):
        Workspace(tmp_path)


def test_bad_urls_leave_no_half_made_workspace(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError):
        Workspace.create(tmp_path, metadata_url="mysql://u@localhost/db")
    assert not (tmp_path / ".mlws" / "config.json").exists()


@pytest.mark.postgres
def test_workspace_on_postgres(tmp_path: Path, postgres_url: str) -> None:
    ws = Workspace.create(tmp_path, metadata_url=postgres_url)
    with Experiment(ws, "pg").start_logging() as run:
        run.log("acc", 0.75)
    reopened = Workspace.from_config(tmp_path)
    assert reopened.metadata_url == postgres_url
    assert reopened.get_run(run.id).get_metrics() == {"acc": 0.75}
    assert "postgresql" in reopened.get_details()["metadata_url"]


def test_experiments_and_models_maps(ws: Workspace, tmp_path: Path) -> None:
    Experiment(ws, "b")
    Experiment(ws, "a")
    assert list(ws.experiments) == ["a", "b"]
    assert [e.name for e in Experiment.list(ws)] == ["a", "b"]
    f = tmp_path / "w.bin"
    f.write_bytes(b"1")
    from jupyter_mlws import Model

    Model.register(ws, f, "m")
    Model.register(ws, f, "m")
    assert ws.models["m"].version == 2
