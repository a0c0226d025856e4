"""DESIGN §1's import rules, enforced by parsing the package's sources (docs/architecture.md draws them).

- ``core`` (and ``errors``) import no web framework, SQLAlchemy, IPython, stores, compute, adapters
  (server, magics, widgets, cli) or feature packages: store and compute modules are named only as
  strings for the plug-in registries.
- ``core/services`` work on records and never import the facades.
- ``stores`` use only core's interfaces, records and errors; ``compute`` only core's interfaces,
  services, records and the entry points it plugs into, never the run/experiment/model facades.
- The adapters never touch a store (``.metadata``, ``.artifacts``) or a private attribute of a core
  object; each server handler module stands alone.
- The wave-2 feature packages use only core's services and interfaces.
- ``import jupyter_mlws`` stays light.

Each rule has a test that feeds it a synthetic source, so it can be seen to fail.
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


# -- the service tier, the adapters and the feature rooms (issue 12) --------------------------------------
FACADES = (
    "jupyter_mlws.core.workspace",
    "jupyter_mlws.core.experiment",
    "jupyter_mlws.core.runs",
    "jupyter_mlws.core.model",
    "jupyter_mlws.core.environment",
    "jupyter_mlws.core.compute",
    "jupyter_mlws.core.jobs",
    "jupyter_mlws.core.run_config",
)
FEATURE_ROOMS = ("data", "pipelines", "serving", "sweeps", "monitoring")
# What a feature package may import from the project: core's services and interfaces, the plain records
# and helpers they speak in, the error tree, and itself. Type-only imports (under TYPE_CHECKING) are free.
FEATURE_ALLOWED = (
    "jupyter_mlws.core.services",
    "jupyter_mlws.core.interfaces",
    "jupyter_mlws.core.entities",
    "jupyter_mlws.core.status",
    "jupyter_mlws.core.values",
    "jupyter_mlws.core.names",
    "jupyter_mlws.core.layout",
    "jupyter_mlws.core.search",
    "jupyter_mlws.core.jsonable",
    "jupyter_mlws.core.portal",  # where the JupyterLab serving the workspace is (published endpoints' URLs)
    "jupyter_mlws.core.statcache",
    "jupyter_mlws.core.filelock",
    "jupyter_mlws.core.storage_options",  # which storage options are secrets (datastores, artifact store)
    "jupyter_mlws.errors",
)
# Features that make runs of their own may use the run facade and core's job service as well: v1's
# PipelineRun and StepRun (and HyperDriveRun) are Runs, and their steps (trials) are jobs submitted
# like any other (issue 16) — described by the same run configs, their inputs by the same job input
# type plug-ins. Nothing else of core's facades.
_MAKES_RUNS = (
    "jupyter_mlws.core.experiment",
    "jupyter_mlws.core.runs",
    "jupyter_mlws.core.jobs",
    "jupyter_mlws.core.job_inputs",
    "jupyter_mlws.core.run_config",
    "jupyter_mlws.core.registry",
)
# A ParallelRunStep's runner (issue 19) fans mini-batches out to worker processes, maybe on other
# machines: each task opens the workspace from its locator.
_FANS_OUT = ("jupyter_mlws.core.locator",)
# Deployments (issue 17) serve Model versions, build their services' environments on a compute
# target's engine (the environment facade and its build, the target list), register their agent task,
# and publish captured inputs as versions of a tabular dataset (the data feature's public facade).
_DEPLOYS = (
    "jupyter_mlws.core.model",
    "jupyter_mlws.core.environment",
    "jupyter_mlws.core.compute",
    "jupyter_mlws.core.registry",
    "jupyter_mlws.data.dataset",
)
# Drift monitoring (issue 20) makes runs of its checks, records alerts as activities, checks the compute
# target named, finds a model's training dataset, reads datasets through the data feature's facade, and
# schedules its checks as the pipelines' schedules are (their recurrence computes the fire times).
_MONITORS = (
    *_MAKES_RUNS,
    "jupyter_mlws.core.activities",
    "jupyter_mlws.core.compute",
    "jupyter_mlws.core.model",
    "jupyter_mlws.data.dataset",
    "jupyter_mlws.pipelines.recurrence",
)
FEATURE_EXTRA: dict[str, tuple[str, ...]] = {
    "pipelines": (*_MAKES_RUNS, *_FANS_OUT),
    "sweeps": _MAKES_RUNS,
    "serving": _DEPLOYS,
    "monitoring": _MONITORS,
}


def _type_only_lines(tree: ast.AST) -> set[int]:
    """Lines of imports inside ``if TYPE_CHECKING:`` blocks."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for inner in node.body:
                for sub in ast.walk(inner):
                    if isinstance(sub, ast.Import | ast.ImportFrom):
                        lines.add(sub.lineno)
    return lines


