"""A small real web service for tests: a linear model (a JSON file of weights) served by an entry
script, deployed as a local service. ``{"data": [[1, 2, 3, 4]]}`` scores ``[30.0]``; a body without
``data`` makes run() raise (the service answers 500)."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from jupyter_mlws import InferenceConfig, LocalWebservice, Model, Webservice, Workspace
from jupyter_mlws.errors import WebserviceException

SCORE = """\
import json
import os
from pathlib import Path


def init():
    global weights
    weights = json.loads((Path(os.environ["MLWS_MODEL_DIR"]) / "weights.json").read_text())["w"]


def run(raw):
    rows = json.loads(raw)["data"]
    return [float(sum(w * x for w, x in zip(weights, row))) for row in rows]
"""
BROKEN = "def init():\n    raise RuntimeError('this model cannot load')\n\n\ndef run(raw):\n    return raw\n"
SAMPLE = {"data": [[1, 2, 3, 4]]}
SAMPLE_SCORE = [30.0]


def deploy_linear(ws: Workspace, scratch: Path, name: str, broken: bool = False) -> Webservice:
    """Register the weights (model ``lin``) and deploy a service of them; returns once it is Healthy
    (or, ``broken``, once it failed: init() raises)."""
    source = scratch / f"src-{name}"
    source.mkdir(parents=True, exist_ok=True)
    (source / "score.py").write_text(BROKEN if broken else SCORE)
    weights = scratch / "weights.json"
    weights.write_text(json.dumps({"w": [1, 2, 3, 4]}))
    model = Model.register(ws, str(weights), "lin")
    service = Model.deploy(
        ws,
        name,
        [model],
        InferenceConfig(entry_script="score.py", source_directory=str(source)),
        LocalWebservice.deploy_configuration(description=f"{name}: a linear model", tags={"team": "tests"}),
    )
    if broken:
        with contextlib.suppress(WebserviceException):  # it is meant to fail
            service.wait_for_deployment(timeout_sec=60)
    else:
        service.wait_for_deployment(timeout_sec=60)
    return service
