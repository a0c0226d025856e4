"""Runs inside a notebook job: papermill executes the notebook, reporting which cell runs.

``python -m jupyter_mlws.compute.notebook_runner NOTEBOOK OUTPUT --kernel NAME [--pooled-kernel FILE]``
with the parameters as JSON in ``MLWS_NOTEBOOK_PARAMETERS``; ``--pooled-kernel``: a pre-started
kernel's description, written by the supervisor of a job whose runner is not a fork of it (a venv's
interpreter). The executed notebook is written to OUTPUT even when a cell fails (papermill saves it as
it goes); the failing cell's number, exception and traceback go to the file named by
``MLWS_ERROR_FILE`` for the run's error details. Values recorded with scrapbook's ``glue`` become
metrics of the run.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .kernel_pool import PooledKernel

__all__ = ["main"]

SCRAP_MIME = "application/scrapbook.scrap.json+json"
SAVE_EVERY_S = 1.0  # how often the output notebook is written while it runs (papermill: every cell, twice)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")  # IPython colours its tracebacks; error details are plain text


_progress: dict[str, int] = {}  # the code cell executing now (1-based), for a kernel that dies


def _execute_pooled(execute: Any, kernel: PooledKernel, kernel_name: str) -> None:
    """papermill on a pre-started kernel: nbclient takes our kernel manager as ``km`` and runs the
    set-up as its ``on_notebook_start`` hook, before the first cell."""
    from papermill.exceptions import PapermillExecutionError

    from . import kernel_pool

    km = kernel_pool.attached_manager(kernel, kernel_name)
    hook = kernel_pool.bootstrap_hook(km, kernel, os.getcwd(), dict(os.environ), timeout=60)
    print(f"Using a pre-started {kernel_name} kernel (pid {kernel.pid})", flush=True)
    idle = False  # the kernel has finished the job's cells (all of them, or up to a failing one)
    with kernel_pool.kernel_log_to_stdout(kernel):
        try:
            # The cells done, the kernel is finished at once: it exits while papermill writes the
            # executed notebook (the last cell's outcome is already known, failed or not).
            execute(km=km, on_notebook_start=hook, mlws_cells_done=kernel.finish)
            idle = True
        except Exception as exc:
            if hook.ready:
                idle = isinstance(exc, PapermillExecutionError)
                raise  # the job's own cells ran: their outcome is the job's
            # It died while pooled, or never answered: no cell has run, so a fresh kernel can.
            kernel.kill()
            print(f"the pre-started kernel was not usable ({exc}): starting a fresh kernel instead", flush=True)
            execute()
        finally:
            # Used for exactly one job, then shut down; its exit handlers run, as a fresh kernel's do.
            # Idle, it writes what it buffered and is asked to shut down, without a wait for its exit;
            # else (it died, the job is canceled mid-cell) it is shut down the way nbclient would.
            if not (idle and kernel.finish()):
                kernel.shut_down()


def _progress_engine(run: Any) -> type:
    from papermill.engines import NBClientEngine

    class ProgressEngine(NBClientEngine):  # type: ignore[misc]
        """papermill's nbclient engine that also tells the run which cell is executing."""

        @classmethod
        def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, **kwargs: Any) -> Any:
            cells_done = kwargs.pop("mlws_cells_done", None)  # ours, not nbclient's
            start = nb_man.cell_start
            total = sum(1 for cell in nb_man.nb.cells if cell.cell_type == "code")
            seen = {"n": 0}

            def cell_start(cell: Any, cell_index: int | None = None, **kw: Any) -> Any:
                if cell.cell_type == "code":
                    # Every code cell: one small write, and the tag always names the cell running now.
                    seen["n"] += 1
                    _progress["cell"] = seen["n"]
                    run.tag("mlws.progress", f"cell {seen['n']} of {total}")
                return start(cell, cell_index, **kw)

            nb_man.cell_start = cell_start
            save = nb_man.save
            saved = {"at": -SAVE_EVERY_S}

            def save_now_and_then(**kw: Any) -> Any:
                # papermill saves the notebook as each cell starts and ends (validating it each time:
                # a tenth of a small job); the executed notebook as it stands is written at most every
                # SAVE_EVERY_S here. papermill itself writes the final one, also when a cell fails.
                if time.monotonic() - saved["at"] >= SAVE_EVERY_S:
                    saved["at"] = time.monotonic()
                    return save(**kw)
                return None

            nb_man.save = save_now_and_then
            result = super().execute_managed_notebook(nb_man, kernel_name, **kwargs)
            if cells_done is not None:
                cells_done()
            return result

    return ProgressEngine