def check_feature_source(source: str, module: str, filename: str, is_package: bool = False) -> list[Violation]:
    """Project imports of a feature package that are neither allowed nor type-only."""
    own = ".".join(module.split(".")[:2])
    allowed_here = (*FEATURE_ALLOWED, *FEATURE_EXTRA.get(own.rsplit(".", 1)[-1], ()))
    type_only = _type_only_lines(ast.parse(source))
    out = []
    for line, name in imported_modules(source, module, is_package):
        if line in type_only or not _matches(name, PACKAGE) or name == PACKAGE:
            continue
        if _matches(name, own) or any(_matches(name, allowed) for allowed in allowed_here):
            continue
        if name.rsplit(".", 1)[0] in allowed_here:  # `from core.services import X` also yields core.services.X
            continue
        out.append(Violation(filename, line, name, "feature packages use only core's services and interfaces"))
    return out


def adapter_files() -> list[Path]:
    files = [PACKAGE_DIR / "terminal.py"]
    for name in ("cli", "server", "magics", "widgets"):
        files += _py_files(PACKAGE_DIR / name)
    return files


def check_adapter_source(source: str, filename: str) -> list[Violation]:
    """Adapters reach core through its services and public names: no ``.metadata`` (the store), no
    private attribute of another object (``run._record``); their own (``self._x``) is theirs."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Attribute):
            continue
        name = node.attr
        if name in ("metadata", "artifacts"):
            out.append(Violation(filename, node.lineno, f".{name}", "adapters use services, never the stores"))
        elif name.startswith("_") and not name.startswith("__"):
            owner = node.value
            if isinstance(owner, ast.Name) and owner.id in ("self", "cls"):
                continue
            if isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name) and owner.func.id == "super":
                continue
            out.append(Violation(filename, node.lineno, f".{name}", "no private attributes of core objects"))
    return out


def test_services_never_import_the_facades() -> None:
    files = _py_files(PACKAGE_DIR / "core" / "services")
    assert {"tracking.py", "queries.py", "registry.py"} <= {p.name for p in files}
    violations = check_files(files, (*CORE_FORBIDDEN, *FACADES))
    assert not violations, "services work on records, below the facades:\n" + "\n".join(map(str, violations))


def test_core_does_not_import_the_feature_rooms() -> None:
    rooms = tuple(f"{PACKAGE}.{room}" for room in FEATURE_ROOMS)
    violations = check_files(core_files(), rooms)
    assert not violations, "features build on core, not the reverse:\n" + "\n".join(map(str, violations))


def test_feature_rooms_use_only_core_services_and_interfaces() -> None:
    violations: list[Violation] = []
    for room in FEATURE_ROOMS:
        files = _py_files(PACKAGE_DIR / room)
        assert files, f"the room {room}/ exists (issue 12)"
        for path in files:
            module, is_package = module_name(path)
            rel = str(path.relative_to(PACKAGE_DIR.parent))
            violations += check_feature_source(path.read_text(encoding="utf-8"), module, rel, is_package)
            violations += check_source(
                path.read_text(encoding="utf-8"), module, rel, (*ADAPTERS, "jupyter_mlws.stores"), is_package
            )
    assert not violations, "\n".join(map(str, violations))


def test_adapters_use_services_not_stores_or_private_attributes() -> None:
    files = adapter_files()
    assert any(p.parent.name == "cli" for p in files) and len(files) > 5
    violations: list[Violation] = []
    for path in files:
        rel = str(path.relative_to(PACKAGE_DIR.parent))
        violations += check_adapter_source(path.read_text(encoding="utf-8"), rel)
    assert not violations, "adapters are thin (DESIGN §1):\n" + "\n".join(map(str, violations))


def test_adapter_and_feature_checkers_can_fail() -> None:
    adapter = (
        "x = ws.metadata.get_run(i)\nb = ws.artifacts.open(d)\ny = run._record\n"
        "z = self._cache\nw = obj.__class__\nsuper()._hook()\n"
    )
    found = {(v.line, v.imported) for v in check_adapter_source(adapter, "server/fake.py")}
    assert found == {(1, ".metadata"), (2, ".artifacts"), (3, "._record")}

    feature = (
        "from typing import TYPE_CHECKING\n"
        "from ..core.services import QueryService\n"
        "from ..core.workspace import Workspace\n"
        "from ..stores.metadata import sql\n"
        "from . import graph\n"
        "if TYPE_CHECKING:\n"
        "    from ..core.runs import Run\n"
    )
    found = {(v.line, v.imported) for v in check_feature_source(feature, "jupyter_mlws.pipelines", "p.py", True)}
    assert found == {(3, "jupyter_mlws.core.workspace"), (3, "jupyter_mlws.core.workspace.Workspace"),
                     (4, "jupyter_mlws.stores.metadata"), (4, "jupyter_mlws.stores.metadata.sql")}  # fmt: skip
    # The run facade and the job service: for the rooms that make runs of their own, and only those.
    makes_runs = "from ..core.jobs import queue_job\nfrom ..core.model import Model\n"
    found = {(v.line, v.imported) for v in check_feature_source(makes_runs, "jupyter_mlws.pipelines", "p.py", True)}
    assert found == {(2, "jupyter_mlws.core.model"), (2, "jupyter_mlws.core.model.Model")}
    found = {(v.line, v.imported) for v in check_feature_source(makes_runs, "jupyter_mlws.serving", "s.py", True)}
    assert (1, "jupyter_mlws.core.jobs") in found

    service = "from ..runs import Run\nfrom ..entities import RunRecord\n"
    violations = check_source(service, "jupyter_mlws.core.services.fake", "fake.py", FACADES)
    assert [v.line for v in violations] == [1]


# -- stores reach into core only for its interfaces, entities and errors ---------------------------------
# Stores implement core's interfaces (issue 12): they may use the interfaces, the records they pass
# (entities, statuses, the search tree) and the errors, and never the facades (workspace, experiment,
# run, model, …), the writer, compute/, snapshots/ or the adapters. An allow-list, so that a module
# added to core later is outside it until someone decides otherwise.
STORES_MAY_IMPORT = (
    "jupyter_mlws.stores",
    "jupyter_mlws.core.interfaces",
    "jupyter_mlws.core.entities",
    "jupyter_mlws.core.status",
    "jupyter_mlws.core.search",
    "jupyter_mlws.errors",
)
# The core modules stores may use import only each other, so the rule holds transitively too.
STORE_FACING_CORE = STORES_MAY_IMPORT[1:]
# Parents are imported on the way to an allowed module; `from ...core import run` is still caught,
# as it also yields ``jupyter_mlws.core.run``.
_PARENT_PACKAGES = (PACKAGE, f"{PACKAGE}.core")


def outside_allowed(
    source: str, module: str, filename: str, allowed: tuple[str, ...], is_package: bool = False
) -> list[Violation]:
    """Imports of this package's modules that are not under one of ``allowed``."""
    rule = "only " + ", ".join(allowed)
    out = []
    for line, name in imported_modules(source, module, is_package):
        if not _matches(name, PACKAGE) or name in _PARENT_PACKAGES:
            continue
        if not any(_matches(name, ok) for ok in allowed):
            out.append(Violation(filename, line, name, rule))
    return out


