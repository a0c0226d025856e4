"""A bounded property-based fuzz run: schemathesis generates requests from openapi.yaml (valid ones and,
in negative mode, invalid ones) against a real ``jupyter server`` process with a seeded workspace, and
checks that no response is a server error and every response conforms to the file (status code,
content type, body schema). The events stream never ends, so it is tested directly (test_events.py).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import secrets
import socket
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from cryptography.fernet import Fernet
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from jupyter_mlws import (
    DataDriftDetector,
    Experiment,
    Model,
    PipelineEndpoint,
    PublishedPipeline,
    Run,
    RunStatus,
    Schedule,
    ScheduleRecurrence,
)
from jupyter_mlws.core.interfaces.datasets import DatasetInputRecord
from jupyter_mlws.core.workspace import close_backends
from jupyter_mlws.data.dataset import Dataset
from jupyter_mlws.pipelines import schedules
from tests.server.apispec import SPEC
from tests.server.conftest import Seed, seed_workspace, stop_jobs
from tests.support.drift_weeks import drift_weeks
from tests.support.jupyter_env import isolated_server_env
from tests.support.pipelines import STEPS, fan_in_pipeline
from tests.support.serving import deploy_linear
from tests.support.sweeps import recorded_sweep

MAX_EXAMPLES = 25  # per operation and strategy
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]
NOT_FUZZED = {"/events"}  # an endless text/event-stream: tested directly
SERVICE = "fuzz-svc"  # a real local web service: the webservices routes reach it (the Test route scores)
MONITOR = "fuzz-monitor"  # a data-drift detector with a backfill: the monitors routes reach data
SECRET = "fuzz-secret"  # a workspace secret: no reply may ever hold its value
SECRET_VALUE = "fuzz-secret-value-5e0c9a"


@dataclass
class LiveServer:
    url: str  # the API root: http://127.0.0.1:<port>/mlws/api/v1
    token: str
    seed: Seed
    log: Path
    pipeline_run: str = ""
    sweep: str = ""
    drift_run: str = ""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def live_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    """``python -m jupyter_server`` on a free loopback port, its root a seeded workspace; stopped by pid."""
    root = tmp_path / "root"
    root.mkdir()
    seed = seed_workspace(root)
    _seed_datasets(seed, root)
    pipeline_run = _seed_pipeline_run(seed, root)
    _seed_pipelines(seed)
    sweep = recorded_sweep(seed.ws, tmp_path / "sweep-src")  # a sweep's records: the sweep route reaches data
    service = deploy_linear(seed.ws, tmp_path / "serving", SERVICE)
    drift_run = _seed_monitor(seed, tmp_path / "drift")
    monkeypatch.setenv("MLWS_SECRET_KEY", Fernet.generate_key().decode())  # the server inherits it
    seed.ws.get_default_keyvault().set_secret(SECRET, SECRET_VALUE)
    (root / "job.py").write_text("print('a fuzzed submission')\n")
    close_backends()  # the server process owns the database from now on
    token = secrets.token_hex(16)
    port = _free_port()
    home = tmp_path / "home"
    env = isolated_server_env(home)
    log = tmp_path / "server.log"
    command = [
        sys.executable,
        "-m",
        "jupyter_server",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.open_browser=False",
        "--ServerApp.allow_root=True",
        f"--IdentityProvider.token={token}",
    ]
    with open(log, "wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=tmp_path)
    server = LiveServer(f"http://127.0.0.1:{port}/mlws/api/v1", token, seed, log, pipeline_run, sweep, drift_run)
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            with contextlib.suppress(requests.ConnectionError):
                reply = requests.get(f"{server.url}/workspace", headers=_auth(token), timeout=5)
                if reply.status_code == 200 and reply.json()["exists"]:
                    break
            if time.monotonic() > deadline:
                pytest.fail(f"the server did not answer within 90 s:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        service.delete()
        stop_jobs(root)


def _seed_datasets(seed: Seed, root: Path) -> None:
    """A tabular dataset (two versions, the first used by a run and a model) and a file dataset, so that
    the dataset routes reach real data."""
    folder = root / "data" / "iris"
    folder.mkdir(parents=True)
    (folder / "a.csv").write_text("x,y,label\n1,2.5,a\n3,,b\n")
    first = Dataset.Tabular.from_delimited_files(str(folder / "*.csv")).register(seed.ws, "iris")
    # The run the fuzz reads answers an input dataset (RunDetail.input_datasets is checked too).
    record = DatasetInputRecord(seed.files_run, "training", first.id, first.name, first.version, first.digest, "direct")
    seed.ws.metadata.add_run_inputs(seed.files_run, [record])
    (folder / "b.csv").write_text("x,y,label\n5,6.5,c\n")
    Dataset.Tabular.from_delimited_files(str(folder / "*.csv")).register(seed.ws, "iris", create_new_version=True)
    Dataset.File.from_files(str(folder)).register(seed.ws, "iris-files")
    weights = root / "data" / "weights.bin"
    weights.write_bytes(b"w")
    Model.register(seed.ws, str(weights), "iris-model", datasets=[("training", first)])


def _seed_pipeline_run(seed: Seed, root: Path) -> str:
    """A pipeline run's records as the engine leaves them (its steps as child runs, one of them reused
    with its reason), made directly: the fuzz reads them, it needs no agent running steps."""
    definition = fan_in_pipeline(seed.ws, root, folder="fuzz-pipe")._definition()
    ids = {name: f"fuzzpipe_{name}" for name in STEPS}
    exp = Experiment(seed.ws, "pipes")
    parent = Run.create(
        exp,
        status=RunStatus.RUNNING,
        run_type="azureml.PipelineRun",
        properties={"azureml.runsource": "azureml.PipelineRun"},
        job_spec={"kind": "pipeline", "definition": definition, "steps": ids},
        display_name="fuzzed pipeline",
    )
    reuse = {
        "azureml.reusedRunId": seed.train[0],
        "mlws.reuse.reason": f"nothing it depends on changed since run {seed.train[0]}",
    }
    for name in STEPS:
        status = RunStatus.COMPLETED if name == "load" else RunStatus.NOT_STARTED
        properties = reuse if name == "load" else None
        Run.create(exp, status=status, parent=parent, run_id=ids[name], display_name=name, properties=properties)
    return parent.id


def _seed_pipelines(seed: Seed) -> None:
    """A published pipeline (and a disabled one), an endpoint over both and a schedule, so that the
    pipeline lists answer real items. The submission routes are fuzzed with generated ids (404s) and
    bodies (400s): submitting needs the pipeline engine, which these tests do not drive."""
    definition = {"steps": [{"name": "train"}], "parameters": {"lr": 0.1}}
    first = PublishedPipeline._create(seed.ws, "fuzzed", "a pipeline", "1", definition, None)
    second = PublishedPipeline._create(seed.ws, "fuzzed-off", None, None, definition, True)
    second.disable()
    PipelineEndpoint.publish(seed.ws, "fuzzed-endpoint", None, first).add(second)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(schedules, "_wake_agent", lambda ws: None)  # no agent: the server fires nothing due
        later = ScheduleRecurrence("Week", 1, start_time="2040-01-01T00:00:00", week_days=["Monday"], hours=[6])
        Schedule.create(seed.ws, "weekly", first.id, "scheduled", recurrence=later)


def _seed_monitor(seed: Seed, folder: Path) -> str:
    """A drift detector over three weeks of target and its backfill, ended: the id of a checked
    interval's run (the drift route reads its distributions; the detector page its intervals and checks)."""
    monday = dt.datetime(2026, 10, 26, tzinfo=dt.UTC)
    baseline_path, target_path = drift_weeks(folder, monday)
    baseline = Dataset.Tabular.from_parquet_files(str(baseline_path))
    target = Dataset.Tabular.from_parquet_files(str(target_path)).with_timestamp_columns(timestamp="ts")
    detector = DataDriftDetector.create_from_datasets(seed.ws, MONITOR, baseline, target, frequency="Week")
    run = detector.backfill(monday, monday + dt.timedelta(weeks=3))
    run.wait_for_completion()
    return next(str(child.id) for child in run.get_children() if child.get_status() == "Completed")


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"token {token}"}


