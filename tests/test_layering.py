"""DESIGN §1's import rule, enforced by parsing the package's sources.

``core`` (and ``errors``) import no web framework, no SQLAlchemy, no IPython and none of the adapters
(stores, server, magics, widgets, cli): they only name store modules as strings for the plug-in
registry. ``stores`` implement the core's interfaces and never reach up into the adapters. And
``import jupyter_mlws`` stays light.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import jupyter_mlws

PACKAGE_DIR = Path(jupyter_mlws.__file__).resolve().parent
PACKAGE = "jupyter_mlws"

ADAPTERS = (
    "jupyter_mlws.server",
    "jupyter_mlws.magics",
    "jupyter_mlws.widgets",
    "jupyter_mlws.cli",
)
CORE_FORBIDDEN = (
    "sqlalchemy",
    "alembic",
    "psycopg",
    "psycopg2",
    "sqlite3",
    "fsspec",
    "IPython",
    "ipywidgets",
    "ipykernel",
    "tornado",
    "jupyter_server",
    "jupyterlab",
    "docker",
    "dask",
    "distributed",
    "papermill",
    "plotly",
    "jupyter_mlws.stores",
    "jupyter_mlws.compute",
    *ADAPTERS,
)
STORES_FORBIDDEN = ADAPTERS
HEAVY_ON_IMPORT = ("sqlalchemy", "alembic", "IPython", "ipywidgets", "tornado", "jupyter_server", "psycopg")


@dataclass(frozen=True)
class Violation:
    file: str
    line: int
    imported: str
    rule: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: imports {self.imported!r} (forbidden: {self.rule})"


def module_name(path: Path) -> tuple[str, bool]:
    """The dotted module name of a file under the package, and whether it is a package ``__init__``."""
    rel = path.resolve().relative_to(PACKAGE_DIR.parent).with_suffix("")
    parts = list(rel.parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts.pop()
    return ".".join(parts), is_package


def _resolve(name: str | None, level: int, module: str, is_package: bool) -> str | None:
    """Absolute module name of ``from <level dots><name> import …`` written in ``module``."""
    if level == 0:
        return name
    base = module.split(".") if is_package else module.split(".")[:-1]
    if level - 1 > len(base):
        return None  # beyond the top-level package; Python refuses it too
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, name] if name else base)


def _import_module_literal(node: ast.Call) -> str | None:
    """The string literal given to ``importlib.import_module(...)`` / ``import_module(...)`` / ``__import__``."""
    func = node.func
    called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    if called not in ("import_module", "__import__") or not node.args:
        return None
    first = node.args[0]
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value
    return None


def imported_modules(source: str, module: str, is_package: bool = False) -> list[tuple[int, str]]:
    """Every module a source imports, resolved to absolute names: ``(line, name)``.

    ``from a.b import c`` yields both ``a.b`` and ``a.b.c`` (``c`` may be a submodule).
    """
    tree = ast.parse(source)
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node.module, node.level, module, is_package)
            if base is None:
                continue
            found.append((node.lineno, base))
            found.extend((node.lineno, f"{base}.{alias.name}") for alias in node.names if alias.name != "*")
        elif isinstance(node, ast.Call):
            literal = _import_module_literal(node)
            if literal is None:
                continue
            if literal.startswith("."):
                level = len(literal) - len(literal.lstrip("."))
                resolved = _resolve(literal.lstrip(".") or None, level, module, is_package)
                if resolved is None:
                    continue
                literal = resolved
            found.append((node.lineno, literal))
    return found


def _matches(name: str, forbidden: str) -> bool:
    return name == forbidden or name.startswith(forbidden + ".")


def check_source(
    source: str, module: str, filename: str, forbidden: tuple[str, ...], is_package: bool = False
) -> list[Violation]:
    out = []
    seen = set()
    for line, name in imported_modules(source, module, is_package):
        for rule in forbidden:
            if _matches(name, rule) and (line, rule) not in seen:
                seen.add((line, rule))
                out.append(Violation(filename, line, name, rule))
    return out


def check_files(files: list[Path], forbidden: tuple[str, ...]) -> list[Violation]:
    violations = []
    for path in files:
        module, is_package = module_name(path)
        rel = str(path.relative_to(PACKAGE_DIR.parent))
        violations += check_source(path.read_text(encoding="utf-8"), module, rel, forbidden, is_package)
    return violations


def _py_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def core_files() -> list[Path]:
    return [*_py_files(PACKAGE_DIR / "core"), PACKAGE_DIR / "errors.py"]


def store_files() -> list[Path]:
    return _py_files(PACKAGE_DIR / "stores")


# -- the rules ------------------------------------------------------------------------------------------
def test_core_and_errors_import_no_framework_store_or_adapter() -> None:
    files = core_files()
    names = {p.name for p in files}
    assert {"workspace.py", "run.py", "model.py", "errors.py"} <= names, "the checker must see the core sources"
    violations = check_files(files, CORE_FORBIDDEN)
    assert not violations, "core must stay framework-free (DESIGN §1):\n" + "\n".join(map(str, violations))


def test_stores_do_not_import_the_adapters() -> None:
    files = store_files()
    assert files, "the checker must see the store sources"
    violations = check_files(files, STORES_FORBIDDEN)
    assert not violations, "stores must not depend on the adapters (DESIGN §1):\n" + "\n".join(map(str, violations))


def test_import_jupyter_mlws_is_light() -> None:
    code = (
        "import json, sys\n"
        "import jupyter_mlws\n"
        "from jupyter_mlws import Workspace, Experiment, Run, RunStatus, Model\n"
        f"heavy = {list(HEAVY_ON_IMPORT)!r}\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in heavy)))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False, cwd=PACKAGE_DIR.parent
    )
    assert proc.returncode == 0, proc.stderr
    loaded = json.loads(proc.stdout.strip().splitlines()[-1])
    assert not loaded, f"`import jupyter_mlws` must not import {sorted({m.split('.')[0] for m in loaded})}"


# -- the checker itself can fail -------------------------------------------------------------------------------
SYNTHETIC = """\
from __future__ import annotations
import json
import importlib
from ..errors import NotFoundError
from .names import validate_key
import sqlalchemy_utils_lookalike
import sqlalchemy.orm
from IPython.display import display
from ..stores.metadata import sql
from .. import cli
from jupyter_mlws import server
from ...jupyter_mlws_sibling import x
if True:
    mod = importlib.import_module("tornado.web")
    other = __import__("docker")
    rel = importlib.import_module("..magics", __package__)
    dynamic = importlib.import_module(name_from_somewhere)