def _outside_allowed_in(files: list[Path], allowed: tuple[str, ...]) -> list[Violation]:
    violations = []
    for path in files:
        module, is_package = module_name(path)
        rel = str(path.relative_to(PACKAGE_DIR.parent))
        violations += outside_allowed(path.read_text(encoding="utf-8"), module, rel, allowed, is_package)
    return violations


def test_stores_import_from_core_only_interfaces_entities_and_errors() -> None:
    stores = _py_files(PACKAGE_DIR / "stores")
    assert {"runs.py", "tracking.py", "local.py", "store.py"} <= {p.name for p in stores}, "the checker must see them"
    violations = _outside_allowed_in(stores, STORES_MAY_IMPORT)
    core = PACKAGE_DIR / "core"
    store_facing = [
        # The compute interfaces (what a target implements) are not the stores' business.
        *(p for p in _py_files(core / "interfaces") if p.name != "compute.py"),
        core / "entities.py",
        core / "status.py",
        core / "search.py",
        PACKAGE_DIR / "errors.py",
    ]
    assert all(p.exists() for p in store_facing)
    violations += _outside_allowed_in(store_facing, STORE_FACING_CORE)
    assert not violations, "stores use only core's interfaces, entities and errors:\n" + "\n".join(map(str, violations))


STORE_SYNTHETIC = """\
from __future__ import annotations
import importlib
import sqlalchemy
from . import base
from ....core.interfaces import RunStore
from ....core.entities import RunRecord
from ....errors import NotFoundError
from ....core.workspace import Workspace
from ....core import run
from ....compute.local import LocalCompute
from ....server import handlers
import jupyter_mlws.magics
from jupyter_mlws.core.model import Model
if True:
    jobs = importlib.import_module("jupyter_mlws.core.jobs")
    import jupyter_mlws.core
"""