def _pinned(path: str, seed: Seed, pipeline_run: str, sweep: str, drift_run: str) -> list[dict[str, str]]:
    """Path parameters naming things that exist, so generated queries reach real data."""
    run = {"run_id": seed.files_run}
    model = {"name": "clf", "version": "1"}
    dataset = {"name": "iris", "version": "latest"}
    return {
        "/experiments/{name}/runs": [{"name": "train"}],
        "/runs/{run_id}": [run],
        "/runs/{run_id}/metrics": [run, {"run_id": seed.special_run}],
        "/runs/{run_id}/files": [run],
        "/runs/{run_id}/files/{path}": [run, {**run, "path": "outputs/model.txt"}],
        "/runs/{run_id}/logs": [run],
        "/runs/{run_id}/snapshot": [run],
        "/runs/{run_id}/cancel": [run],
        "/runs/{run_id}/sweep": [{"run_id": sweep}, run],
        "/runs/{run_id}/drift": [{"run_id": drift_run}, run],
        "/models/{name}": [{"name": "clf"}],
        "/environments/{name}": [{"name": "train-env"}],
        "/computes/{name}": [{"name": "local"}],
        "/activities/{activity_id}": [{"activity_id": seed.activities[0]}],
        "/models/{name}/versions/{version}": [{"name": "clf"}, model, {"name": "clf", "version": "prod"}],
        "/models/{name}/versions/{version}/files": [model],
        "/models/{name}/versions/{version}/files/{path}": [model, {**model, "path": "clf/model.pkl"}],
        "/datasets/{name}": [{"name": "iris"}, {"name": "iris-files"}],
        "/datasets/{name}/versions/{version}": [{"name": "iris"}, {"name": "iris", "version": "1"}, dataset],
        "/datasets/{name}/versions/{version}/preview": [{"name": "iris"}, dataset, {"name": "iris-files"}],
        "/pipeline-runs/{run_id}": [{"run_id": pipeline_run}, run],
        "/webservices/{name}": [{"name": SERVICE}],
        "/webservices/{name}/keys": [{"name": SERVICE}],
        "/webservices/{name}/logs": [{"name": SERVICE}],
        "/webservices/{name}/telemetry": [{"name": SERVICE}],
        "/webservices/{name}/test": [{"name": SERVICE}],
        "/monitors/{name}": [{"name": MONITOR}],
        "/monitors/{name}/backfill": [{"name": MONITOR}],
        "/monitors/{name}/run": [{"name": MONITOR}],
        "/secrets/{name}": [{"name": SECRET}],
    }.get(path, [])


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode().rstrip("=")


