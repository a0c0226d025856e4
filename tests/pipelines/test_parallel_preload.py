"""A ParallelRunStep's local pool starts with the entry script's imports done (issue 19): the modules
it imports at its top level are imported once, by a fork server, and the pool's processes are forked
from it (``jupyter_mlws.core.preload``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from jupyter_mlws.pipelines import parallel_runner as pr

ENTRY = """
import json, os.path as osp
from typing import TYPE_CHECKING
from numpy import linalg
from .relative import thing
import helper
from utils.model import Thing
try:
    import a_module_nobody_has
except ImportError:
    import csv
else:
    import math
if True:
    from collections import abc
if TYPE_CHECKING:
    import never_at_import
if __name__ == "__main__":
    import nor_this


def init():
    import inside_a_function
"""


def test_entry_imports_are_the_scripts_top_level_absolute_imports(tmp_path: Path) -> None:
    entry = tmp_path / "score.py"
    entry.write_text(ENTRY)
    assert pr.entry_imports(entry) == [
        "json", "os.path", "typing", "numpy", "helper", "utils.model", "a_module_nobody_has", "csv", "math",
        "collections",
    ]  # fmt: skip
    broken = tmp_path / "broken.py"
    broken.write_text("import json\ndef run(:\n")
    assert pr.entry_imports(broken) == []  # its import reports the syntax error, as before
    assert pr.entry_imports(tmp_path / "missing.py") == []


def test_the_pool_preloads_the_runner_pandas_and_the_libraries_not_the_scripts_own_modules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = tmp_path / "score.py"
    entry.write_text(ENTRY)
    # Beside the entry script, importable (its folder is on the path, as in a job): its own code, which
    # only its init() runs, is not preloaded; a module and a namespace package alike.
    (tmp_path / "helper.py").write_text("X = 1\n")
    (tmp_path / "utils").mkdir()
    (tmp_path / "utils" / "model.py").write_text("Thing = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    tabular = {"sales": SimpleNamespace(to_pandas_dataframe=lambda: None)}  # a tabular input's shape
    preload = pr._preload(tabular, entry, tmp_path)
    assert preload == [
        "jupyter_mlws.pipelines.parallel_runner", "pandas", "json", "os.path", "typing", "numpy", "csv", "math",
        "collections",
    ]  # fmt: skip
    files = {"images": str(tmp_path)}  # a file dataset's value is its folder: no pandas
    assert "pandas" not in pr._preload(files, entry, tmp_path)


PROBE = """
import json, os, sys

def probe(_: object) -> list:
    return [os.getpid(), "counted" in sys.modules, sys.modules["__main__"].__name__]

if __name__ == "__main__":
    from jupyter_mlws.core.preload import preloaded_pool

    with preloaded_pool(2, ["broken", "counted"]) as pool:
        print(json.dumps(list(pool.map(probe, range(6)))))
"""


def test_the_pools_processes_are_forked_with_the_modules_imported_once(tmp_path: Path) -> None:
    package = tmp_path / "probes"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "main.py").write_text(PROBE)
    (tmp_path / "counted.py").write_text(
        textwrap.dedent(f"""
        import os
        with open({str(tmp_path / "imports.txt")!r}, "a") as f:
            f.write(f"{{os.getpid()}}\\n")
        """)
    )
    (tmp_path / "broken.py").write_text("raise RuntimeError('this module cannot be imported here')\n")
    done = subprocess.run(
        [sys.executable, "-m", "probes.main"], cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr, done.stderr  # the -m module is not run again in each process
    answers: list[list[Any]] = json.loads(done.stdout)
    workers = {pid for pid, _, _ in answers}
    assert 1 <= len(workers) <= 2
    assert all(loaded for _, loaded, _ in answers)  # imported before the task asked for it...
    importers = (tmp_path / "imports.txt").read_text().split()
    assert len(importers) == 1 and int(importers[0]) not in workers  # ...once, by the fork server
    assert {main for _, _, main in answers} == {"probes.main"}  # the module, imported, is __main__


EARLY = """
import json, os, sys

from jupyter_mlws.core.preload import preloaded_pool
from jupyter_mlws.pipelines import parallel_runner as pr


def probe(_: object) -> list:
    return [os.getpid(), "counted" in sys.modules]


if __name__ == "__main__":
    pr._start_pool_early({"entry_script": "entry.py"})  # as the runner's main() does, before the workspace opens
    with preloaded_pool(1, []) as pool:  # run_step's pool, later: forked from the fork server started early
        print(json.dumps(pool.submit(probe, 0).result()))
