"""IPython magics of jupyter-mlws: ``%load_ext jupyter_mlws``."""

from __future__ import annotations

from typing import Any

__all__ = ["load_ipython_extension"]


def load_ipython_extension(ipython: Any) -> None:
    from .magics import MlwsMagics

    ipython.register_magics(MlwsMagics)