"""


def test_checker_catches_forbidden_imports() -> None:
    violations = check_source(SYNTHETIC, "jupyter_mlws.core.fake", "jupyter_mlws/core/fake.py", CORE_FORBIDDEN)
    found = {(v.line, v.rule) for v in violations}
    assert found == {
        (7, "sqlalchemy"),
        (8, "IPython"),
        (9, "jupyter_mlws.stores"),
        (10, "jupyter_mlws.cli"),
        (11, "jupyter_mlws.server"),
        (14, "tornado"),
        (15, "docker"),
        (16, "jupyter_mlws.magics"),
    }, "\n".join(map(str, violations))
    message = str(next(v for v in violations if v.line == 7))
    assert "jupyter_mlws/core/fake.py:7" in message and "sqlalchemy" in message


def test_checker_resolves_relative_imports_of_packages() -> None:
    # In jupyter_mlws/core/__init__.py, "from ..stores import x" is jupyter_mlws.stores, "from . import y" is core.
    source = "from . import run\nfrom ..stores import artifacts\n"
    violations = check_source(source, "jupyter_mlws.core", "core/__init__.py", CORE_FORBIDDEN, is_package=True)
    assert [(v.line, v.imported) for v in violations] == [(2, "jupyter_mlws.stores")]


# -- compute: core never imports it; it never imports the adapters or the stores (issue 12) -----------------
COMPUTE = "jupyter_mlws.compute"
COMPUTE_FORBIDDEN = (*ADAPTERS, "jupyter_mlws.stores")


def test_core_never_imports_compute() -> None:
    """Core reaches compute targets only through the plug-in registry (module names as strings)."""
    files = core_files()
    assert {"compute.py", "jobs.py", "environment.py"} <= {p.name for p in files}
    violations = check_files(files, (COMPUTE,))
    assert not violations, "core must not import compute (DESIGN §1):\n" + "\n".join(map(str, violations))


def test_compute_imports_no_adapter_and_no_store() -> None:
    """Compute uses core's interfaces: a job's supervisor reports through the store interfaces of its
    workspace, never through a store module or an adapter."""
    files = _py_files(PACKAGE_DIR / "compute")
    names = {p.relative_to(PACKAGE_DIR / "compute").as_posix() for p in files}
    assert {"agent.py", "supervision.py", "local.py", "environments/venv.py"} <= names, sorted(names)
    violations = check_files(files, COMPUTE_FORBIDDEN)
    assert not violations, "compute must not import stores or adapters:\n" + "\n".join(map(str, violations))


SYNTHETIC_COMPUTE = """\
from __future__ import annotations
from ...core.compute import ComputeBackend
from ..supervision import StoreReporter
from ...stores.metadata.sql import SqlMetadataStore
from ... import server
from jupyter_mlws.magics import magics
import jupyter_mlws.cli
from ...widgets import details
from .stores import lookalike
"""

SYNTHETIC_CORE = """\
from ..compute import supervision
from ..compute.local import LocalCompute
from .compute import ComputeBackend
import importlib
backend = importlib.import_module("jupyter_mlws.compute.docker")
BUILTINS = {"local": "jupyter_mlws.compute.local:LocalCompute"}
"""


def test_checker_catches_compute_rule_breaks() -> None:
    in_compute = check_source(
        SYNTHETIC_COMPUTE,
        "jupyter_mlws.compute.environments.fake",
        "jupyter_mlws/compute/environments/fake.py",
        COMPUTE_FORBIDDEN,
    )
    assert {(v.line, v.rule) for v in in_compute} == {
        (4, "jupyter_mlws.stores"),
        (5, "jupyter_mlws.server"),
        (6, "jupyter_mlws.magics"),
        (7, "jupyter_mlws.cli"),
        (8, "jupyter_mlws.widgets"),
    }, "\n".join(map(str, in_compute))
    # Core may name compute modules as strings (the plug-in registry), never import them.
    in_core = check_source(SYNTHETIC_CORE, "jupyter_mlws.core.fake", "jupyter_mlws/core/fake.py", (COMPUTE,))
    assert [(v.line, v.imported) for v in in_core] == [
        (1, "jupyter_mlws.compute"),
        (2, "jupyter_mlws.compute.local"),
        (5, "jupyter_mlws.compute.docker"),
    ]