def _with(case: Any, location: str, name: str, value: str) -> Any:
    if location == "path":
        case.path_parameters = {**(case.path_parameters or {}), name: value}
    else:
        case.query = {**(case.query or {}), name: value}
    return case


def _tuned(op: Any, seed: Seed) -> list[Any]:
    """Values the generic generator rarely makes: numbers inside strings (versions, page tokens), big and small."""
    edges = st.sampled_from([0, 1, 2**31, 2**53 + 1, 2**63 - 1, 2**63, 10**30])
    numbers = st.one_of(st.integers(-3, 1000), edges, st.integers(2**31, 10**30))
    strategies = []
    if op.path.startswith("/models/{name}/versions/{version}"):
        cases = op.as_strategy(path_parameters={"name": "clf"})
        strategies.append(st.tuples(cases, numbers).map(lambda cv: _with(cv[0], "path", "version", str(cv[1]))))
    if op.path.startswith("/datasets/{name}/versions/{version}"):
        cases = op.as_strategy(path_parameters={"name": "iris"})
        strategies.append(st.tuples(cases, numbers).map(lambda cv: _with(cv[0], "path", "version", str(cv[1]))))
    if op.path == "/datasets/{name}/versions/{version}/preview":
        cases = op.as_strategy(path_parameters={"name": "iris", "version": "1"})
        strategies.append(st.tuples(cases, numbers).map(lambda cv: _with(cv[0], "query", "rows", str(cv[1]))))
    if op.path in ("/runs", "/experiments/{name}/runs", "/pipeline-runs"):
        cases = op.as_strategy(path_parameters={"name": "train"}) if "{name}" in op.path else op.as_strategy()
        strategies.append(st.tuples(cases, numbers).map(lambda cv: _with(cv[0], "query", "page_token", _token(cv[1]))))
    return strategies


