"""jupyter-mlws: a local-first machine-learning workspace that lives inside Jupyter."""

from __future__ import annotations

from .core.experiment import Experiment
from .core.model import Model
from .core.run import Run, RunPage
from .core.status import RunStatus
from .core.workspace import Workspace

__version__ = "0.1.0"

__all__ = [
    "Experiment",
    "Model",
    "Run",
    "RunPage",
    "RunStatus",
    "Workspace",
    "__version__",
]
