"""Runs inside a notebook job: papermill executes the notebook, reporting which cell runs.

``python -m jupyter_mlws.compute.notebook_runner NOTEBOOK OUTPUT --kernel NAME`` with the parameters
as JSON in ``MLWS_NOTEBOOK_PARAMETERS``. The executed notebook is written to OUTPUT even when a cell
fails (papermill saves it as it goes); the failing cell's number, exception and traceback go to the
file named by ``MLWS_ERROR_FILE`` for the run's error details. Values recorded with scrapbook's
``glue`` become metrics of the run.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from pathlib import Path
from typing import Any

__all__ = ["main"]

SCRAP_MIME = "application/scrapbook.scrap.json+json"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")  # IPython colours its tracebacks; error details are plain text


def _progress_engine(run: Any) -> type:
    from papermill.engines import NBClientEngine

    class ProgressEngine(NBClientEngine):  # type: ignore[misc]
        """papermill's nbclient engine that also tells the run which cell is executing."""

        @classmethod
        def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, **kwargs: Any) -> Any:
            start = nb_man.cell_start
            total = sum(1 for cell in nb_man.nb.cells if cell.cell_type == "code")
            seen = {"n": 0}

            def cell_start(cell: Any, cell_index: int | None = None, **kw: Any) -> Any:
                if cell.cell_type == "code":
                    # Every code cell: one small write, and the tag always names the cell running now.
                    seen["n"] += 1
                    run.tag("mlws.progress", f"cell {seen['n']} of {total}")
                return start(cell, cell_index, **kw)

            nb_man.cell_start = cell_start
            return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="jupyter_mlws.compute.notebook_runner")
    parser.add_argument("notebook")
    parser.add_argument("output")
    parser.add_argument("--kernel", required=True)
    args = parser.parse_args(argv)
    parameters = json.loads(os.environ.get("MLWS_NOTEBOOK_PARAMETERS", "{}"))

    import papermill
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
    try:
        papermill.execute_notebook(
            args.notebook,
            str(output),
            parameters=parameters,
            kernel_name=args.kernel,
            engine_name="mlws",
            progress_bar=False,
            log_output=True,  # cell output goes to the driver log as it comes
            cwd=os.getcwd(),
        )
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