"""


@pytest.mark.parametrize("pool", ["processes", "cluster", None])
def test_the_runner_starts_its_local_pools_fork_server_before_it_opens_the_workspace(
    tmp_path: Path, pool: str | None
) -> None:
    from jupyter_mlws import Workspace
    from jupyter_mlws.core.layout import ENV_TASK_POOL

    ws = Workspace.create(tmp_path / "ws")
    step = tmp_path / "step"  # the job's working folder: the entry script, importing a library
    step.mkdir()
    (step / "entry.py").write_text("import counted\n\ndef init():\n    pass\n")
    (step / "early.py").write_text(EARLY)
    library = tmp_path / "library"  # installed elsewhere: preloaded
    library.mkdir()
    (library / "counted.py").write_text(
        f"import os\nwith open({str(tmp_path / 'imports.txt')!r}, 'a') as f:\n    f.write(f'{{os.getpid()}}\\n')\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(library), str(step), *sys.path])}
    env.update({"MLWS_WORKSPACE": str(ws.root), "MLWS_RUN_ID": "early-run"})
    env.pop(ENV_TASK_POOL, None)
    if pool is not None:
        env[ENV_TASK_POOL] = pool
    done = subprocess.run(
        [sys.executable, "early.py"], cwd=step, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    worker, loaded = json.loads(done.stdout)
    if pool == "processes":  # a pool of this machine's processes: its fork server imported the library at once
        assert loaded
        (importer,) = (tmp_path / "imports.txt").read_text().split()
        assert int(importer) != worker
    else:  # a cluster's job (or a job that does not say): no fork server started early, nothing imported for it
        assert not loaded
        assert not (tmp_path / "imports.txt").exists()


def test_the_store_modules_are_named_without_importing_them(tmp_path: Path) -> None:
    from jupyter_mlws import Workspace
    from jupyter_mlws.core.registry import store_modules

    ws = Workspace.create(tmp_path / "ws")
    probe = (
        "import json, sys\n"
        "from jupyter_mlws.core.locator import job_store_modules\n"
        "named = job_store_modules()\n"
        "print(json.dumps([named, [m for m in named if m in sys.modules], 'sqlalchemy' in sys.modules]))\n"
    )
    env = {**os.environ, "MLWS_WORKSPACE": str(ws.root)}
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    in_a_job, imported, sqlalchemy = json.loads(done.stdout)
    assert (imported, sqlalchemy) == ([], False)  # named from the workspace's config: nothing imported
    named = store_modules(ws.metadata_url, ws.artifact_url)
    assert in_a_job == named
    # The modules the opened stores come from (a package names its modules' classes too).
    assert type(ws.metadata).__module__.startswith(named[0])
    assert type(ws.artifacts).__module__.startswith(named[1])
    team = store_modules("postgresql+psycopg://db.example/mlws", "s3://bucket/prefix")
    assert team == [named[0], "jupyter_mlws.stores.artifacts.fsspec_store"]
    assert store_modules("sqlite:///x.db", "file:///srv/artifacts")[1] == named[1]


def test_a_job_is_told_where_its_tasks_run(tmp_path: Path) -> None:
    from jupyter_mlws.compute.dask import DaskJob
    from jupyter_mlws.compute.local import LocalJob, job_variables
    from jupyter_mlws.core.layout import ENV_TASK_POOL, LOCAL_TASK_POOL

    def told(task_pool: str) -> str:
        return job_variables({}, "run-1", str(tmp_path), tmp_path, tmp_path / "error.json", task_pool)[ENV_TASK_POOL]

    assert LocalJob.task_pool == LOCAL_TASK_POOL and told(LocalJob.task_pool) == LOCAL_TASK_POOL
    # A Dask job's runner fans out to the cluster: it starts no pool of its own.
    assert DaskJob.task_pool != LOCAL_TASK_POOL and told(DaskJob.task_pool) == DaskJob.task_pool
    spec = {"environment_variables": {ENV_TASK_POOL: LOCAL_TASK_POOL}}  # a step's own variables cannot say otherwise
    assert (
        job_variables(spec, "run-1", str(tmp_path), tmp_path, tmp_path / "e", DaskJob.task_pool)[ENV_TASK_POOL]
        == DaskJob.task_pool
    )


def test_tabular_mini_batches_are_the_groups_and_a_task_carries_its_rows_once(tmp_path: Path) -> None:
    import pickle

    import numpy as np
    import pandas as pd

    df = pd.DataFrame(
        {
            "region": pd.Series(["b", "a", "b", None, "a", "b", None, "a"], dtype=object),
            "store": [2.0, 1.0, 1.0, 3.0, 1.0, 2.0, 3.0, 2.0],
            "sales": np.arange(8.0),
        }
    )
    settings = {"inputs": ["sales"], "partition_keys": ["region", "store"]}
    table = SimpleNamespace(to_pandas_dataframe=lambda: df)
    batches = pr.split_inputs({"sales": table}, settings, tmp_path)
    expected = list(df.groupby(["region", "store"], sort=True, dropna=False))
    assert [b.index for b in batches] == list(range(len(expected)))
    for batch, (key, frame) in zip(batches, expected, strict=True):
        assert batch.tags == {"region": str(key[0]), "store": pr._text(key[1])}
        assert batch.display_name == f"region={key[0]}, store={pr._text(key[1])}"
        pd.testing.assert_frame_equal(batch.data.frame(), frame.reset_index(drop=True))
    assert [b.display_name for b in batches][-1] == "region=nan, store=3"  # a missing key is a partition too
    # A task's mini-batches share one frame of just their rows: pickled once, not a frame each.
    packed = pr._packed(batches[1:4])
    assert all(p.source is packed[0].source for p in packed) and len(packed[0].source) == sum(
        len(b.data.frame()) for b in batches[1:4]
    )
    for p, batch in zip(pickle.loads(pickle.dumps(packed)), batches[1:4], strict=True):
        pd.testing.assert_frame_equal(p.frame(), batch.data.frame())
    # A categorical key: its categories that have rows, in the categories' order.
    df["kind"] = pd.Categorical(["y", "x", "y", "x", "y", "y", "x", "x"], categories=["z", "y", "x", "w"])
    by_kind = pr.split_inputs({"sales": table}, {"inputs": ["sales"], "partition_keys": ["kind"]}, tmp_path)
    assert [b.tags for b in by_kind] == [{"kind": "y"}, {"kind": "x"}]
    for batch, (_key, frame) in zip(by_kind, df.groupby("kind", observed=True), strict=True):
        pd.testing.assert_frame_equal(batch.data.frame(), frame.reset_index(drop=True))
    # By size: consecutive rows, the last batch shorter.
    sized = pr.split_inputs({"sales": table}, {"inputs": ["sales"], "mini_batch_size": "80"}, tmp_path)
    assert len(sized) > 1
    assert pd.concat([b.data.frame() for b in sized], ignore_index=True).equals(df)
