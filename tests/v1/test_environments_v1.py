"""Azure ML v1's run configuration and curated environments (issue 14, items 4 and 5): CondaDependencies
installed with pip, conda-only packages refused before a run exists, the runtime's names never fetched,
RunConfiguration / DockerConfiguration / ScriptRunConfig(run_config=...), AzureML-* curated names."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement

import jupyter_mlws
from jupyter_mlws import (
    DEFAULT_CPU_IMAGE,
    CondaDependencies,
    DockerConfiguration,
    Environment,
    Experiment,
    RunConfiguration,
    RunConfigurationException,
    ScriptRunConfig,
    Workspace,
)
from jupyter_mlws.core.conda import conda_to_pip, pip_requirements
from jupyter_mlws.core.curated import CURATED_ENVIRONMENTS
from jupyter_mlws.core.environment import DEFAULT_BASE_IMAGE, install_requirements
from jupyter_mlws.errors import EnvironmentBuildError, InvalidArgumentError, NotFoundError
from tests.compute.conftest import TIMEOUT, JobKit, _job_processes, kit  # noqa: F401 (fixtures)

CONDA_YAML = """\
name: project_environment
channels:
  - conda-forge
dependencies:
  - python=3.8.13
  - pip
  - scikit-learn=1.0
  - conda-forge::pytorch==1.10.2=py3.8_cpu_0
  - pandas 1.3.*
  - pip:
      - azureml-defaults
      - joblib==1.1.0