def test_store_rule_catches_facades_compute_and_adapters() -> None:
    module, filename = "jupyter_mlws.stores.metadata.sql.fake", "jupyter_mlws/stores/metadata/sql/fake.py"
    violations = outside_allowed(STORE_SYNTHETIC, module, filename, STORES_MAY_IMPORT)
    assert {(v.line, v.imported) for v in violations} == {
        (8, "jupyter_mlws.core.workspace"),
        (8, "jupyter_mlws.core.workspace.Workspace"),
        (9, "jupyter_mlws.core.run"),
        (10, "jupyter_mlws.compute.local"),
        (10, "jupyter_mlws.compute.local.LocalCompute"),
        (11, "jupyter_mlws.server"),
        (11, "jupyter_mlws.server.handlers"),
        (12, "jupyter_mlws.magics"),
        (13, "jupyter_mlws.core.model"),
        (13, "jupyter_mlws.core.model.Model"),
        (15, "jupyter_mlws.core.jobs"),
    }, "\n".join(map(str, violations))
    # The store-facing core modules may not lean on a store either (core never imports stores).
    stricter = outside_allowed(STORE_SYNTHETIC, module, filename, STORE_FACING_CORE)
    assert {(v.line, v.imported) for v in stricter} - {(v.line, v.imported) for v in violations} == {
        (4, "jupyter_mlws.stores.metadata.sql"),
        (4, "jupyter_mlws.stores.metadata.sql.base"),
    }
    assert "fake.py:8" in str(violations[0]) and "only jupyter_mlws.stores" in str(violations[0])


# -- server handler modules (issue 12: one module per resource) ---------------------------------------------------
def test_server_handler_modules_import_no_store_and_no_other_handler_module() -> None:
    """A handler module under ``server/handlers/`` adapts one resource: it may use the core, the handler
    base and the request/serialisation helpers beside it (``server/base.py``, ``requests.py``,
    ``serialize.py``), never a store and never another handler module. Only the package ``__init__``
    (the route table) imports the handler modules."""
    handlers_package = "jupyter_mlws.server.handlers"
    forbidden = ("jupyter_mlws.stores", handlers_package)
    folder = PACKAGE_DIR / "server" / "handlers"
    modules = [p for p in _py_files(folder) if p.name != "__init__.py"]
    assert {"runs.py", "models.py", "submissions.py", "events.py"} <= {p.name for p in modules}, "checker sees none"
    violations = check_files(modules, forbidden)
    violations += check_files([folder / "__init__.py"], ("jupyter_mlws.stores",))
    assert not violations, "handler modules stay independent adapters:\n" + "\n".join(map(str, violations))

    synthetic = (
        "from ..base import MlwsHandler\n"
        "from ..requests import SubmitJob\n"
        "from ...core.run import Run\n"
        "from .runs import RunHandler\n"
        "from . import models\n"
        "from ...stores.metadata import sql\n"
        "import jupyter_mlws.server.handlers.logs\n"
        "from ..serialize import iso\n"
    )
    found = check_source(synthetic, f"{handlers_package}.fake", "server/handlers/fake.py", forbidden)
    assert {(v.line, v.rule) for v in found} == {
        (4, handlers_package),
        (5, handlers_package),
        (6, "jupyter_mlws.stores"),
        (7, handlers_package),
    }, "\n".join(map(str, found))


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