@pytest.mark.slow
def test_fuzz_every_operation(live_server: LiveServer) -> None:
    schema = schemathesis.openapi.from_dict(SPEC)
    # Show page tokens in failure reports (the default hides anything named like a token).
    schema.config.output.sanitization.keys_to_sanitize = ("authorization", "cookie", "set-cookie", "token")
    schema.config.output.sanitization.sensitive_markers = ("authorization",)
    operations = [result.ok() for result in schema.get_all_operations()]
    fuzzed = [op for op in operations if op.path not in NOT_FUZZED]
    assert (
        len(fuzzed)
        == sum(len([m for m in item if m in ("get", "post", "put", "delete")]) for item in SPEC["paths"].values()) - 1
    )
    headers = _auth(live_server.token)
    session = requests.Session()
    failures: list[str] = []
    seen: dict[tuple[str, str], set[int]] = defaultdict(set)
    calls = 0
    started = time.monotonic()
    for op in fuzzed:
        strategies = [op.as_strategy(), op.as_strategy(generation_mode=GenerationMode.NEGATIVE)]
        strategies += [
            op.as_strategy(path_parameters=p)
            for p in _pinned(
                op.path, live_server.seed, live_server.pipeline_run, live_server.sweep, live_server.drift_run
            )
        ]
        strategies += _tuned(op, live_server.seed)
        strategy = st.one_of(strategies)

        @settings(
            max_examples=MAX_EXAMPLES * len(strategies),
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],  # no shrinking: report the first failing example
            suppress_health_check=list(HealthCheck),
            print_blob=False,
        )
        @given(case=strategy)
        def check(case: Any) -> None:
            nonlocal calls
            calls += 1
            response = case.call(base_url=live_server.url, headers=headers, session=session, timeout=30)
            seen[case.operation.method.upper(), case.operation.path].add(response.status_code)
            case.validate_response(response, checks=CHECKS)
            assert SECRET_VALUE.encode() not in response.content, f"a reply holds the secret's value: {case!r}"

        try:
            check()
        except (Exception, BaseExceptionGroup) as exc:  # collect every operation's failure, then report them all
            failures.append(f"{op.method.upper()} {op.path}: {type(exc).__name__}: {str(exc)[:3000]}")
    elapsed = time.monotonic() - started
    assert not failures, f"{len(failures)} operation(s) failed after {calls} calls:\n\n" + "\n\n".join(failures)
    assert calls >= len(fuzzed) * MAX_EXAMPLES // 2, calls
    # Real data was reached (and validated) on every read but the snapshot (seeded runs have none).
    unreached = [k for k, v in seen.items() if k[0] == "GET" and k[1] != "/runs/{run_id}/snapshot" and 200 not in v]
    assert not unreached, {k: seen[k] for k in unreached}
    assert 201 in seen["POST", "/snapshots"], seen["POST", "/snapshots"]
    # The time is reported, never asserted: the suite has no timing assertions (machines are noisy).
    print(f"fuzzed {len(fuzzed)} operations with {calls} calls in {elapsed:.0f} s")
