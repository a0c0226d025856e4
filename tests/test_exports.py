"""The package's public names: all importable flat, loaded on first use (``import jupyter_mlws`` stays light)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import jupyter_mlws


def test_every_public_name_resolves_to_the_object_its_module_defines() -> None:
    assert set(jupyter_mlws.__all__) == {*jupyter_mlws._EXPORTS, "VERSION", "__version__"}
    for name, module in jupyter_mlws._EXPORTS.items():
        value = getattr(jupyter_mlws, name)
        assert getattr(sys.modules[f"jupyter_mlws{module}"], name) is value
    assert set(jupyter_mlws.__all__) <= set(dir(jupyter_mlws))
    assert jupyter_mlws.VERSION == jupyter_mlws.__version__


def test_an_unknown_name_is_an_attribute_error_that_names_it() -> None:
    with pytest.raises(AttributeError, match="no attribute 'NoSuchThing'"):
        jupyter_mlws.NoSuchThing  # noqa: B018
    with pytest.raises(ImportError):
        exec("from jupyter_mlws import NoSuchThing", {})


def test_importing_the_package_loads_no_store_or_framework() -> None:
    code = (
        "import sys, jupyter_mlws\n"
        "heavy = [m for m in ('sqlalchemy', 'jupyter_mlws.core.workspace', 'fsspec', 'tornado', 'IPython') "
        "if m in sys.modules]\n"
        "print(heavy)\n"
        "from jupyter_mlws import Workspace, ComputeTargetException\n"
        "print(Workspace.__module__, ComputeTargetException.__module__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "[]"
    assert out[1] == "jupyter_mlws.core.workspace jupyter_mlws.errors"
