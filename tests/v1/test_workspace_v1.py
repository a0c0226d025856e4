"""Workspace the Azure ML v1 way (issue 14, item 2): v1 code with only its imports changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jupyter_mlws import ComputeTarget, Environment, Experiment, Model, Workspace
from jupyter_mlws.errors import AlreadyExistsError, InvalidArgumentError, NotFoundError, ProjectSystemException

CLOUD_CONFIG = {
    "subscription_id": "6560575d-fa06-4e7d-95fb-f962e74efd7a",
    "resource_group": "azureml-rg",
    "workspace_name": "cloud-ws",
}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """A project folder holding a workspace named "team", the working directory in a subfolder."""
    ws = Workspace.create(tmp_path / "proj", name="team")
    work = ws.root / "notebooks" / "deep"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    return ws


def test_v1_constructor_keywords_and_positional_resolve_to_the_nearest_workspace(project: Workspace) -> None:
    ws = Workspace(subscription_id=CLOUD_CONFIG["subscription_id"], resource_group="azureml-rg", workspace_name="team")
    assert ws == project and ws.name == "team"
    assert Workspace(CLOUD_CONFIG["subscription_id"], "azureml-rg", "team") == project  # v1's positional order
    assert Workspace(workspace_name="team", auth=object(), sku="basic") == project  # v1's other keywords
    # Today's meaning of the first argument is kept: a folder, strictly (no search upward).
    assert Workspace(project.root) == project
    assert Workspace(str(project.root), "rg", "team") == project
    with pytest.raises(NotFoundError, match="no workspace at"):
        Workspace(Path.cwd())


def test_a_workspace_name_that_is_not_this_one_names_both_and_the_fix(project: Workspace) -> None:
    with pytest.raises(NotFoundError) as info:
        Workspace(subscription_id="sub", resource_group="rg", workspace_name="cloud-ws")
    message = str(info.value)
    assert "'cloud-ws'" in message and "'team'" in message
    assert "workspace_name='team'" in message and "Workspace.create" in message
    with pytest.raises(NotFoundError, match="'cloud-ws'"):
        Workspace.get("cloud-ws", subscription_id="sub", resource_group="rg")
    with pytest.raises(NotFoundError, match="'cloud-ws'"):
        Workspace(project.root, workspace_name="cloud-ws")


def test_get_returns_the_local_workspace_of_that_name(project: Workspace) -> None:
    assert Workspace.get("team") == project
    assert Workspace.get(name="team", subscription_id="sub", resource_group="rg", location="eastus") == project
    with pytest.raises(InvalidArgumentError, match="name"):
        Workspace.get("")


def test_v1_keywords_follow_mlws_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = Workspace.create(tmp_path / "other", name="other")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLWS_WORKSPACE", str(other.root))
    assert Workspace(subscription_id="s", resource_group="r", workspace_name="other") == other


def test_v1_keywords_with_no_workspace_anywhere_say_how_to_make_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(NotFoundError, match="mlws init"):
        Workspace(subscription_id="s", resource_group="r", workspace_name="x")


def test_attributes_and_details_have_honest_local_values(project: Workspace) -> None:
    ws = Workspace.from_config()
    assert (ws.name, ws.location, ws.subscription_id, ws.resource_group) == ("team", "local", "local", "local")
    details = ws.get_details()
    assert details["id"] == (
        "/subscriptions/local/resourceGroups/local/providers/Microsoft.MachineLearningServices/workspaces/team"
    )
    assert details["name"] == details["friendlyName"] == "team"
    assert details["location"] == "local"
    assert details["type"] == "Microsoft.MachineLearningServices/workspaces"
    assert details["storageAccount"] == ws.artifact_url
    assert details["creationTime"].endswith("Z") or "+00:00" in details["creationTime"]
    assert details["workspaceid"] == Workspace(project.root).get_details()["workspaceid"]  # stable per folder
    assert details["workspaceid"] != Workspace.create(project.root / "x").get_details()["workspaceid"]
    assert details["keyVault"] is None and details["containerRegistry"] is None
    # The project's own keys are still there (the CLI and %mlws show them).
    assert details["root"] == str(project.root) and details["metadata_url"].startswith("sqlite:///")


def test_write_config_then_from_config_round_trip_in_a_subfolder(project: Workspace, tmp_path: Path) -> None:
    sub = project.root / "analysis"
    project.write_config(path=sub, file_name="team.json")
    written = sub / ".azureml" / "team.json"
    config = json.loads(written.read_text())
    assert config == {
        "subscription_id": "local",
        "resource_group": "local",
        "workspace_name": "team",
        "mlws_workspace": "../..",  # inside the project: relative, so the project can move whole
    }
    below = sub / "a" / "b"
    below.mkdir(parents=True)
    assert Workspace.from_config(path=below, _file_name="team.json") == project
    assert Workspace.from_config(written) == project  # v1's path may name the file itself
    # Only files of that name count when _file_name is given.
    with pytest.raises(NotFoundError, match="no workspace found"):
        Workspace.from_config(tmp_path, _file_name="team.json")

    # Written outside the workspace's folder, the pointer is absolute; the default place is
    # <cwd>/.azureml/config.json, as in v1, and from_config() finds it from the working directory.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    project.write_config(elsewhere)
    outside = json.loads((elsewhere / ".azureml" / "config.json").read_text())
    assert outside["mlws_workspace"] == str(project.root)
    assert Workspace.from_config(elsewhere) == project


def test_write_config_default_place_is_the_working_directory(project: Workspace) -> None:
    project.write_config()
    assert json.loads((Path.cwd() / ".azureml" / "config.json").read_text())["workspace_name"] == "team"
    assert Workspace.from_config() == project
    with pytest.raises(InvalidArgumentError, match="file name"):
        project.write_config(file_name="sub/config.json")


def test_a_rewritten_v1_project_folder_works_and_moves_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A v1 project: its notebooks read .azureml/config.json of a cloud workspace.
    old = tmp_path / "v1project"
    (old / ".azureml").mkdir(parents=True)
    (old / ".azureml" / "config.json").write_text(json.dumps(CLOUD_CONFIG))
    (old / "notebooks").mkdir()
    monkeypatch.chdir(old / "notebooks")
    with pytest.raises(NotFoundError) as info:  # no local workspace at all
        Workspace.from_config()
    message = str(info.value)
    assert "'cloud-ws'" in message and "write_config" in message and "Workspace.create" in message

    # The repository above it gets a workspace (named "repo"): still not the workspace the file names.
    repo = tmp_path / "repo"
    repo.mkdir()
    old = old.rename(repo / "v1project")
    monkeypatch.chdir(old / "notebooks")
    ws = Workspace.create(repo)
    with pytest.raises(NotFoundError, match=r"'cloud-ws'.*'repo'.*write_config"):
        Workspace.from_config()
    ws.write_config(old)  # the fix the message gives
    assert Workspace.from_config() == ws
    assert json.loads((old / ".azureml" / "config.json").read_text())["mlws_workspace"] == "../.."

    moved = tmp_path / "moved"
    repo.rename(moved)
    monkeypatch.chdir(moved / "v1project" / "notebooks")
    assert Workspace.from_config().root == moved


def test_a_cloud_config_next_to_a_workspace_of_its_name_opens_it(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    (folder / ".azureml").mkdir(parents=True)
    (folder / ".azureml" / "config.json").write_text(json.dumps(CLOUD_CONFIG))
    ws = Workspace.create(folder, name="cloud-ws")
    assert Workspace.from_config(folder / ".azureml") == ws


def test_unusable_v1_configs_are_clear_errors(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    (folder / ".azureml").mkdir(parents=True)
    config = folder / ".azureml" / "config.json"
    config.write_text(json.dumps({**CLOUD_CONFIG, "mlws_workspace": str(tmp_path / "gone")}))
    with pytest.raises(NotFoundError, match=r"points at .*gone.*Workspace\.create"):
        Workspace.from_config(folder)
    config.write_text("{not json")
    with pytest.raises(ProjectSystemException, match=r"cannot be read.*write_config"):
        Workspace.from_config(folder)
    ws = Workspace.create(tmp_path / "real", name="real")
    config.write_text(json.dumps({"workspace_name": "renamed", "mlws_workspace": str(ws.root)}))
    with pytest.raises(ProjectSystemException, match=r"'renamed'.*'real'.*write_config"):
        Workspace.from_config(folder)


def test_a_config_json_of_something_else_is_not_taken_for_v1s(ws: Workspace) -> None:
    inner = ws.root / "app"
    inner.mkdir()
    (inner / "config.json").write_text(json.dumps({"port": 8080}))  # a common file name in projects
    assert Workspace.from_config(inner) == ws


def test_dict_properties(ws: Workspace, tmp_path: Path) -> None:
    Experiment(ws, "b")
    Experiment(ws, "a")
    assert sorted(ws.experiments) == ["a", "b"]
    assert isinstance(ws.experiments["a"], Experiment) and ws.experiments["a"].name == "a"

    targets = ws.compute_targets
    assert "local" in targets and isinstance(targets["local"], ComputeTarget)
    assert sorted(targets) == sorted(t.name for t in ComputeTarget.list(ws))

    env = Environment("train-env")
    env.python.pip_packages = ["numpy"]
    env.register(ws)
    env.python.pip_packages = ["numpy", "pandas"]
    env.register(ws)
    # As in v1, the curated environments are listed next to the workspace's own.
    assert [name for name in ws.environments if not name.startswith("AzureML-")] == ["train-env"]
    assert "AzureML-Minimal" in ws.environments
    assert ws.environments["train-env"].version == 2
    assert ws.environments["train-env"].python.pip_packages == ["numpy", "pandas"]

    model_file = tmp_path / "model.pkl"
    model_file.write_bytes(b"1")
    Model.register(ws, model_file, "digits")
    Model.register(ws, model_file, "digits")
    assert isinstance(ws.models["digits"], Model) and ws.models["digits"].version == 2


def test_pythonic_forms_are_unchanged(project: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    # Workspace() still opens the working directory itself, strictly; from_config takes the
    # workspace's own .mlws/config.json as a path too.
    with pytest.raises(NotFoundError, match="no workspace at"):
        Workspace()
    monkeypatch.chdir(project.root)
    assert Workspace() == project
    assert Workspace.from_config(project.path / "config.json") == project


def test_create_the_v1_way_makes_the_workspace_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    ws = Workspace.create(
        "myworkspace",
        subscription_id=CLOUD_CONFIG["subscription_id"],
        resource_group="myresourcegroup",
        create_resource_group=True,
        location="eastus2",
        sku="basic",
        tags={"team": "ml"},
        show_output=False,
    )
    assert (ws.name, ws.root, ws.location, ws.resource_group) == ("myworkspace", project.resolve(), "local", "local")
    ws.write_config()  # v1's next line
    assert Workspace.from_config() == ws == Workspace.get("myworkspace", subscription_id="sub")
    # v1's exist_ok defaults to False; exist_ok=True opens it, another name is refused.
    with pytest.raises(AlreadyExistsError, match="exists already"):
        Workspace.create("myworkspace", subscription_id="sub", resource_group="rg")
    assert Workspace.create("myworkspace", subscription_id="sub", resource_group="rg", exist_ok=True) == ws
    with pytest.raises(AlreadyExistsError, match="another name"):
        Workspace.create("other", subscription_id="sub", exist_ok=True)
    # name= as a keyword, as v1 code often spells it, and a first argument naming a folder keeps its meaning.
    (tmp_path / "second").mkdir()
    monkeypatch.chdir(tmp_path / "second")
    assert Workspace.create(name="second-ws", location="westeurope").root == (tmp_path / "second").resolve()
    third = Workspace.create(str(tmp_path / "third-folder"), name="third", location="eastus")
    assert (third.name, third.root) == ("third", (tmp_path / "third-folder").resolve())


def test_create_the_v1_way_finds_the_workspace_of_that_name_from_a_subfolder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """v1's get-or-create, `Workspace.create(name=..., exist_ok=True)`, run in a notebook folder below the
    project: the workspace of that name found from there is the one that exists (no second, empty one)."""
    project = tmp_path / "project"
    (project / "notebooks").mkdir(parents=True)
    ws = Workspace.create(project, name="myws")
    Experiment(ws, "kept").start_logging().complete()
    monkeypatch.chdir(project / "notebooks")
    again = Workspace.create(name="myws", subscription_id="sub", resource_group="rg", exist_ok=True)
    assert again == ws and Workspace.from_config() == ws and "kept" in Workspace.from_config().experiments
    with pytest.raises(AlreadyExistsError, match=f"exists already at {project.resolve()}"):
        Workspace.create("myws", subscription_id="sub")  # v1's exist_ok=False
    assert not (project / "notebooks" / ".mlws").exists()
    # Another name is another workspace, made here.
    other = Workspace.create("other-ws", subscription_id="sub", location="eastus")
    assert (other.name, other.root) == ("other-ws", (project / "notebooks").resolve())


def test_create_refuses_what_names_azure_resources_and_unknown_arguments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InvalidArgumentError, match=r"storage_account=.*artifact_url="):
        Workspace.create("ws", subscription_id="sub", storage_account="/subscriptions/x/storageAccounts/y")
    with pytest.raises(InvalidArgumentError, match=r"unknown argument 'colour'.*subscription_id"):
        Workspace.create("ws", subscription_id="sub", colour="blue")
    assert not (tmp_path / ".mlws").exists()  # nothing half-made
    assert Workspace.create("ws", subscription_id="sub", key_vault=None).name == "ws"  # None asks for nothing


def test_the_pythonic_create_is_unchanged(tmp_path: Path) -> None:
    ws = Workspace.create(tmp_path / "a", name="a")
    assert Workspace.create(tmp_path / "a") == ws  # exist_ok defaults to True (DESIGN §2)
    with pytest.raises(AlreadyExistsError):
        Workspace.create(tmp_path / "a", exist_ok=False)
    assert Workspace.create(str(tmp_path / "b")).name == "b"  # a path string: a folder, made if missing


def test_list_is_the_workspace_found_from_here(
    project: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert Workspace.list(CLOUD_CONFIG["subscription_id"], resource_group="rg") == {"team": [project]}
    monkeypatch.chdir(tmp_path)
    assert Workspace.list() == {}