"""


def test_create_edit_and_read_back_as_v1() -> None:
    cd = CondaDependencies.create(
        pip_packages=["azureml-defaults", "joblib"], conda_packages=["numpy", "scikit-learn"], python_version="3.8"
    )
    assert list(cd.pip_packages) == ["azureml-defaults", "joblib"]
    assert list(cd.conda_packages) == ["numpy", "scikit-learn"]
    assert cd.get_python_version() == "3.8"
    cd.add_pip_package("joblib==1.1.0")  # the same name: a new version of it, not a second entry
    cd.add_conda_package("py-xgboost")
    cd.remove_pip_package("azureml-defaults")
    cd.remove_conda_package("numpy")
    cd.set_python_version("3.10")
    assert list(cd.pip_packages) == ["joblib==1.1.0"]
    assert list(cd.conda_packages) == ["scikit-learn", "py-xgboost"]
    text = cd.serialize_to_string()
    assert "- python=3.10" in text and "- py-xgboost" in text and "  - joblib==1.1.0" in text
    assert CondaDependencies().is_empty() and list(CondaDependencies().pip_packages) == []
    with pytest.raises(InvalidArgumentError, match="pip_packages must be a list"):
        CondaDependencies.create(pip_packages="numpy")  # type: ignore[arg-type]


def test_a_conda_yaml_loads_saves_and_round_trips(tmp_path: Path) -> None:
    source = tmp_path / "env.yml"
    source.write_text(CONDA_YAML)
    cd = CondaDependencies(source)
    assert cd.get_python_version() == "3.8.13"
    assert list(cd.conda_packages) == [
        "pip",
        "scikit-learn=1.0",
        "conda-forge::pytorch==1.10.2=py3.8_cpu_0",
        "pandas 1.3.*",
    ]
    assert list(cd.pip_packages) == ["azureml-defaults", "joblib==1.1.0"]
    assert list(cd.conda_channels) == ["conda-forge"]
    saved = cd.save(tmp_path / "out" / "conda.yml")
    assert CondaDependencies(saved) == cd
    assert cd.save_to_file(tmp_path, "again.yml") == str(tmp_path / "again.yml")
    with pytest.raises(NotFoundError, match="cannot read the conda specification"):
        CondaDependencies(tmp_path / "missing.yml")
    (tmp_path / "bad.yml").write_text("dependencies: numpy\n")
    with pytest.raises(InvalidArgumentError, match="'dependencies' must be a list"):
        CondaDependencies(tmp_path / "bad.yml")


@pytest.mark.parametrize(
    ("conda", "pip"),
    [
        ("numpy", "numpy"),
        ("scikit-learn=1.0", "scikit-learn==1.0.*"),
        ("scikit-learn=1.0.*", "scikit-learn==1.0.*"),
        ("numpy==1.21.2=py38h20f2e39_0", "numpy==1.21.2"),
        ("numpy>=1.20,<2", "numpy>=1.20,<2"),
        ("pandas 1.3.*", "pandas==1.3.*"),
        ("pandas 1.3.5 py38_0", "pandas==1.3.5"),
        ("pytorch", "torch"),
        ("conda-forge::py-xgboost=1.5", "xgboost==1.5.*"),
        ("python=3.8", None),
        ("pip=21.1", None),
    ],
)
def test_conda_specs_become_pip_requirements(conda: str, pip: str | None) -> None:
    assert conda_to_pip(conda) == pip


def test_conda_only_packages_are_refused_before_a_run_exists(ws: Workspace, tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError, match=r"no conda here: 'cudatoolkit=11\.3'"):
        conda_to_pip("cudatoolkit=11.3")
    env = Environment("gpu")
    env.python.conda_dependencies = CondaDependencies.create(conda_packages=["numpy", "cudatoolkit=11.3", "r-base"])
    with pytest.raises(InvalidArgumentError, match=r"environment 'gpu': no conda here: cudatoolkit=11.3, r-base"):
        env.definition()
    with pytest.raises(InvalidArgumentError, match="no conda here"):
        env.register(ws)
    (tmp_path / "train.py").write_text("print('hi')\n")
    experiment = Experiment(ws, "v1-conda")
    with pytest.raises(InvalidArgumentError, match="no conda here: cudatoolkit"):
        experiment.submit(ScriptRunConfig(source_directory=str(tmp_path), script="train.py", environment=env))
    assert list(experiment.get_runs()) == []  # refused at submit: no run, nothing built
    env.python.conda_dependencies.remove_conda_package("cudatoolkit")
    env.python.conda_dependencies.remove_conda_package("r-base")
    assert env.register(ws).version == 1
    # Index options come from pip's own configuration, as for requirements files.
    options = CondaDependencies.create(pip_packages=["numpy"], pip_indexurl="https://mirror.invalid/simple")
    with pytest.raises(InvalidArgumentError, match=r"pip options .*--index-url"):
        pip_requirements({"conda_dependencies": options._spec()})


def test_the_runtime_names_install_nothing() -> None:
    cd = CondaDependencies.create(
        pip_packages=["azureml-defaults==1.38.0", "azureml-core", "jupyter-mlws", "joblib"], conda_packages=["pytorch"]
    )
    packages, notes = pip_requirements({"pip_packages": ["jupyter_mlws>=0.1", "six"], "conda_dependencies": cd._spec()})
    assert packages == ["six", "torch", "joblib"]
    assert any("the job runtime, from the running jupyter-mlws" in note for note in notes)
    with pytest.raises(InvalidArgumentError, match=r"running jupyter-mlws \(0\.1\.0\)"):
        pip_requirements({"pip_packages": ["jupyter-mlws>=99"]})


def test_a_build_hands_pip_the_mapped_packages_and_never_jupyter_mlws(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The local builder's pip command line: conda packages mapped, the runtime's names gone, the
    notes in the build log. pip itself is not run (the step is stubbed to fail after being seen)."""
    from jupyter_mlws.compute.environments import venv

    monkeypatch.setenv("MLWS_ENV_CACHE", str(tmp_path / "cache"))
    seen: list[list[str]] = []

    def fake_step(argv: list[str], recorder: Any, env: Any = None) -> int:
        seen.append(list(argv))
        if "venv" in argv:  # make what "python -m venv" would
            venv._site_packages(Path(argv[-1])).mkdir(parents=True)
            return 0
        return 1

    monkeypatch.setattr(venv, "run_logged", fake_step)
    env = Environment("mapped")
    env.python.conda_dependencies = CondaDependencies.create(
        conda_packages=["scikit-learn=1.0", "pytorch"], pip_packages=["jupyter-mlws", "azureml-defaults"]
    )
    with pytest.raises(EnvironmentBuildError) as failed:
        env.build()
    pip = seen[-1]
    assert "install" in pip and pip[-2:] == ["scikit-learn==1.0.*", "torch"]
    assert not any(arg.startswith(("jupyter-mlws", "azureml")) for arg in pip)
    assert "not installed by pip" in failed.value.log


