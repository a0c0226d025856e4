"""``mlws deploy`` and ``mlws services list | show | logs | keys | update | delete``, and ``%mlws
services`` / ``%mlws service NAME`` (issue 17), through the installed command on a real local service.

The module deploys one service (``cli-svc``, a scikit-learn model) with ``--no-wait``, waits for it,
then reads, calls, redeploys (``--overwrite``, waiting: the MLflow-shape server), updates and finally
deletes it; the fixture deletes it too if a test failed before. The CLI contract (DESIGN §6): every
list has ``--json``; errors are one line on stderr with exit 1, usage errors exit 2, never a traceback.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import pickle
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from jupyter_mlws import Model, Webservice, Workspace
from jupyter_mlws.cli import main
from jupyter_mlws.compute import agent
from jupyter_mlws.core.workspace import close_backends
from jupyter_mlws.errors import NotFoundError
from jupyter_mlws.magics.magics import Table
from tests.test_cli import Result, assert_one_line_error, mlws_command

NAME = "cli-svc"
ROW = [5.1, 3.5, 1.4, 0.2]  # an iris setosa: class 0
REPO = Path(__file__).resolve().parents[2]

SCORE = """\
import json, pickle
from jupyter_mlws import Model

def init():
    global model
    with open(Model.get_model_path("iris"), "rb") as f:
        model = pickle.load(f)

def run(raw):
    return model.predict(json.loads(raw)["data"]).tolist()