def _glued(output: Path) -> dict[str, float]:
    """Numeric values recorded with scrapbook.glue in the executed notebook."""
    try:
        notebook = json.loads(output.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    values: dict[str, float] = {}
    for cell in notebook.get("cells", []):
        for out in cell.get("outputs", []):
            scrap = out.get("data", {}).get(SCRAP_MIME)
            if not isinstance(scrap, dict):
                continue
            value = scrap.get("data")
            if isinstance(value, int | float) and not isinstance(value, bool) and isinstance(scrap.get("name"), str):
                values[scrap["name"]] = float(value)
    return values


def preload() -> None:
    """What :func:`main` imports, imported now: the agent calls it so that runners it forks start with
    it loaded."""
    import papermill  # noqa: F401
    from nbclient.exceptions import DeadKernelError  # noqa: F401
    from papermill.engines import papermill_engines  # noqa: F401
    from papermill.exceptions import PapermillExecutionError  # noqa: F401

    from jupyter_mlws import Run  # noqa: F401
    from jupyter_mlws.core.services import queries, views  # noqa: F401 - Run.get_context's, imported on first use


def main(argv: list[str] | None = None, kernel: PooledKernel | None = None) -> int:
    """Run the notebook; ``kernel``: a pre-started kernel from the agent's pool (issue 22), used for
    this job only and shut down after it. If it cannot be prepared (it died while pooled), no cell
    has run yet and the job starts a fresh kernel instead."""
    parser = argparse.ArgumentParser(prog="jupyter_mlws.compute.notebook_runner")
    parser.add_argument("notebook")
    parser.add_argument("output")
    parser.add_argument("--kernel", required=True)
    parser.add_argument("--pooled-kernel", help="a pre-started kernel's description (read once, then removed)")
    args = parser.parse_args(argv)
    if args.pooled_kernel is not None:
        from .kernel_pool import read_description

        kernel = read_description(args.pooled_kernel)
    parameters = json.loads(os.environ.get("MLWS_NOTEBOOK_PARAMETERS", "{}"))

    import papermill
    from nbclient.exceptions import DeadKernelError
    from papermill.engines import papermill_engines
    from papermill.exceptions import PapermillExecutionError

    from jupyter_mlws import Run

    # papermill reports cell output through logging: send it to stdout, the run's driver log.
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    run = Run.get_context()
    papermill_engines.register("mlws", _progress_engine(run))
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    code = 0

    def execute(**engine_kwargs: Any) -> None:
        papermill.execute_notebook(
            args.notebook,
            str(output),
            parameters=parameters,
            kernel_name=args.kernel,
            engine_name="mlws",
            progress_bar=False,
            log_output=True,  # cell output goes to the driver log as it comes
            cwd=os.getcwd(),
            **engine_kwargs,
        )

    try:
        if kernel is None:
            execute()
        else:
            _execute_pooled(execute, kernel, args.kernel)
    except PapermillExecutionError as exc:
        details = {
            "message": f"cell {exc.cell_index} raised {exc.ename}: {exc.evalue}",
            "cell_index": exc.cell_index,
            "exec_count": exc.exec_count,
            "ename": exc.ename,
            "evalue": exc.evalue,
            "traceback": _ANSI.sub("", "\n".join(exc.traceback)),
        }
        _report(details)
        print(f"Notebook failed: {details['message']}", file=sys.stderr)
        code = 1
    except DeadKernelError as exc:
        # The kernel died under a cell (killed, out of memory): this job fails, naming why.
        cell = _progress.get("cell")
        where = f" while running cell {cell}" if cell else ""
        details = {"message": f"the notebook's kernel died{where} ({exc})", "reason": "kernel_died"}
        _report(details)
        print(f"Notebook failed: {details['message']}", file=sys.stderr)
        code = 1
    finally:
        glued = _glued(output)
        if glued and hasattr(run, "log_batch"):
            run.log_batch(metrics=[(name, value, None) for name, value in glued.items()])
        if hasattr(run, "flush"):
            run.flush()
    return code


def _report(details: dict[str, Any]) -> None:
    target = os.environ.get("MLWS_ERROR_FILE")
    if target:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        Path(target).write_text(json.dumps(details), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
