"""v1's other Environment constructors and files: from_docker_image, save_to_directory / load_from_directory,
build_local, and from_dockerfile refused with the way to do it here."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from jupyter_mlws import CondaDependencies, Environment, Workspace
from jupyter_mlws.errors import AlreadyExistsError, InvalidArgumentError, NotFoundError


def test_from_docker_image_sets_the_base_image_and_packages(tmp_path: Path) -> None:
    req = tmp_path / "requirements.txt"
    req.write_text("six==1.16.0\n# a comment\n")
    env = Environment.from_docker_image("img", "team/python:3.12", pip_requirements=req)
    assert env.docker.base_image == "team/python:3.12" and env.docker.enabled
    assert env.python.pip_packages == ["six==1.16.0"]
    registry = SimpleNamespace(address="registry.example.com", username="u", password="registry-secret-42")
    env = Environment.from_docker_image("img", "python:3.11-slim", container_registry=registry)
    assert env.docker.base_image == "registry.example.com/python:3.11-slim"
    assert "registry-secret-42" not in json.dumps(env.definition())  # the registry's password is never kept
    conda = tmp_path / "env.yml"
    conda.write_text("name: x\ndependencies:\n  - python=3.11\n  - pip:\n    - six==1.16.0\n")
    env = Environment.from_docker_image("img", "python:3.11-slim", conda_specification=conda)
    assert env.definition()["python"]["conda_dependencies"]
    with pytest.raises(InvalidArgumentError, match="image name"):
        Environment.from_docker_image("img", "  ")
    with pytest.raises(InvalidArgumentError, match="not both"):
        Environment.from_docker_image("img", "python:3.11", conda_specification=conda, pip_requirements=req)


def test_save_to_directory_and_load_from_directory_round_trip(tmp_path: Path) -> None:
    env = Environment("saved")
    env.python.conda_dependencies = CondaDependencies.create(pip_packages=["six==1.16.0"], python_version="3.11")
    env.python.pip_packages = ["tomli==2.0.1"]
    env.environment_variables = {"MODE": "train"}
    env.docker.base_image = "python:3.12-slim"
    env.save_to_directory(tmp_path / "env")
    assert sorted(p.name for p in (tmp_path / "env").iterdir()) == [
        "azureml_environment.json",
        "conda_dependencies.yml",
    ]
    back = Environment.load_from_directory(tmp_path / "env")
    assert back.name == "saved" and back.definition() == env.definition()
    assert back.content_hash == env.content_hash
    with pytest.raises(AlreadyExistsError, match="overwrite=True"):
        env.save_to_directory(tmp_path / "env")
    env.environment_variables = {"MODE": "serve"}
    env.save_to_directory(tmp_path / "env", overwrite=True)
    assert Environment.load_from_directory(tmp_path / "env").environment_variables == {"MODE": "serve"}


def test_loading_a_folder_without_an_environment_says_so(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="no saved environment"):
        Environment.load_from_directory(tmp_path)
    (tmp_path / "azureml_environment.json").write_text("{not json")
    with pytest.raises(InvalidArgumentError, match="not valid JSON"):
        Environment.load_from_directory(tmp_path)
    (tmp_path / "azureml_environment.json").write_text("[]")
    with pytest.raises(InvalidArgumentError, match="needs a 'name'"):
        Environment.load_from_directory(tmp_path)


def test_from_dockerfile_is_refused_naming_the_local_way() -> None:
    with pytest.raises(InvalidArgumentError, match=r"docker build -t NAME \.` .*from_docker_image"):
        Environment.from_dockerfile("df", "FROM python:3.11\n")


def test_build_local_builds_for_the_local_target(ws: Workspace) -> None:
    env = Environment("local-build")
    env.python.user_managed_dependencies = True  # the submitting interpreter: nothing to install
    result = env.build_local(ws)
    assert (result.key, result.location) == ("user-managed", sys.executable)
    docker_only = Environment.from_docker_image("on-docker", "python:3.12-slim")
    docker_only.python.user_managed_dependencies = True
    assert docker_only.build_local(ws).location == sys.executable  # a local build ignores the image