"""
BROKEN = "def init():\n    raise ValueError('no model here')\n\ndef run(raw):\n    return raw\n"


@dataclass
class World:
    ws: Workspace
    root: Path
    env: dict[str, str]
    deployed: Result  # what `mlws deploy ... --no-wait` printed

    def mlws(self, *argv: str) -> Result:
        """The installed ``mlws`` on this workspace, as a user runs it (from the workspace folder)."""
        proc = subprocess.run(
            [*mlws_command(), "--workspace", str(self.root), *argv],
            cwd=self.root,
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def cli(self, *argv: str) -> Result:
        """``mlws argv`` in this process (``main(argv)``), from the workspace folder: the quick way
        for the many reads; what only a process shows (streaming, exit codes of the console script,
        the curl line in a shell) goes through :meth:`mlws`."""
        out, err = io.StringIO(), io.StringIO()
        with contextlib.chdir(self.root), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code: int | str | None = main(["--workspace", str(self.root), *argv])
            except SystemExit as exc:
                code = exc.code
        return Result(code if isinstance(code, int) else (0 if code is None else 1), out.getvalue(), err.getvalue())

    def service(self) -> dict[str, Any]:
        shown = self.cli("services", "show", NAME, "--json")
        assert shown.code == 0, shown
        data: dict[str, Any] = shown.json()
        return data


def _post(uri: str, body: Any, key: str | None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {key}"} if key else {})
    request = urllib.request.Request(uri, data=json.dumps(body).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    root = tmp_path_factory.mktemp("serving-cli")
    ws = Workspace.create(root)
    x, y = load_iris(return_X_y=True)
    (root / "model.pkl").write_bytes(pickle.dumps(LogisticRegression(max_iter=300).fit(x, y)))
    Model.register(ws, root / "model.pkl", "iris")
    Model.register(ws, root / "model.pkl", "iris", tags={"second": "yes"})
    (root / "src").mkdir()
    (root / "src" / "score.py").write_text(SCORE)
    (root / "bad").mkdir()
    (root / "bad" / "score.py").write_text(BROKEN)
    # The command under test is this checkout's, whatever the interpreter has installed; its
    # supervisor and agent inherit the variables.
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "PYTHONPATH": path, "MLWS_AGENT_IDLE_SECONDS": "5"}
    env.pop("MLWS_WORKSPACE", None)
    world = World(ws, root, env, Result(0, "", ""))
    close_backends()
    world.deployed = world.mlws("deploy", "iris:1", "--entry", "src/score.py", "--name", NAME, "--no-wait")
    yield world
    with contextlib.suppress(NotFoundError):
        Webservice(ws, NAME).delete()
    agent.stop(ws)
    close_backends()


# -- deploy, then wait ----------------------------------------------------------------------------------------
def test_deploy_without_waiting_then_the_service_becomes_healthy(world: World) -> None:
    assert world.deployed.code == 0, world.deployed
    assert world.deployed.out.splitlines() == [
        f"Deploying {NAME} (Local): models iris:1",
        f"Follow it with: mlws --workspace {world.root} services show {NAME}  (or: services logs {NAME})",
    ]
    Webservice(world.ws, NAME).wait_for_deployment(timeout_sec=60)
    view = world.service()
    assert view["state"] == "Healthy" and view["error"] is None
    assert view["scoring_uri"] == f"http://127.0.0.1:{view['port']}/score"
    assert (view["compute_type"], view["models"], view["entry_script"]) == ("Local", ["iris:1"], "score.py")
    assert view["auth_enabled"] is True and view["generation"] == 1
    assert view["created_time"].endswith("Z")


def test_list_json_and_table(world: World) -> None:
    listed = world.cli("services", "list", "--json")
    assert listed.code == 0, listed
    (item,) = listed.json()
    assert item["name"] == NAME and item["state"] == "Healthy"
    assert set(item) >= {"name", "compute_type", "state", "scoring_uri", "models", "updated_time", "port"}
    assert world.cli("services", "list", "--model", "other", "--json").json() == []

    table = world.cli("services", "list")
    assert table.code == 0, table
    header, _, row = table.out.splitlines()
    assert header.split() == ["NAME", "KIND", "STATE", "URI", "MODELS", "UPDATED"]
    assert row.split()[:5] == [NAME, "Local", "Healthy", item["scoring_uri"], "iris:1"]


def test_show_keys_and_calling_with_the_key(world: World) -> None:
    shown = world.cli("services", "show", NAME)
    assert shown.code == 0, shown
    fields = dict(line.split(":", 1) for line in shown.out.splitlines())
    assert fields["state"].strip() == "Healthy" and fields["models"].strip() == "iris:1"
    assert fields["entry script"].strip() == "score.py"

    keys = world.cli("services", "keys", NAME, "--json").json()
    assert keys["auth_enabled"] is True and len(keys["primary_key"]) >= 32
    assert world.cli("services", "keys", NAME, "--primary").out.strip() == keys["primary_key"]
    text = world.cli("services", "keys", NAME).out
    assert f"primary:   {keys['primary_key']}" in text and f"secondary: {keys['secondary_key']}" in text

    uri = world.service()["scoring_uri"]
    assert _post(uri, {"data": [ROW]}, keys["primary_key"]) == (200, [0])
    assert _post(uri, {"data": [ROW]}, keys["secondary_key"]) == (200, [0])
    assert _post(uri, {"data": [ROW]}, None)[0] == 401


def test_logs_show_the_end_of_the_service_log(world: World) -> None:
    logs = world.cli("services", "logs", NAME)
    assert logs.code == 0, logs
    assert f"deploying {NAME}: models iris:1" in logs.out and "is ready" in logs.out
    tail = world.cli("services", "logs", NAME, "--lines", "2")
    assert len(tail.out.splitlines()) == 2 and logs.out.endswith(tail.out)


def test_deploy_overwrite_waits_and_prints_a_curl_line_that_works(world: World) -> None:
    """Without --entry: one pickled model with MLflow's request shapes. The printed lines, run in a
    shell with only the example row filled in, call the service with its key."""
    deployed = world.mlws("deploy", "iris:1", "--name", NAME, "--overwrite")
    assert deployed.code == 0, deployed
    out = deployed.out
    assert f"{NAME}: Healthy" in out  # the streamed service log ends with the state
    view = world.service()
    assert view["entry_script"] is None and view["generation"] == 2
    assert f"Scoring URI: {view['scoring_uri']}" in out
    lines = out.splitlines()
    call = [line.strip() for line in lines[lines.index(next(x for x in lines if x.startswith("Call it"))) + 1 :]]
    assert call[0] == f"KEY=$(mlws --workspace {world.root} services keys {NAME} --primary)"
    assert call[1].startswith(f'curl -s {view["scoring_uri"]} -H "Authorization: Bearer $KEY"')
    script = "\n".join(call).replace("[[...]]", json.dumps([ROW]))
    path = os.pathsep.join([str(Path(mlws_command()[0]).parent), world.env.get("PATH", "")])
    done = subprocess.run(
        ["bash", "-c", script], env={**world.env, "PATH": path}, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done
    assert json.loads(done.stdout) == {"predictions": [0]}


def test_update_models_and_code_and_a_failed_update_is_one_line(world: World) -> None:
    updated = world.cli("services", "update", NAME, "--model", "iris:2", "--entry", "src/score.py")
    assert updated.code == 0, updated
    assert updated.out.strip() == f"Updated {NAME} to generation 3: models iris:2"
    view = world.service()
    assert (view["models"], view["entry_script"], view["state"]) == (["iris:2"], "score.py", "Healthy")

    failed = world.mlws("services", "update", NAME, "--entry", "bad/score.py")
    line = assert_one_line_error(failed)
    assert "ValueError: no model here" in line and f"mlws services logs {NAME}" in line
    assert "generation 3 goes on serving" in line
    keys = world.cli("services", "keys", NAME, "--json").json()
    assert _post(view["scoring_uri"], {"data": [ROW]}, keys["primary_key"]) == (200, [0])


def test_bad_input_is_one_line(world: World) -> None:
    for argv, needles in [
        (("deploy", "nope", "--name", "other-svc"), ("'nope' is not registered", "mlws models list")),
        (("deploy", "iris:9", "--name", "other-svc"), ("no version 9",)),
        (("deploy", "iris", "--entry", "missing.py", "--name", "other-svc"), ("'missing.py' does not exist",)),
        (("deploy", "iris", "--entry", "nope.py", "--source", "src", "--name", "other-svc"), ("in 'src'",)),
        (("deploy", "iris", "--name", "Bad_Name"), ("invalid web service name 'Bad_Name'",)),
        (("deploy", "iris", "--name", NAME), ("already exists", "--overwrite")),
        (("services", "show", "no-such-svc"), ("no web service is named 'no-such-svc'", "mlws services list")),
        (("services", "logs", "no-such-svc"), ("no-such-svc",)),
        (("services", "keys", "no-such-svc"), ("no-such-svc",)),
        (("services", "update", "no-such-svc", "--model", "iris"), ("no-such-svc",)),
    ]:
        line = assert_one_line_error(world.cli(*argv))
        assert all(n in line for n in needles), (argv, line)
    for argv, prefix in [
        (("deploy", "iris"), "mlws deploy: usage error"),
        (("deploy", "iris", "--name", "x-svc", "--sample-rate", "0.5"), "mlws deploy: usage error: --sample-rate"),
        (("deploy", "iris", "--name", "x-svc", "--collect-inputs", "--sample-rate", "2"), "mlws deploy: usage error"),
        (("deploy", "iris", "--name", "x-svc", "--source", "src"), "mlws deploy: usage error: --source needs"),
        (("deploy", "iris", "--name", "x-svc", "--port", "http"), "mlws deploy: usage error"),
        (("services",), "mlws services: usage error"),
        (("services", "restart", NAME), "mlws services: usage error"),
        (("services", "update", NAME), "mlws services update: usage error: give what changes"),
        (("services", "logs", NAME, "--lines", "-1"), "mlws services logs: usage error"),
    ]:
        assert_one_line_error(world.cli(*argv), 2, prefix)
    # The installed command, as a user runs it: one line, the exit code, no traceback.
    for argv, code in [
        (("deploy", "nope", "--name", "other-svc"), 1),
        (("deploy", "iris", "--entry", "missing.py", "--name", "other-svc"), 1),
        (("deploy", "iris", "--name", "Bad_Name"), 1),
        (("deploy", "iris", "--name", "x-svc", "--source", "src"), 2),
    ]:
        assert_one_line_error(world.mlws(*argv), code, "mlws")
    assert [s["name"] for s in world.cli("services", "list", "--json").json()] == [NAME]


# -- the magic ----------------------------------------------------------------------------------------------------
@pytest.fixture
def shell(world: World) -> Iterator[InteractiveShell]:
    """The session's IPython shell with the magics, its workspace the module's."""
    from IPython.testing.globalipapp import get_ipython

    ip = get_ipython()
    ip.run_line_magic("load_ext", "jupyter_mlws")
    ip.run_line_magic("mlws", f"workspace {world.root}")
    yield ip
    magics: Any = ip.magics_manager.registry["MlwsMagics"]
    magics._workspace = None


def test_the_magic_shows_the_same_tables(shell: InteractiveShell, world: World) -> None:
    services: Any = shell.run_line_magic("mlws", "services")
    assert isinstance(services, Table) and services.headers == ["Name", "Kind", "State", "URI", "Models", "Updated"]
    view = world.service()
    assert services.rows == [[NAME, "Local", "Healthy", view["scoring_uri"], "iris:2", services.rows[0][5]]]
    assert "<table>" in services._repr_html_() and NAME in repr(services)
    one: Any = shell.run_line_magic("mlws", f"service {NAME}")
    fields = dict(one.rows)
    assert (fields["state"], fields["models"], fields["scoring uri"]) == ("Healthy", "iris:2", view["scoring_uri"])
    assert one.title == f"Web service {NAME}: Healthy"
    for line in ("service no-such-svc", "service", "services extra"):
        with pytest.raises(UsageError):
            shell.run_line_magic("mlws", line)


# -- delete (last: the module's service goes) -----------------------------------------------------------------
def test_delete_asks_for_yes_then_the_service_is_gone(world: World) -> None:
    uri = world.service()["scoring_uri"]
    refused = world.mlws("services", "delete", NAME)
    assert "pass --yes" in assert_one_line_error(refused, 2, "mlws services delete: usage error")
    deleted = world.mlws("services", "delete", NAME, "--yes")
    assert deleted.code == 0 and deleted.out.strip() == f"Deleted {NAME}", deleted
    assert world.cli("services", "list", "--json").json() == []
    assert_one_line_error(world.cli("services", "show", NAME))
    with pytest.raises(urllib.error.URLError):
        _post(uri, {"data": [ROW]}, None)