def test_conda_dependencies_round_trip_through_the_registry(ws: Workspace, tmp_path: Path) -> None:
    plain = Environment("plain")
    plain.python.pip_packages = ["six"]
    before = plain.content_hash
    assert plain.python.conda_dependencies.is_empty()  # reading gives an empty one to fill...
    assert plain.content_hash == before  # ...which changes nothing
    plain.python.conda_dependencies.add_pip_package("joblib")  # v1 code fills it in place
    assert plain.content_hash != before

    (tmp_path / "env.yml").write_text(CONDA_YAML)
    env = Environment.from_conda_specification("from-yaml", tmp_path / "env.yml")
    registered = env.register(ws)
    fetched = Environment.get(ws, "from-yaml")
    assert registered.version == fetched.version == 1
    assert fetched.python.conda_dependencies == CondaDependencies(tmp_path / "env.yml")
    assert install_requirements(fetched.definition())[0] == [
        "scikit-learn==1.0.*",
        "torch==1.10.2",
        "pandas==1.3.*",
        "joblib==1.1.0",
    ]
    assert env.register(ws).version == 1  # same definition, same version
    with pytest.raises(InvalidArgumentError, match="must be a CondaDependencies"):
        env.python.conda_dependencies = ["numpy"]  # type: ignore[assignment]
    with pytest.raises(InvalidArgumentError, match=r"no conda here .*from_current_kernel"):
        Environment.from_existing_conda_environment("x", "base")


def test_docker_section_and_default_cpu_image(ws: Workspace) -> None:
    env = Environment("dock")
    env.docker.enabled = True
    env.docker.base_image = DEFAULT_CPU_IMAGE
    fetched = Environment.get(ws, env.register(ws).name)
    assert fetched.docker.enabled is True and fetched.docker.base_image == DEFAULT_BASE_IMAGE


def test_curated_environments_resolve_to_local_definitions(ws: Workspace) -> None:
    minimal = Environment.get(ws, "AzureML-Minimal")
    assert (minimal.version, minimal.python.pip_packages) == (1, [])
    assert Environment.get(ws, "AzureML-Minimal").version == 1  # the same definition: the same version
    sklearn = Environment.get(ws, "AzureML-sklearn-1.0-ubuntu20.04-py38-cpu")
    assert "scikit-learn>=1.0" in sklearn.python.pip_packages
    # Both generations of v1's names: the 2020 list's (v1 tutorials use ws.environments['AzureML-PyTorch-1.6-CPU'])
    # and the later <framework>-<version>-<os>-<python>-<cpu|cuda> ones.
    assert Environment.get(ws, "AzureML-PyTorch-1.6-CPU").python.pip_packages[0] == "torch>=1.6"
    assert Environment.get(ws, "AzureML-TensorFlow-2.3-GPU").python.pip_packages[0] == "tensorflow>=2.3"
    assert "tqdm" in CURATED_ENVIRONMENTS["AzureML-Tutorial"].pip_packages
    listed = Environment.list(ws)
    assert set(CURATED_ENVIRONMENTS) <= set(listed)
    assert listed["AzureML-Minimal"].version == 1 and listed["AzureML-Tutorial"].version is None
    with pytest.raises(
        NotFoundError, match=r"'AzureML-Nope' is not a curated environment.*AzureML-Minimal, AzureML-Tutorial"
    ):
        Environment.get(ws, "AzureML-Nope")
    with pytest.raises(NotFoundError, match="case-sensitive: 'AzureML-Minimal'"):
        Environment.get(ws, "azureml-minimal")
    # A curated environment is changed under a name of one's own (v1's clone), never under its own.
    minimal.python.pip_packages.append("six")
    with pytest.raises(InvalidArgumentError, match=r"curated environment and cannot be changed.*clone"):
        minimal.register(ws)
    mine = minimal.clone("my-minimal").register(ws)
    assert (mine.name, mine.version, mine.python.pip_packages) == ("my-minimal", 1, ["six"])
    with pytest.raises(NotFoundError, match="reserved"):
        Environment("AzureML-Mine").register(ws)


