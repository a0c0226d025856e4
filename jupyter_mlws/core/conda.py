"""Azure ML v1's ``CondaDependencies`` (``azureml.core.conda_dependencies``), without conda.

There is no conda here: environments are virtual environments (or images) filled by pip. A conda
specification is kept as written (so it round-trips through ``serialize_to_string`` and the
registry), and turned into pip requirements when the environment is defined for a job
(:func:`pip_requirements`):

- a conda package with a pip equivalent is installed with pip: the same name for most
  (``numpy``, ``pandas``, ``scikit-learn``, ``lightgbm`` ...), a different one where the names differ
  (:data:`CONDA_TO_PIP`: ``pytorch`` -> ``torch``, ``py-xgboost`` -> ``xgboost`` ...); conda's
  version forms become pip's (``numpy=1.21`` -> ``numpy==1.21.*``, ``numpy==1.21.2=py38_0`` ->
  ``numpy==1.21.2``, ``numpy 1.21.*``, ``numpy>=1.20``);
- ``python=X`` is the interpreter the environment is made with (the running one for local jobs, the
  base image's for Docker jobs): another version is a note in the build log, not an error;
  ``pip`` and ``wheel`` are pip's own, and conda's own tools (:data:`CONDA_TOOLS`) are not needed:
  both are left out;
- packages that exist only as conda packages (:data:`CONDA_ONLY`: ``cudatoolkit``, ``mkl``, R,
  compilers ...) are an error naming them ("no conda here: ..."), raised when the environment is
  defined for a run (at submit), before anything is built;
- ``jupyter-mlws`` in a pip list (the rewrite of v1's ``azureml-defaults``), and v1's own SDK
  packages (:data:`RUNTIME_PACKAGES`: ``azureml-defaults``, ``azureml-core`` ...) install nothing: the
  job runtime comes from the running installation, linked (local) or mounted (Docker) into every
  environment. A version asked of ``jupyter-mlws`` must fit the running one.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import InvalidArgumentError, NotFoundError

__all__ = [
    "CONDA_ONLY",
    "CONDA_TOOLS",
    "CONDA_TO_PIP",
    "RUNTIME_PACKAGES",
    "CondaDependencies",
    "conda_to_pip",
    "pip_requirements",
]

#: Conda package names whose pip distribution is named differently.
CONDA_TO_PIP: dict[str, str] = {
    "pytorch": "torch",
    "pytorch-cpu": "torch",
    "pytorch-gpu": "torch",
    "py-xgboost": "xgboost",
    "py-xgboost-cpu": "xgboost",
    "py-xgboost-gpu": "xgboost",
    "py-lightgbm": "lightgbm",
    "matplotlib-base": "matplotlib",
    "py-opencv": "opencv-python",
    "opencv": "opencv-python",
    "msgpack-python": "msgpack",
    "pytables": "tables",
    "python-graphviz": "graphviz",
    "tensorflow-base": "tensorflow",
    "typing_extensions": "typing-extensions",
}
#: Left out: the interpreter and installers the environment has anyway, and conda's own tools.
CONDA_TOOLS = frozenset({"python", "pip", "wheel", "conda", "conda-build", "mamba", "anaconda-client", "nomkl"})
#: Conda packages with no pip equivalent (system libraries, CUDA, compilers, R): an error naming them.
CONDA_ONLY = frozenset(
    {
        "cudatoolkit",
        "cuda-toolkit",
        "cudnn",
        "nccl",
        "mkl",
        "mkl-include",
        "blas",
        "openblas",
        "openmpi",
        "mpich",
        "libgcc",
        "libgcc-ng",
        "libgfortran",
        "libopenblas",
        "libblas",
        "libcblas",
        "liblapack",
        "libstdcxx-ng",
        "gcc",
        "gxx",
        "gxx_linux-64",
        "gcc_linux-64",
        "make",
        "git",
        "nodejs",
        "openjdk",
        "ffmpeg",
        "graphviz",
        "r-base",
        "r-essentials",
        "rstudio",
        "_libgcc_mutex",
    }
)
#: Pip names that mean "the job runtime": installed from the running installation, never an index.
RUNTIME_PACKAGES = frozenset(
    {
        "jupyter-mlws",
        "azureml-defaults",
        "azureml-core",
        "azureml-sdk",
        "azureml-train",
        "azureml-train-core",
        "azureml-pipeline",
        "azureml-pipeline-core",
        "azureml-pipeline-steps",
        "azureml-widgets",
        "azureml-telemetry",
        "azureml-dataprep",
        "azureml-dataset-runtime",
    }
)
_CONDA_SPEC = re.compile(r"^(?P<name>[A-Za-z0-9_][A-Za-z0-9_.\-]*)\s*(?P<rest>.*)$")
_HEADER = (
    "# Conda environment specification, as Azure ML v1 wrote it. jupyter-mlws installs it with pip:\n"
    "# conda packages with a pip equivalent are installed by pip, the rest are refused.\n"
)


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _name_of(spec: str) -> str:
    """The package name of a conda spec (``conda-forge::numpy=1.21`` -> ``numpy``) or a pip one."""
    spec = spec.strip().split("::", 1)[-1]
    match = _CONDA_SPEC.match(spec)
    return _canonical(match.group("name")) if match else _canonical(spec)


def _pip_name(spec: str) -> str:
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        return _canonical(Requirement(spec).name)
    except InvalidRequirement:
        return _name_of(spec)


def conda_to_pip(spec: str) -> str | None:
    """The pip requirement for one conda package spec; ``None`` for one left out (:data:`CONDA_TOOLS`).
    A conda-only package is an :class:`InvalidArgumentError` naming it."""
    text = spec.strip().split("::", 1)[-1].strip()
    match = _CONDA_SPEC.match(text)
    if not match:
        raise InvalidArgumentError(f"conda package {spec!r} is not a package name with an optional version")
    name, rest = match.group("name"), match.group("rest").strip()
    key = _canonical(name)
    if key in CONDA_TOOLS:
        return None
    if key in CONDA_ONLY or key.startswith("r-"):
        raise InvalidArgumentError(f"no conda here: {spec!r} is a conda-only package")
    pip_name = CONDA_TO_PIP.get(key, name)
    if not rest:
        return pip_name
    if rest.startswith("==") or rest[0] in "<>!~":
        version = rest.split("=", 3)[:3] if rest.startswith("==") else [rest]
        # "==1.2.3=build": the build string (after a third '=') means nothing to pip.
        specifier = "==" + version[2] if rest.startswith("==") else rest
    elif rest.startswith("="):
        # conda's "=1.21" is fuzzy: 1.21, 1.21.1 ... (pip: ==1.21.*); "=1.21=build" drops the build.
        version_text = rest[1:].split("=", 1)[0].strip()
        specifier = "==" + (version_text if version_text.endswith("*") else version_text + ".*")
    else:
        # "name 1.21.*" or "name 1.21.2 py38_0": a version, then maybe a build string.
        version_text = rest.split()[0]
        specifier = version_text if version_text[0] in "<>=!~" else "==" + version_text
    requirement = f"{pip_name}{specifier.replace(' ', '')}"
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        Requirement(requirement)
    except InvalidRequirement:
        raise InvalidArgumentError(
            f"conda package {spec!r}: its version cannot be said to pip ({requirement!r}); write it as "
            "name==version or name>=version"
        ) from None
    return requirement


def _running_version() -> str:
    from .. import __version__

    return __version__


def _runtime_entry(requirement: str) -> bool:
    """Whether a pip requirement names the job runtime; a version of jupyter-mlws the running one
    does not satisfy is an error (jobs always run with the running installation)."""
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        parsed = Requirement(requirement)
    except InvalidRequirement:
        return False
    name = _canonical(parsed.name)
    if name not in RUNTIME_PACKAGES:
        return False
    running = _running_version()
    if name == "jupyter-mlws" and parsed.specifier and not parsed.specifier.contains(running, prereleases=True):
        raise InvalidArgumentError(
            f"{requirement!r}: jobs run with the running jupyter-mlws ({running}), which this does not allow; "
            "drop the version or upgrade jupyter-mlws"
        )
    return True


def pip_requirements(python: dict[str, Any]) -> tuple[list[str], list[str]]:
    """What pip installs for an environment's ``python`` definition (its ``pip_packages`` and its
    ``conda_dependencies``), and notes for the build log. Raises for conda-only packages and pip
    options."""
    notes: list[str] = []
    requirements: list[str] = []
    left_out: list[str] = []
    conda = python.get("conda_dependencies")
    if conda:
        cd = CondaDependencies._from_spec(conda)
        wanted = cd.get_python_version()
        if wanted:
            notes.append(
                f"python={wanted} is asked for; no conda here: the environment's own interpreter is used "
                "(the running one for local jobs, the base image's python3 for Docker jobs)"
            )
        refused = []
        for spec in cd.conda_packages:
            try:
                pip = conda_to_pip(spec)
            except InvalidArgumentError:
                refused.append(spec)
                continue
            if pip is None:
                left_out.append(spec)
            else:
                requirements.append(pip)
        if refused:
            raise InvalidArgumentError(
                "no conda here: " + ", ".join(refused) + " have no pip equivalent; remove them from the conda "
                "dependencies (or name a pip package that provides them)"
            )
        options = list(cd.pip_options)
        if options:
            raise InvalidArgumentError(
                f"pip options in the conda dependencies ({', '.join(options)}) are not taken; set index URLs and "
                "certificates in pip's own configuration, which environment builds use"
            )
        requirements.extend(cd.pip_packages)
    requirements = [*python.get("pip_packages", []), *requirements]
    runtime = [r for r in requirements if _runtime_entry(r)]
    if runtime:
        notes.append(f"{', '.join(runtime)}: the job runtime, from the running jupyter-mlws (not installed by pip)")
    if left_out:
        notes.append(f"left out (the environment has its own interpreter and pip): {', '.join(left_out)}")
    unique = list(dict.fromkeys(r for r in requirements if r not in runtime))
    return unique, notes


class CondaDependencies:
    """A conda environment specification (v1's ``CondaDependencies``), installed here with pip.

    ``CondaDependencies()`` is empty (v1 added ``azureml-defaults``: not needed, the job runtime is in
    every environment); ``CondaDependencies(path)`` loads a conda YAML file (``name``, ``channels``,
    ``dependencies`` with a ``pip:`` list). See the module's documentation for how conda packages
    become pip packages.
    """

    def __init__(
        self, conda_dependencies_file_path: str | os.PathLike[str] | None = None, _underlying_structure: Any = None
    ) -> None:
        self._name = "project_environment"
        self._channels: list[str] = []
        self._conda: list[str] = []
        self._python: str | None = None
        self._pip: list[str] = []
        self._pip_options: list[str] = []
        if conda_dependencies_file_path is not None:
            path = Path(conda_dependencies_file_path).expanduser()
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise NotFoundError(f"cannot read the conda specification {path}: {exc.strerror}") from None
            self._load(_parse_yaml(text, str(path)), str(path))
        elif _underlying_structure is not None:
            self._load(_underlying_structure, "the conda specification")

    # -- construction ------------------------------------------------------------------------------------
    @staticmethod
    def create(
        pip_packages: list[str] | None = None,
        conda_packages: list[str] | None = None,
        python_version: str | None = None,
        pin_sdk_version: bool = True,
        pip_indexurl: str | None = None,
    ) -> CondaDependencies:
        """v1's ``create``: the packages given (``pin_sdk_version`` means nothing here: the runtime is
        the running jupyter-mlws). ``pip_indexurl`` is refused when the environment is defined: index
        URLs come from pip's own configuration."""
        cd = CondaDependencies()
        for package in _string_list("conda_packages", conda_packages):
            cd.add_conda_package(package)
        if python_version is not None:
            cd.set_python_version(python_version)
        for package in _string_list("pip_packages", pip_packages):
            cd.add_pip_package(package)
        if pip_indexurl:
            cd.set_pip_option(f"--index-url {pip_indexurl}")
        return cd

    @staticmethod
    def _from_spec(spec: Any) -> CondaDependencies:
        return CondaDependencies(_underlying_structure=spec)

    def _load(self, data: Any, where: str) -> None:
        if not isinstance(data, dict):
            raise InvalidArgumentError(f"{where}: a conda specification is a mapping with 'dependencies'")
        self._name = str(data.get("name") or "project_environment")
        self._channels = _string_list(f"{where}: channels", data.get("channels"))
        dependencies = data.get("dependencies") or []
        if not isinstance(dependencies, list):
            raise InvalidArgumentError(f"{where}: 'dependencies' must be a list")
        for item in dependencies:
            if isinstance(item, dict):
                if set(item) != {"pip"}:
                    raise InvalidArgumentError(f"{where}: a mapping in 'dependencies' can only be 'pip:', got {item}")
                for line in _string_list(f"{where}: pip", item["pip"]):
                    if line.strip().startswith("-"):
                        self._pip_options.append(line.strip())
                    else:
                        self.add_pip_package(line)
            elif isinstance(item, str | int | float) and str(item).strip():
                spec = str(item).strip()
                if _name_of(spec) == "python":
                    self._python = _python_version_of(spec)
                else:
                    self.add_conda_package(spec)
            else:
                raise InvalidArgumentError(f"{where}: dependency {item!r} is not a package spec")

    # -- editing -------------------------------------------------------------------------------------------
    def add_pip_package(self, pip_package: str) -> None:
        """Add a pip requirement; one of the same name is replaced (a new version of it)."""
        package = _non_empty("pip_package", pip_package)
        name = _pip_name(package)
        self._pip = [p for p in self._pip if _pip_name(p) != name]
        self._pip.append(package)

    def remove_pip_package(self, pip_package: str) -> None:
        """Remove the pip requirement of that name (any version)."""
        name = _pip_name(_non_empty("pip_package", pip_package))
        self._pip = [p for p in self._pip if _pip_name(p) != name]

    def add_conda_package(self, conda_package: str) -> None:
        """Add a conda package (installed with pip, see the module); one of the same name is replaced."""
        package = _non_empty("conda_package", conda_package)
        name = _name_of(package)
        if name == "python":
            self._python = _python_version_of(package)
            return
        self._conda = [p for p in self._conda if _name_of(p) != name]
        self._conda.append(package)

    def remove_conda_package(self, conda_package: str) -> None:
        name = _name_of(_non_empty("conda_package", conda_package))
        self._conda = [p for p in self._conda if _name_of(p) != name]

    def add_channel(self, channel: str) -> None:
        """Kept in the specification; pip has no channels."""
        channel = _non_empty("channel", channel)
        if channel not in self._channels:
            self._channels.append(channel)

    def remove_channel(self, channel: str) -> None:
        self._channels = [c for c in self._channels if c != channel]

    def set_pip_option(self, pip_option: str) -> None:
        """Recorded, and refused when the environment is defined (pip's configuration holds options)."""
        option = _non_empty("pip_option", pip_option)
        flag = option.split()[0]
        self._pip_options = [o for o in self._pip_options if o.split()[0] != flag]
        self._pip_options.append(option)

    def remove_pip_option(self, pip_option: str) -> None:
        flag = _non_empty("pip_option", pip_option).split()[0]
        self._pip_options = [o for o in self._pip_options if o.split()[0] != flag]

    def set_python_version(self, version: str) -> None:
        self._python = _python_version_of(f"python={_non_empty('version', str(version))}")

    def get_python_version(self) -> str | None:
        return self._python

    def add_tensorflow_pip_package(self, core_type: str = "cpu", version: str | None = None) -> None:
        name = "tensorflow" if core_type == "cpu" else "tensorflow-gpu"
        self.add_pip_package(f"{name}=={version}" if version else name)

    def add_tensorflow_conda_package(self, core_type: str = "cpu", version: str | None = None) -> None:
        name = "tensorflow" if core_type == "cpu" else "tensorflow-gpu"
        self.add_conda_package(f"{name}={version}" if version else name)

    # -- reading ------------------------------------------------------------------------------------------
    @property
    def pip_packages(self) -> Iterator[str]:
        """The pip requirements, in order (an iterator, as v1's)."""
        return iter(list(self._pip))

    @property
    def conda_packages(self) -> Iterator[str]:
        """The conda packages, in order, without ``python`` (:meth:`get_python_version`)."""
        return iter(list(self._conda))

    @property
    def conda_channels(self) -> Iterator[str]:
        return iter(list(self._channels))

    @property
    def pip_options(self) -> Iterator[str]:
        return iter(list(self._pip_options))

    def is_empty(self) -> bool:
        return not (self._conda or self._pip or self._pip_options or self._python or self._channels)

    def _spec(self) -> dict[str, Any]:
        """The conda YAML structure (what is stored with the environment's definition)."""
        dependencies: list[Any] = []
        if self._python:
            dependencies.append(f"python={self._python}")
        dependencies.extend(self._conda)
        if self._pip or self._pip_options:
            dependencies.append({"pip": [*self._pip_options, *self._pip]})
        spec: dict[str, Any] = {"name": self._name}
        if self._channels:
            spec["channels"] = list(self._channels)
        spec["dependencies"] = dependencies
        return spec

    def serialize_to_string(self) -> str:
        import yaml

        body: str = yaml.safe_dump(self._spec(), sort_keys=False, default_flow_style=False)
        return _HEADER + "\n" + body

    def save(self, path: str | os.PathLike[str] | None = None) -> str:
        """Write the YAML to ``path`` (default ``conda_dependencies.yml`` in the current folder); the path."""
        target = Path(path) if path is not None else Path("conda_dependencies.yml")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(self.serialize_to_string(), encoding="utf-8")
        return str(target)

    def save_to_file(self, base_directory: str | os.PathLike[str], conda_file_path: str | None = None) -> str:
        """v1's older spelling of :meth:`save`: ``base_directory / conda_file_path``."""
        return self.save(Path(base_directory) / (conda_file_path or "conda_dependencies.yml"))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CondaDependencies) and self._spec() == other._spec()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"CondaDependencies(conda_packages={self._conda!r}, pip_packages={self._pip!r})"

    def __deepcopy__(self, memo: dict[int, Any]) -> CondaDependencies:
        return CondaDependencies._from_spec(copy.deepcopy(self._spec(), memo))


def _parse_yaml(text: str, where: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidArgumentError(f"{where} is not valid YAML: {exc}") from None


def _non_empty(what: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgumentError(f"{what} must be a non-empty string, got {value!r}")
    return value.strip()


def _string_list(what: str, value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise InvalidArgumentError(f"{what} must be a list of strings, got {value!r}")
    return [_non_empty(what, str(v) if isinstance(v, int | float) else v) for v in value]


def _python_version_of(spec: str) -> str:
    """``python=3.8`` / ``python==3.8.13`` / ``python 3.8`` -> ``3.8...``."""
    rest = spec.strip().split("::", 1)[-1].strip()[len("python") :].strip().lstrip("=<>~! ").split("=", 1)[0]
    version = rest.split()[0] if rest.split() else ""
    if not re.match(r"^\d+(\.\d+)*(\.\*)?$", version):
        raise InvalidArgumentError(f"python version in {spec!r} is not a version like 3.10")
    return version