# What compute may use of the project: core's interfaces and services, the records and helpers they
# speak in, the activity recorder, the workspace (the composition root: an agent or a supervisor opens
# its workspace by path), the compute-target registry and environment definitions it plugs into,
# snapshots, errors, and itself. Never the run, experiment or model facades, nor `core.jobs` (which
# calls into compute through the registry) — a supervisor reports through services, not through `Run`.
COMPUTE_MAY_IMPORT = (
    COMPUTE,
    "jupyter_mlws.core.interfaces",
    "jupyter_mlws.core.services",
    "jupyter_mlws.core.entities",
    "jupyter_mlws.core.status",
    "jupyter_mlws.core.values",
    "jupyter_mlws.core.redaction",  # a job's secrets masked in its log and records (issue 21)
    "jupyter_mlws.core.names",
    "jupyter_mlws.core.layout",
    "jupyter_mlws.core.search",
    "jupyter_mlws.core.jsonable",
    "jupyter_mlws.core.registry",
    "jupyter_mlws.core.activities",
    "jupyter_mlws.core.notebooks",
    "jupyter_mlws.core.workspace",
    "jupyter_mlws.core.locator",  # a Dask worker opens the workspace a task names (issue 19)
    "jupyter_mlws.core.compute",
    "jupyter_mlws.core.environment",
    "jupyter_mlws.snapshots",
    "jupyter_mlws.errors",
)


def test_compute_uses_only_core_interfaces_services_and_entry_points() -> None:
    # The notebook runner is the job itself (it runs inside the job's process, as a user's script
    # does): it may use the public API, `Run.get_context()`.
    files = [p for p in _py_files(PACKAGE_DIR / "compute") if p.name != "notebook_runner.py"]
    runner = PACKAGE_DIR / "compute" / "notebook_runner.py"
    violations = _outside_allowed_in(files, COMPUTE_MAY_IMPORT)
    violations += [v for v in _outside_allowed_in([runner], COMPUTE_MAY_IMPORT) if v.imported != "jupyter_mlws.Run"]
    assert not violations, "compute reaches core through its interfaces and services:\n" + "\n".join(
        map(str, violations)
    )
    synthetic = (
        "from ..core.interfaces.compute import ComputeBackend\n"
        "from ..core.services import Services\n"
        "from ..core.runs import Run\n"
        "from ..core.jobs import live_dir\n"
        "from ..core.model import Model\n"
    )
    found = outside_allowed(synthetic, "jupyter_mlws.compute.fake", "compute/fake.py", COMPUTE_MAY_IMPORT)
    assert {v.line for v in found} == {3, 4, 5}, "\n".join(map(str, found))


def store_touches(source: str, filename: str) -> list[Violation]:
    """``.metadata`` attribute reads (a package's ``dist.metadata["Name"]`` mapping is not the store)."""
    tree = ast.parse(source)
    subscripted = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Subscript)}
    return [
        Violation(filename, node.lineno, ".metadata", "facades call the services")
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr == "metadata" and id(node) not in subscripted
    ]


def test_facades_reach_the_stores_only_through_services() -> None:
    """Inside core, only the workspace (which opens the stores) and the services touch ``.metadata``."""
    core = PACKAGE_DIR / "core"
    files = [p for p in _py_files(core) if "services" not in p.parts and p.name != "workspace.py"]
    assert {"model.py", "compute.py", "environment.py", "activities.py"} <= {p.name for p in files}
    violations = []
    for path in files:
        violations += store_touches(path.read_text(encoding="utf-8"), str(path.relative_to(PACKAGE_DIR.parent)))
    assert not violations, "\n".join(map(str, violations))
    synthetic = "name = dist.metadata['Name']\nrecord = ws.metadata.get_run(i)\n"
    assert [v.line for v in store_touches(synthetic, "core/fake.py")] == [2]


# -- the job side of a Docker job's API (issue 13): no workspace in reach ---------------------------------------
# What ``Run.get_context()`` returns in a Docker job runs where no workspace is mounted: it may use the
# records and checks it speaks in and the errors, never the workspace, the services, a store or compute.
REMOTE_RUN_MAY_IMPORT = (
    "jupyter_mlws.errors",
    "jupyter_mlws.core.entities",
    "jupyter_mlws.core.names",
    "jupyter_mlws.core.layout",
    "jupyter_mlws.core.status",
    "jupyter_mlws.core.values",
    "jupyter_mlws.core.redaction",
    "jupyter_mlws.core.model_v1",
)


def test_the_remote_run_reaches_nothing_but_its_job_api() -> None:
    path = PACKAGE_DIR / "core" / "runs" / "remote.py"
    violations = _outside_allowed_in([path], REMOTE_RUN_MAY_IMPORT)
    assert not violations, "remote.py must work without a workspace:\n" + "\n".join(map(str, violations))
    synthetic = "from ...errors import MlwsError\nfrom ..workspace import Workspace\nfrom ..services import Services\n"
    found = outside_allowed(synthetic, "jupyter_mlws.core.runs.fake", "fake.py", REMOTE_RUN_MAY_IMPORT)
    assert {v.line for v in found} == {2, 3}, "\n".join(map(str, found))