def test_the_curated_table_is_well_formed() -> None:
    families = {name.split("-")[1].lower() for name in CURATED_ENVIRONMENTS}
    assert {"minimal", "tutorial", "sklearn", "lightgbm"} <= families
    for name, entry in CURATED_ENVIRONMENTS.items():
        assert name.startswith("AzureML-") and entry.description
        for package in entry.pip_packages:
            Requirement(package)  # each is something pip can be asked for
        assert not install_requirements({"python": {"pip_packages": list(entry.pip_packages)}})[1]


def test_run_configuration_feeds_a_script_run_config(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text("print('hi')\n")
    rc = RunConfiguration()
    assert (rc.target, rc.node_count, rc.docker.use_docker) == ("local", 1, None)
    plain = ScriptRunConfig(source_directory=str(tmp_path), script="train.py", run_config=rc).job_spec()
    assert plain["environment"] is None and plain["compute_target"] == "local"  # the empty default: as None

    # v1's local pattern: the submitting interpreter, as it is.
    rc.environment.python.user_managed_dependencies = True
    rc.target = "cpu-cluster"
    rc.arguments = ["--alpha", 0.5]
    src = ScriptRunConfig(source_directory=str(tmp_path), script="train.py", run_config=rc)
    spec = src.job_spec()
    assert spec["compute_target"] == "cpu-cluster" and spec["arguments"] == ["--alpha", "0.5"]
    assert spec["environment"]["definition"]["python"]["user_managed_dependencies"] is True

    # Changed later through .run_config, as v1 code does; the config's own arguments win over it.
    env = Environment("from-rc")
    env.python.conda_dependencies = CondaDependencies.create(pip_packages=["six"])
    src.run_config.environment = env
    assert src.job_spec()["environment"]["name"] == "from-rc"
    # v1 keeps ScriptRunConfig's environment in its run configuration: train-on-local's
    # `src.run_config.environment = system_managed_env` replaces the one given at construction.
    given = ScriptRunConfig(source_directory=str(tmp_path), script="train.py", environment=Environment("first"))
    given.run_config.environment = env
    assert given.environment is env and given.job_spec()["environment"]["name"] == "from-rc"
    explicit = ScriptRunConfig(
        source_directory=str(tmp_path), script="train.py", run_config=rc, compute_target="local", environment="x:2"
    )
    assert explicit.target == "local" and explicit.job_spec()["environment"] == {"name": "x", "version": 2}

    positional = ScriptRunConfig(str(tmp_path), "train.py", ["--beta", 1], rc)  # v1's order: run_config 4th
    assert positional.run_config is rc and positional.target == "cpu-cluster"
    rc.script = "train.py"
    assert ScriptRunConfig(source_directory=str(tmp_path), run_config=rc).job_spec()["script"] == "train.py"
    rc.environment = RunConfiguration(conda_dependencies=CondaDependencies.create(conda_packages=["numpy"])).environment
    assert ScriptRunConfig(source_directory=str(tmp_path), run_config=rc).job_spec()["environment"] is not None


def test_a_shared_run_configuration_is_not_changed_by_the_script_run_configs_environments(tmp_path: Path) -> None:
    """One RunConfiguration given to two ScriptRunConfigs: each keeps the environment given to it, and
    the shared one (and a third ScriptRunConfig without an environment) keeps its own."""
    (tmp_path / "train.py").write_text("print('hi')\n")
    rc = RunConfiguration()
    first = ScriptRunConfig(str(tmp_path), "train.py", run_config=rc, environment=Environment("env-a"))
    second = ScriptRunConfig(str(tmp_path), "train.py", run_config=rc, environment=Environment("env-b"))
    third = ScriptRunConfig(str(tmp_path), "train.py", run_config=rc)
    assert first.job_spec()["environment"]["name"] == "env-a"
    assert second.job_spec()["environment"]["name"] == "env-b"
    assert third.job_spec()["environment"] is None and rc.environment.name == "runconfig-environment"
    # Set later on the ScriptRunConfig, or through its .run_config (v1): the last one set wins.
    first.environment = "registered:3"
    assert first.job_spec()["environment"] == {"name": "registered", "version": 3}
    rc.environment = Environment("shared-later")
    assert [s.job_spec()["environment"]["name"] for s in (first, second, third)] == ["shared-later"] * 3
    second.environment = Environment("env-b2")
    assert (second.environment.name, first.environment.name) == ("env-b2", "shared-later")
    # Without a run_config, the ScriptRunConfig's own one holds the environment, as v1's does.
    env = Environment("own")
    own = ScriptRunConfig(str(tmp_path), "train.py", environment=env)
    assert own.run_config.environment is env and own.environment is env


def test_docker_runtime_config_and_bad_run_configurations(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text("print('hi')\n")
    docker = DockerConfiguration(use_docker=True)
    src = ScriptRunConfig(source_directory=str(tmp_path), script="train.py", docker_runtime_config=docker)
    assert src.run_config.docker is docker and src.docker_runtime_config.use_docker is True
    assert src.job_spec()["compute_target"] == "local"  # where a job runs is its target's business

    rc = RunConfiguration()
    rc.node_count = 4
    with pytest.raises(RunConfigurationException, match="node_count=4"):
        ScriptRunConfig(source_directory=str(tmp_path), script="train.py", run_config=rc).job_spec()
    rc.node_count = 1
    rc.framework = "PySpark"
    with pytest.raises(RunConfigurationException, match="no Spark"):
        ScriptRunConfig(source_directory=str(tmp_path), script="train.py", run_config=rc).job_spec()
    with pytest.raises(RunConfigurationException, match="run_config must be a RunConfiguration"):
        ScriptRunConfig(source_directory=str(tmp_path), script="train.py", run_config={"target": "local"})  # type: ignore[arg-type]
    with pytest.raises(RunConfigurationException, match="docker_runtime_config must be a DockerConfiguration"):
        ScriptRunConfig(source_directory=str(tmp_path), script="train.py", docker_runtime_config=True)  # type: ignore[arg-type]
    with pytest.raises(RunConfigurationException, match="use_docker"):
        DockerConfiguration(use_docker="yes")  # type: ignore[arg-type]
    assert jupyter_mlws.DEFAULT_CPU_IMAGE == DEFAULT_BASE_IMAGE


def test_v1_local_run_configuration_runs_a_job(kit: JobKit) -> None:  # noqa: F811 (the fixture)
    """v1's local pattern end to end (no build: user-managed dependencies run as they are)."""
    kit.script("train.py", "from jupyter_mlws import Run\nRun.get_context().log('alpha', float(sys.argv[2]))\n")
    rc = RunConfiguration()
    rc.environment.python.user_managed_dependencies = True
    src = ScriptRunConfig(
        source_directory=str(kit.src),
        script="train.py",
        arguments=["--alpha", 0.5],
        run_config=rc,
        docker_runtime_config=DockerConfiguration(use_docker=False),
    )
    run = kit.exp.submit(src)
    run.wait_for_completion(timeout=TIMEOUT)
    assert run.status == "Completed" and run.get_metrics() == {"alpha": 0.5}
    assert run.get_environment().name == "runconfig-environment"


def test_a_conda_environment_builds_with_pip_and_has_the_runtime(kit: JobKit) -> None:  # noqa: F811 (the fixture)
    """The one real build here: a conda package (six) through pip, `jupyter-mlws` in the pip list
    (never asked of an index: the build would fail), and the job reaching its run."""
    kit.script(
        "train.py",
        "import six\nfrom jupyter_mlws import Run\nRun.get_context().log('ok', 1)\n"
        "print('SIX ' + six.__version__)\nprint('PYTHON ' + sys.executable)\n",
    )
    rc = RunConfiguration(
        conda_dependencies=CondaDependencies.create(
            conda_packages=["six=1.16", "python=3.8", "pip"], pip_packages=["jupyter-mlws", "azureml-defaults"]
        )
    )
    run = kit.exp.submit(ScriptRunConfig(source_directory=str(kit.src), script="train.py", run_config=rc))
    run.wait_for_completion(timeout=300.0)
    assert run.status == "Completed", run.get_details().get("error")
    assert run.get_metrics() == {"ok": 1}
    log = run.read_log(max_bytes=1 << 20)[0].decode()
    assert "SIX 1.16." in log and "PYTHON " in log
    assert f"PYTHON {sys.executable}\n" not in log  # its own environment, not the submitting one
