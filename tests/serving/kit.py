"""What the deployment tests share: a workspace with a small scikit-learn model registered twice, entry
scripts, keep-alive HTTP calls, and a module-scoped cleanup that stops every service a module deployed."""

from __future__ import annotations

import http.client
import json
import os
import pickle
import signal
from pathlib import Path

from jupyter_mlws import Model, Webservice, Workspace
from jupyter_mlws.compute.agent import stop as stop_agent

TIMEOUT = 60.0

SCORE = """\
import json, os, pickle
from jupyter_mlws import Model

model = None


def init():
    global model
    with open(Model.get_model_path("iris"), "rb") as f:
        model = pickle.load(f)


def run(raw_data):
    rows = json.loads(raw_data)["data"]
    return {"models": os.environ["MLWS_MODELS"], "predictions": model.predict(rows).tolist()}
"""

ROWS = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]


def make_workspace(root: Path) -> Workspace:
    """A workspace with the model ``iris`` (versions 1 and 2) and ``src/score.py``."""
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    ws = Workspace.create(root / "ws")
    x, y = load_iris(return_X_y=True)
    model_file = root / "model.pkl"
    for max_iter in (200, 300):
        model_file.write_bytes(pickle.dumps(LogisticRegression(max_iter=max_iter).fit(x, y)))
        Model.register(ws, str(model_file), "iris")
    (root / "src").mkdir()
    (root / "src" / "score.py").write_text(SCORE)
    return ws


def cleanup(ws: Workspace) -> None:
    """Stop every service (their supervisors and workers) and the agent of ``ws``."""
    for service in Webservice.list(ws):
        try:
            service.delete()
        except Exception as exc:  # best effort: a test already failed
            print(f"could not delete {service.name}: {exc}")
    stop_agent(ws)


def post(port: int, body: str | bytes, key: str | None = None, path: str = "/score") -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    try:
        conn.request("POST", path, body, headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def body(rows: list[list[float]] = ROWS) -> str:
    return json.dumps({"data": rows})


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(p) for p in text]
    return found


def kill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)
