"""Environments: definitions, content-hash versions, the registry."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest

from jupyter_mlws import Environment, Experiment, Workspace
from jupyter_mlws.errors import InvalidArgumentError, NotFoundError


def test_from_pip_requirements_keeps_packages_and_drops_comments(tmp_path: Path) -> None:
    req = tmp_path / "requirements.txt"
    req.write_text(
        "# training\nnumpy==2.1.0\n\nscikit-learn>=1.5  # the model\n"
        "mypkg @ https://example.invalid/mypkg-1.0-py3-none-any.whl\ngit+https://example.invalid/repo.git\n"
    )
    env = Environment.from_pip_requirements("train", req)
    assert env.python.pip_packages == [
        "numpy==2.1.0",
        "scikit-learn>=1.5",
        "mypkg @ https://example.invalid/mypkg-1.0-py3-none-any.whl",
        "git+https://example.invalid/repo.git",
    ]
    assert env.docker.base_image is None and env.version is None  # None: the Docker target's base image
    with pytest.raises(NotFoundError, match="requirements file"):
        Environment.from_pip_requirements("x", tmp_path / "missing.txt")


def test_from_current_kernel_pins_what_is_installed() -> None:
    env = Environment.from_current_kernel("kernel")
    pins = {p.split("==", 1)[0].lower(): p.split("==", 1)[1] for p in env.python.pip_packages}
    assert pins["sqlalchemy"] == importlib.metadata.version("sqlalchemy")
    # Not pinned: jupyter-mlws itself (linked into every environment) and what is installed from a folder.
    assert "jupyter-mlws" not in pins
    names = [p.split("==", 1)[0].lower() for p in env.python.pip_packages]
    assert names == sorted(names) and len(names) == len(set(names))


def test_register_versions_by_content(ws: Workspace) -> None:
    env = Environment("train")
    env.python.pip_packages = ["numpy==2.1.0"]
    env.environment_variables = {"OMP_NUM_THREADS": "1"}
    first = env.register(ws)
    assert first.version == 1
    assert env.register(ws).version == 1  # same definition, same version
    env.python.pip_packages.append("pandas")
    second = env.register(ws)
    assert second.version == 2
    env.python.pip_packages.pop()
    assert env.register(ws).version == 1  # back to the first definition
    env.docker.base_image = "my-registry/python:3.11"
    assert env.register(ws).version == 3
    other = Environment("other").register(ws)
    assert other.version == 1
    fetched = Environment.get(ws, "train", 2)
    assert fetched.python.pip_packages == ["numpy==2.1.0", "pandas"]
    assert fetched.environment_variables == {"OMP_NUM_THREADS": "1"}
    assert Environment.get(ws, "train").version == 3 and Environment.get(ws, "train", "1").version == 1
    listed = Environment.list(ws)
    # The curated environments (AzureML-*, issue 14) are listed beside the registered ones.
    registered = sorted(name for name in listed if not name.startswith("AzureML-"))
    assert registered == ["other", "train"] and listed["train"].version == 3


def test_bad_environments_are_clear_errors(ws: Workspace) -> None:
    with pytest.raises(InvalidArgumentError, match="environment name"):
        Environment("bad name!")
    env = Environment("e")
    env.environment_variables = {"X": 1}  # type: ignore[dict-item]
    with pytest.raises(InvalidArgumentError, match="environment_variables"):
        env.register(ws)
    with pytest.raises(NotFoundError, match="not registered"):
        Environment.get(ws, "missing")
    Environment("e").register(ws)
    with pytest.raises(NotFoundError, match="no version 7"):
        Environment.get(ws, "e", 7)
    with pytest.raises(InvalidArgumentError, match="number"):
        Environment.get(ws, "e", "latest-ish")


def test_interactive_runs_and_plain_jobs_have_no_environment(ws: Workspace) -> None:
    run = Experiment(ws, "e").start_logging()
    assert run.get_environment() is None


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("--index-url https://example.invalid/simple", "pip options (--index-url)"),
        ("-r other.txt", "pip options (-r)"),
        ("numpy===", "not a valid requirement"),
        ("scikit learn", "not a valid requirement"),
    ],
)
def test_broken_requirements_files_are_refused_naming_the_line(tmp_path: Path, line: str, words: str) -> None:
    req = tmp_path / "requirements.txt"
    req.write_text(f"numpy==2.1.0\n# ok so far\n{line}\n")
    with pytest.raises(InvalidArgumentError) as caught:
        Environment.from_pip_requirements("train", req)
    assert f"{req}, line 3" in str(caught.value) and words in str(caught.value)
