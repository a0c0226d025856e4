"""Models and sign-in the Azure ML v1 way (issue 14): v1's register keywords, Model filters, auth classes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jupyter_mlws import (
    AzureCliAuthentication,
    Experiment,
    InteractiveLoginAuthentication,
    Model,
    MsiAuthentication,
    ResourceConfiguration,
    ServicePrincipalAuthentication,
    Workspace,
)
from jupyter_mlws.errors import InvalidArgumentError, NotFoundError


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "sklearn_model"
    (folder / "weights").mkdir(parents=True)
    (folder / "model.pkl").write_bytes(b"pickle")
    (folder / "weights" / "a.bin").write_bytes(b"a")
    (folder / "notes.txt").write_text("scratch")
    return folder


def test_v1_register_keywords_become_properties_attributes_and_datasets(ws: Workspace, model_dir: Path) -> None:
    # The v1 sample: a scikit-learn model with its framework, resources and sample data.
    model = Model.register(
        workspace=ws,
        model_name="sklearn-model",
        model_path=str(model_dir),
        model_framework=Model.Framework.SCIKITLEARN,
        model_framework_version="1.4.2",
        sample_input_dataset="inputs-ds:1",
        sample_output_dataset="outputs-ds:1",
        resource_configuration=ResourceConfiguration(cpu=1, memory_in_gb=0.5),
        description="Ridge regression model to predict diabetes progression.",
        tags={"area": "diabetes", "type": "regression"},
        child_paths=["model.pkl", "./weights/"],
    )
    again = Model(ws, "sklearn-model")
    assert again.model_framework == "ScikitLearn" and again.model_framework_version == "1.4.2"
    assert again.resource_configuration == ResourceConfiguration(cpu=1, memory_in_gb=0.5)
    assert json.loads(again.properties["resource_configuration"]) == {"cpu": 1, "memory_in_gb": 0.5, "gpu": None}
    assert (again.sample_input_dataset, again.sample_output_dataset) == ("inputs-ds:1", "outputs-ds:1")
    assert sorted(again.get_file_names()) == ["sklearn_model/model.pkl", "sklearn_model/weights/a.bin"]
    assert model.description.startswith("Ridge")
    # v1's filters: by framework, by dataset
    assert [m.id for m in Model.list(ws, model_framework=Model.Framework.SCIKITLEARN)] == ["sklearn-model:1"]
    assert Model.list(ws, model_framework=Model.Framework.ONNX) == []
    assert [m.id for m in Model.list(ws, dataset_id="inputs-ds:1")] == ["sklearn-model:1"]


def test_model_constructor_filters_pick_the_newest_matching_version(ws: Workspace, model_dir: Path) -> None:
    Model.register(ws, model_dir / "model.pkl", "churn", tags={"stage": "dev"}, model_framework="Onnx")
    Model.register(ws, model_dir / "model.pkl", "churn", tags={"stage": "prod"})
    Model.register(ws, model_dir / "model.pkl", "churn", tags={"stage": "dev"})
    assert Model(ws, "churn").version == 3
    assert Model(ws, name="churn", tags=[["stage", "prod"]]).version == 2
    assert Model(ws, name="churn", tags={"stage": "dev"}).version == 3
    assert Model(ws, name="churn", model_framework="Onnx").version == 1
    assert Model(ws, name="churn", version=1, tags={"stage": "dev"}).version == 1
    with pytest.raises(NotFoundError, match="no version of model 'churn' matches"):
        Model(ws, name="churn", version=2, tags={"stage": "dev"})
    with pytest.raises(NotFoundError, match=r"Model\.list"):
        Model(ws, name="churn", tags={"stage": "qa"})


def test_child_paths_and_resources_refuse_bad_input_clearly(ws: Workspace, model_dir: Path) -> None:
    with pytest.raises(NotFoundError, match=r"child paths \['missing.pkl'\] are not in the model folder"):
        Model.register(ws, model_dir, "m", child_paths=["model.pkl", "missing.pkl"])
    with pytest.raises(InvalidArgumentError, match="relative path inside the model folder"):
        Model.register(ws, model_dir, "m", child_paths=["../secrets"])
    with pytest.raises(InvalidArgumentError, match="non-empty list"):
        Model.register(ws, model_dir, "m", child_paths="model.pkl")
    with pytest.raises(InvalidArgumentError, match="is a file"):
        Model.register(ws, model_dir / "model.pkl", "m", child_paths=["model.pkl"])
    with pytest.raises(InvalidArgumentError, match="ResourceConfiguration"):
        Model.register(ws, model_dir, "m", resource_configuration={"cpu": 1})  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="cpu must be a number"):
        ResourceConfiguration(cpu=-1)
    assert Model.list(ws, name="m") == []  # nothing half-registered


def test_run_register_model_takes_v1_keywords_and_child_paths_of_a_run_folder(ws: Workspace, model_dir: Path) -> None:
    with Experiment(ws, "train").start_logging() as run:
        run.upload_folder("outputs/model", str(model_dir))
    model = run.register_model(
        "reg", model_path="outputs/model", model_framework=Model.Framework.PYTORCH, child_paths=["weights"]
    )
    assert model.get_file_names() == ["model/weights/a.bin"] and model.model_framework == "PyTorch"
    with pytest.raises(NotFoundError, match="nope"):
        run.register_model("reg", model_path="outputs/model", child_paths=["nope"])


def test_v1_authentication_objects_are_accepted_and_keep_no_secret(ws: Workspace) -> None:
    sp = ServicePrincipalAuthentication(
        tenant_id="t", service_principal_id="app", service_principal_password="hunter2-very-secret"
    )
    assert "hunter2" not in repr(vars(sp)) and "hunter2" not in repr(sp)
    for auth in (sp, InteractiveLoginAuthentication(tenant_id="t"), AzureCliAuthentication(), MsiAuthentication()):
        assert auth.get_authentication_header() == {}
        assert Workspace.from_config(path=str(ws.root), auth=auth) == ws
