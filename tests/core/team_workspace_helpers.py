"""One member's side of a team workspace (issue 19), run in the test process and in a subprocess that
shares nothing with it but the database and object store URLs.

``write(ws, who, folder)`` records one of everything under names that carry ``who``;
``describe(ws, who)`` reads all of it back as plain JSON-able values. The test compares the
descriptions each member makes of the same member's work.

Run as ``python -m tests.core.team_workspace_helpers ROOT METADATA_URL ARTIFACT_URL WHO OTHER``: opens
(creates) its own workspace folder ``ROOT`` on those URLs, writes its side, waits for nothing, and prints
``{"mine": describe(WHO), "theirs": describe(OTHER) or null}`` as one JSON line.
"""

from __future__ import annotations

import json
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from jupyter_mlws import (
    Dataset,
    Environment,
    Experiment,
    Model,
    Pipeline,
    PipelineData,
    PipelineRun,
    PythonScriptStep,
    ScriptRunConfig,
    Workspace,
)
from jupyter_mlws.errors import NotFoundError

TRAIN = """\
import os
from jupyter_mlws import Run

run = Run.get_context()
run.log("job_metric", 0.75)
os.makedirs("outputs", exist_ok=True)
with open("outputs/model.txt", "w") as f:
    f.write("trained by {who}")
print("job of {who} done")
"""

MAKE = """\
import argparse
from pathlib import Path
p = argparse.ArgumentParser(); p.add_argument("--out")
(Path(p.parse_args().out) / "part.txt").write_text("made by {who}")
"""

USE = """\
import argparse
from pathlib import Path
from jupyter_mlws import Run
p = argparse.ArgumentParser(); p.add_argument("--data")
text = (Path(p.parse_args().data) / "part.txt").read_text()
Run.get_context().log("used_chars", len(text))
print("used", text)
"""


def write(ws: Workspace, who: str, folder: Path) -> None:
    """A run with metrics and files, a model, a dataset, an environment and a snapshot-bearing job."""
    folder.mkdir(parents=True, exist_ok=True)
    notes = folder / "notes.txt"
    notes.write_text(f"notes of {who}\n")
    exp = Experiment(ws, f"team-{who}")
    with exp.start_logging(display_name=f"interactive {who}") as run:
        run.log("acc", 0.5)
        run.log("acc", 0.9)
        run.log_list("loss", [3.0, 2.0, 1.0])
        run.log_row("table", epoch=1, score=0.25)
        run.log_param("lr", "0.01")
        run.tag("who", who)
        run.upload_file("outputs/notes.txt", str(notes))
        run.register_model(f"model-{who}", model_path="outputs/notes.txt", tags={"who": who})

    import pandas as pd

    frame = pd.DataFrame({"store": ["1042", "7"], "sales": [10.5, 3.0]})
    Dataset.Tabular.register_pandas_dataframe(
        frame, ws.get_default_datastore().path(f"sales/{who}"), f"sales-{who}", show_progress=False
    )

    env = Environment(f"env-{who}")
    env.python.user_managed_dependencies = True
    env.environment_variables = {"MEMBER": who}
    env.register(ws)

    source = folder / "src"
    source.mkdir(exist_ok=True)
    (source / "train.py").write_text(TRAIN.format(who=who))
    (source / "helper.txt").write_text("part of the snapshot\n")
    job = exp.submit(ScriptRunConfig(source_directory=str(source), script="train.py"), tags={"kind": "job"})

    steps = folder / "steps"
    steps.mkdir(exist_ok=True)
    (steps / "make.py").write_text(MAKE.format(who=who))
    (steps / "use.py").write_text(USE)
    data = PipelineData("part")
    make = PythonScriptStep(
        "make.py", name="make", arguments=["--out", data], outputs=[data], source_directory=str(steps)
    )
    use = PythonScriptStep("use.py", name="use", arguments=["--data", data], inputs=[data], source_directory=str(steps))
    pipeline_run = Experiment(ws, f"pipe-{who}").submit(Pipeline(ws, [make, use]))
    job.wait_for_completion(timeout=120)
    pipeline_run.wait_for_completion(timeout=120)


def describe(ws: Workspace, who: str) -> dict[str, Any]:
    """Everything ``write(…, who, …)`` recorded, as read from ``ws`` (through downloads into a scratch
    folder removed afterwards)."""
    with tempfile.TemporaryDirectory(prefix="team-describe-") as scratch:
        return _describe(ws, who, Path(scratch))


def _describe(ws: Workspace, who: str, scratch: Path) -> dict[str, Any]:
    exp = Experiment(ws, f"team-{who}")
    runs = sorted(exp.get_runs(), key=lambda r: r.number)
    described = []
    for run in runs:
        files = {}
        for name in sorted(run.get_file_names()):
            target = scratch / run.id / name
            run.download_file(name, str(target))
            files[name] = target.read_text(errors="replace")
        details = run.get_details()
        item: dict[str, Any] = {
            "id": run.id,
            "number": run.number,
            "status": run.status,
            "display_name": run.display_name,
            "tags": run.tags,
            "params": details["params"],
            "metrics": run.get_metrics(),
            "files": files,
        }
        if run.tags.get("kind") == "job":
            archive = Path(run.download_snapshot(scratch / f"{run.id}.zip"))
            with zipfile.ZipFile(archive) as zf:
                item["snapshot"] = {name: zf.read(name).decode() for name in sorted(zf.namelist())}
        described.append(item)
    model = Model(ws, f"model-{who}")
    model_file = Path(model.download(scratch / "model"))
    dataset = Dataset.get_by_name(ws, f"sales-{who}")
    env = Environment.get(ws, f"env-{who}")
    pipe = Experiment(ws, f"pipe-{who}")
    (found,) = pipe.get_runs()
    pipeline_run = PipelineRun(pipe, found.id)
    steps = []
    for step in pipeline_run.get_steps():
        outputs = {}
        for name, output in sorted(step.get_outputs().items()):
            folder = Path(output.download(str(scratch / step.id)))
            outputs[name] = {p.name: p.read_text() for p in sorted(folder.iterdir())}
        steps.append(
            {"id": step.id, "name": step.name, "status": step.status, "metrics": step.get_metrics(), "outputs": outputs}
        )
    return {
        "pipeline": {"id": pipeline_run.id, "status": pipeline_run.status, "steps": steps},
        "runs": described,
        "model": {
            "id": model.id,
            "version": model.version,
            "tags": model.tags,
            "run_id": model.run_id,
            "content": model_file.read_text(),
        },
        "dataset": {
            "id": dataset.id,
            "version": dataset.version,
            "frame": dataset.to_pandas_dataframe().to_dict("list"),
        },
        "environment": {"version": env.version, "variables": env.environment_variables},
    }


def main(argv: list[str]) -> int:
    root, metadata_url, artifact_url, who, other = argv
    ws = Workspace.create(root, metadata_url=metadata_url, artifact_url=artifact_url)
    try:
        theirs: dict[str, Any] | None = describe(ws, other)
    except NotFoundError:
        theirs = None
    write(ws, who, Path(root) / "work")
    print(json.dumps({"mine": describe(ws, who), "theirs": theirs}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
