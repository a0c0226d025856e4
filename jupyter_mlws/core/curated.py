"""Azure ML v1's curated environments, as local definitions: one table, a pip package list per name.

``Environment.get(ws, "AzureML-Minimal")`` registers the table's definition under that name (the
same definition is the same version) and returns it; it is built and cached like any environment.
``Environment.list(ws)`` shows every curated name. Names starting with ``AzureML`` are reserved for
these (as in v1): an unknown one is an error listing the curated names, and a changed curated
environment cannot be registered under its name (clone it: ``env.clone("my-env")``).

The names keep v1's spelling, but their Ubuntu/Python/CUDA parts describe Azure's images, not this
machine: a curated environment here is the named library at the named version or newer (old pins
do not install on the Python versions jobs run with), with the packages v1's image had beside it.
The job runtime (v1's ``azureml-defaults``) is in every environment anyway: ``AzureML-Minimal`` is
just that.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import NotFoundError

__all__ = ["CURATED_ENVIRONMENTS", "CURATED_PREFIX", "CuratedEnvironment", "curated", "is_reserved"]

CURATED_PREFIX = "AzureML"


@dataclass(frozen=True)
class CuratedEnvironment:
    description: str
    pip_packages: tuple[str, ...]


_SKLEARN_BESIDE = ("numpy", "pandas", "scipy", "joblib")
_LIGHTGBM_BESIDE = ("numpy", "pandas", "scipy", "scikit-learn")
_PYTORCH_BESIDE = ("torchvision", "tensorboard", "numpy", "pandas")
_TENSORFLOW_BESIDE = ("numpy", "pandas")


def _pytorch(version: str) -> CuratedEnvironment:
    return CuratedEnvironment(
        f"PyTorch {version} or newer (CUDA where the machine has it)", (f"torch>={version}", *_PYTORCH_BESIDE)
    )


def _tensorflow(version: str) -> CuratedEnvironment:
    return CuratedEnvironment(
        f"TensorFlow {version} or newer (CUDA where the machine has it)",
        (f"tensorflow>={version}", *_TENSORFLOW_BESIDE),
    )


#: The curated environments: v1's name -> what pip installs (beside the job runtime). The names are
#: the ones v1's curated-environment list and v1 examples use: the first generation
#: (``AzureML-<Framework>-<version>[-CPU|-GPU]``, listed until 2021) and the second
#: (``AzureML-<framework>-<version>-<os>-<python>-<cpu|cuda>``) that replaced it.
CURATED_ENVIRONMENTS: dict[str, CuratedEnvironment] = {
    "AzureML-Minimal": CuratedEnvironment("the job runtime only", ()),
    "AzureML-Tutorial": CuratedEnvironment(
        "the tutorials' packages", ("numpy", "pandas", "scipy", "scikit-learn", "matplotlib", "tqdm")
    ),
    "AzureML-PyTorch-1.6-CPU": _pytorch("1.6"),
    "AzureML-PyTorch-1.6-GPU": _pytorch("1.6"),
    "AzureML-TensorFlow-2.2-CPU": _tensorflow("2.2"),
    "AzureML-TensorFlow-2.2-GPU": _tensorflow("2.2"),
    "AzureML-TensorFlow-2.3-CPU": _tensorflow("2.3"),
    "AzureML-TensorFlow-2.3-GPU": _tensorflow("2.3"),
    "AzureML-Scikit-learn-0.20.3": CuratedEnvironment("scikit-learn", ("scikit-learn>=0.20.3", *_SKLEARN_BESIDE)),
    "AzureML-sklearn-0.24-ubuntu18.04-py37-cpu": CuratedEnvironment(
        "scikit-learn 0.24 or newer", ("scikit-learn>=0.24", *_SKLEARN_BESIDE)
    ),
    "AzureML-sklearn-1.0-ubuntu20.04-py38-cpu": CuratedEnvironment(
        "scikit-learn 1.0 or newer", ("scikit-learn>=1.0", *_SKLEARN_BESIDE)
    ),
    "AzureML-sklearn-1.1-ubuntu20.04-py38-cpu": CuratedEnvironment(
        "scikit-learn 1.1 or newer", ("scikit-learn>=1.1", *_SKLEARN_BESIDE)
    ),
    "AzureML-lightgbm-3.2-ubuntu18.04-py37-cpu": CuratedEnvironment(
        "LightGBM 3.2 or newer", ("lightgbm>=3.2", *_LIGHTGBM_BESIDE)
    ),
    "AzureML-lightgbm-3.3-ubuntu20.04-py38-cpu": CuratedEnvironment(
        "LightGBM 3.3 or newer", ("lightgbm>=3.3", *_LIGHTGBM_BESIDE)
    ),
    "AzureML-pytorch-1.7-ubuntu18.04-py37-cuda11-gpu": _pytorch("1.7"),
    "AzureML-pytorch-1.10-ubuntu18.04-py38-cuda11-gpu": _pytorch("1.10"),
    "AzureML-tensorflow-2.4-ubuntu18.04-py37-cuda11-gpu": _tensorflow("2.4"),
}


def is_reserved(name: str) -> bool:
    """v1 reserves names starting with ``AzureML`` for curated environments."""
    return name.lower().startswith(CURATED_PREFIX.lower())


def curated(name: str) -> CuratedEnvironment | None:
    """The curated definition of ``name``; ``None`` for a name outside the reserved prefix; an
    unknown reserved name is a NotFoundError listing the curated names."""
    found = CURATED_ENVIRONMENTS.get(name)
    if found is not None or not is_reserved(name):
        return found
    close = [n for n in CURATED_ENVIRONMENTS if n.lower() == name.lower()]
    hint = f" (names are case-sensitive: {close[0]!r})" if close else ""
    raise NotFoundError(
        f"{name!r} is not a curated environment here{hint}; curated environments: "
        + ", ".join(CURATED_ENVIRONMENTS)
        + ". Names starting with 'AzureML' are reserved for them; give your own environments another name"
    )
