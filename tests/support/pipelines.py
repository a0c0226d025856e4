"""A small fan-in pipeline for the surface tests (REST, fuzz, browser): ``load`` and ``features``
each write an output, ``train`` reads both (the fan-in) and writes a model, ``report`` reads it.

Step scripts live under ``<root>/<folder>/<step>/`` (a step's code is its whole source folder). A
``gate`` file makes ``train`` wait until it exists: a test can hold a pipeline run with a step
running, then release it.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from jupyter_mlws import Pipeline, PipelineData, PythonScriptStep, Workspace

STEPS = ("load", "features", "train", "report")
EDGES = (("load", "train"), ("features", "train"), ("train", "report"))

_WRITE = """\
import argparse
from pathlib import Path
p = argparse.ArgumentParser(); p.add_argument("--out")
a = p.parse_args()
(Path(a.out) / "part.txt").write_text({text!r})
print("wrote", {text!r})
"""

_TRAIN = """\
import argparse, time
from pathlib import Path
p = argparse.ArgumentParser()
p.add_argument("--raw"); p.add_argument("--features"); p.add_argument("--out"); p.add_argument("--gate")
a = p.parse_args()
while a.gate and not Path(a.gate).exists():  # held by a test until it releases the gate
    time.sleep(0.05)
text = (Path(a.raw) / "part.txt").read_text() + (Path(a.features) / "part.txt").read_text()
(Path(a.out) / "model.txt").write_text(text)
print("trained on", text)
"""

_REPORT = """\
import argparse
from pathlib import Path
p = argparse.ArgumentParser(); p.add_argument("--model")
a = p.parse_args()
print("model:", (Path(a.model) / "model.txt").read_text())
"""


def fan_in_pipeline(ws: Workspace, root: Path, folder: str = "pipe", gate: Path | None = None) -> Pipeline:
    """The four-step pipeline (``load``, ``features`` → ``train`` → ``report``), its scripts written
    under ``root/folder``. With ``gate``, ``train`` waits for that file to exist."""
    base = root / folder
    bodies = {
        "load": _WRITE.format(text="raw;"),
        "features": _WRITE.format(text="features;"),
        "train": _TRAIN,
        "report": _REPORT,
    }
    for name, body in bodies.items():
        (base / name).mkdir(parents=True, exist_ok=True)
        (base / name / f"{name}.py").write_text(textwrap.dedent(body))
    raw, features, model = PipelineData("raw"), PipelineData("features"), PipelineData("model")
    load = PythonScriptStep(
        "load.py", name="load", arguments=["--out", raw], outputs=[raw], source_directory=str(base / "load")
    )
    feats = PythonScriptStep(
        "features.py",
        name="features",
        arguments=["--out", features],
        outputs=[features],
        source_directory=str(base / "features"),
    )
    train_args: list[object] = ["--raw", raw, "--features", features, "--out", model]
    if gate is not None:
        train_args += ["--gate", str(gate)]
    train = PythonScriptStep(
        "train.py",
        name="train",
        arguments=train_args,
        outputs=[model],
        source_directory=str(base / "train"),
    )
    report = PythonScriptStep(
        "report.py", name="report", arguments=["--model", model], source_directory=str(base / "report")
    )
    return Pipeline(ws, [load, feats, train, report], description=f"fan-in {folder}")
