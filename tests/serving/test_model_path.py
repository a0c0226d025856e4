"""``Model.get_model_path`` inside a service (v1's resolution from ``AZUREML_MODEL_DIR``) and outside."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_mlws import Model, ModelNotFoundException


def test_one_model_resolves_to_its_file_or_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "models" / "iris" / "3"
    folder.mkdir(parents=True)
    (folder / "model.pkl").write_bytes(b"x")
    monkeypatch.setenv("AZUREML_MODEL_DIR", str(folder))
    monkeypatch.setenv("MLWS_MODELS", "iris:3")
    assert Model.get_model_path("iris") == str(folder / "model.pkl")
    assert Model.get_model_path("iris", version=3) == str(folder / "model.pkl")
    (folder / "extra.txt").write_text("y")
    assert Model.get_model_path("iris") == str(folder)  # several files: the folder
    with pytest.raises(ModelNotFoundException, match="iris:4 is not in this service's models \\(iris:3\\)"):
        Model.get_model_path("iris", version=4)
    with pytest.raises(ModelNotFoundException, match="model other"):
        Model.get_model_path("other")


def test_several_models_resolve_below_name_and_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "models"
    for name, version in (("a", 1), ("a", 2), ("b", 7)):
        (root / name / str(version)).mkdir(parents=True)
        (root / name / str(version) / "w.json").write_text("{}")
    monkeypatch.setenv("MLWS_MODEL_DIR", str(root))
    monkeypatch.setenv("MLWS_MODELS", "a:1,a:2,b:7")
    assert Model.get_model_path("a") == str(root / "a" / "2" / "w.json")  # the newest deployed version
    assert Model.get_model_path("a", 1) == str(root / "a" / "1" / "w.json")
    assert Model.get_model_path("b") == str(root / "b" / "7" / "w.json")


def test_outside_a_service_the_local_azureml_models_folder_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLWS_MODEL_DIR", raising=False)
    monkeypatch.delenv("AZUREML_MODEL_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelNotFoundException, match=r"\./azureml-models"):
        Model.get_model_path("iris")
    (tmp_path / "azureml-models" / "iris" / "2").mkdir(parents=True)
    (tmp_path / "azureml-models" / "iris" / "2" / "m.pkl").write_bytes(b"x")
    assert Model.get_model_path("iris") == str(Path("azureml-models") / "iris" / "2" / "m.pkl")
