"""The scoring worker (issue 17, notes/serving.md) through real processes on real sockets: health,
keys, the error answers, entry scripts (plain and inference-schema decorated), MLflow's request shapes
on a real scikit-learn model, telemetry and capture files, and the zero-downtime hand-over (drain)."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlws.serving.telemetry import read_telemetry
from tests.compute.conftest import wait_until
from tests.serving.conftest import ROOT, TIMEOUT, Supervisor, Worker, call, worker_config

SCORE = r"""
import json
import os
import time

def init():
    global factor, model_dir
    factor = 2
    model_dir = os.environ["AZUREML_MODEL_DIR"]
    assert os.environ["MLWS_MODEL_DIR"] == model_dir
    assert os.getcwd() == os.path.dirname(os.path.abspath(__file__))

class Response:  # the shape of v1's AMLResponse (a Flask response)
    status_code = 202
    mimetype = "text/csv"

    def get_data(self):
        return b"a,b\n1,2\n"

def run(raw):
    data = json.loads(raw)
    if data.get("boom"):
        raise ValueError("boom: the secret detail " + str(data["boom"]))
    if data.get("sleep"):
        time.sleep(data["sleep"])
    if data.get("text"):
        return "plain text"
    if data.get("bytes"):
        return b"\x00raw"
    if data.get("response"):
        return Response()
    if data.get("where"):
        return {"model_dir": model_dir, "cwd": os.getcwd(), "raw_type": type(raw).__name__}
    return [x * factor for x in data["data"]]
"""

KEYS = {"primary": "primary-key-1", "secondary": "secondary-key-1"}
MAX_BYTES = 4096


def _write_script(config: dict[str, Any], source: str) -> None:
    Path(config["source_dir"], config["entry_script"]).write_text(textwrap.dedent(source), encoding="utf-8")


def _write_keys(config: dict[str, Any], keys: dict[str, str]) -> None:
    path = Path(config["keys_file"])
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(keys), encoding="utf-8")
    os.replace(tmp, path)


class Service:
    def __init__(self, sup: Supervisor, worker: Worker, config: dict[str, Any]) -> None:
        self.sup = sup
        self.worker = worker
        self.config = config
        self.port = sup.port

    def post(self, body: Any, key: str | None = KEYS["primary"], **headers: str) -> Any:
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        return call(self.port, "POST", "/score", body, headers)


def _start(sup: Supervisor, config: dict[str, Any], name: str = "worker") -> Worker:
    worker = sup.start(config, name)
    assert worker.event.get("event") == "ready", worker.log_text()
    assert worker.event.get("pid") == worker.pid
    return worker


@pytest.fixture(scope="module")
def scripted(make_supervisor: Callable[[str], Supervisor]) -> Iterator[Service]:
    """An entry-script service with keys, a small body limit, a 1 s timeout and capture of every request."""
    sup = make_supervisor("scripted")
    config = worker_config(
        sup.root,
        "scripted",
        auth=True,
        max_request_bytes=MAX_BYTES,
        request_timeout_s=1.0,
        capture_dir=str(sup.root / "scripted" / "capture"),
        capture_sample_rate=1.0,
    )
    _write_script(config, SCORE)
    _write_keys(config, KEYS)
    yield Service(sup, _start(sup, config), config)


# -- health, keys, errors ------------------------------------------------------------------------------------
def test_health_needs_no_key_and_every_response_has_a_request_id(scripted: Service) -> None:
    reply = call(scripted.port, "GET", "/")
    assert (reply.status, reply.body) == (200, b"Healthy")
    assert reply.headers["x-request-id"]
    assert int(reply.headers["content-length"]) == len(reply.body)
    mine = call(scripted.port, "GET", "/", headers={"x-request-id": "my-request-1"})
    assert mine.headers["x-request-id"] == "my-request-1"
    assert call(scripted.port, "GET", "/nowhere").status == 404
    assert call(scripted.port, "PUT", "/").status == 405
    assert call(scripted.port, "GET", "/score").status == 405


def test_keys_are_required_and_either_key_works(scripted: Service) -> None:
    missing = scripted.post({"data": [1]}, key=None)
    assert missing.status == 401 and "message" in missing.json()["error"]
    assert missing.headers["content-type"] == "application/json"
    assert scripted.post({"data": [1]}, key="wrong").status == 401
    assert scripted.post({"data": [1]}, key="").status == 401
    basic = call(scripted.port, "POST", "/score", {"data": [1]}, {"Authorization": "Basic " + KEYS["primary"]})
    assert basic.status == 401
    for key in KEYS.values():
        reply = scripted.post({"data": [1, 2]}, key=key)
        assert (reply.status, reply.json()) == (200, [2, 4])
        assert int(reply.headers["content-length"]) == len(reply.body)


def test_the_entry_script_runs_in_its_folder_and_gets_the_raw_text(scripted: Service) -> None:
    reply = scripted.post({"where": 1})
    assert reply.json() == {
        "model_dir": scripted.config["model_dir"],
        "cwd": scripted.config["source_dir"],
        "raw_type": "str",
    }
    assert scripted.post({"text": 1}).json() == "plain text"  # a string goes out as a JSON string (v1)
    raw = scripted.post({"bytes": 1})
    assert (raw.status, raw.headers["content-type"], raw.body) == (200, "application/octet-stream", b"\x00raw")
    custom = scripted.post({"response": 1})
    assert (custom.status, custom.headers["content-type"], custom.body) == (202, "text/csv", b"a,b\n1,2\n")


def test_bad_json_is_a_400_naming_the_parse_error(scripted: Service) -> None:
    reply = scripted.post(b'{"data": [1, 2')
    assert reply.status == 400
    message = reply.json()["error"]["message"]
    assert "not valid JSON" in message and "line 1" in message


def test_a_body_over_the_limit_is_a_413(scripted: Service) -> None:
    big = json.dumps({"data": [1] * MAX_BYTES})
    reply = scripted.post(big)
    assert reply.status == 413 and reply.headers["connection"] == "close"

    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b" " * 1000

    conn = http.client.HTTPConnection("127.0.0.1", scripted.port, timeout=TIMEOUT)
    try:
        headers = {"Authorization": f"Bearer {KEYS['primary']}", "Transfer-Encoding": "chunked"}
        conn.request("POST", "/score", body=chunks(), headers=headers, encode_chunked=True)
        assert conn.getresponse().status == 413
    finally:
        conn.close()
    # A chunked body under the limit is read whole.
    conn = http.client.HTTPConnection("127.0.0.1", scripted.port, timeout=TIMEOUT)
    try:
        parts = iter([b'{"data": ', b"[1, 2, ", b"3]}"])
        headers = {"Authorization": f"Bearer {KEYS['primary']}", "Transfer-Encoding": "chunked"}
        conn.request("POST", "/score", body=parts, headers=headers, encode_chunked=True)
        resp = conn.getresponse()
        assert (resp.status, json.loads(resp.read())) == (200, [2, 4, 6])
    finally:
        conn.close()


def test_run_raising_is_a_500_with_a_correlation_id_in_the_log_only(scripted: Service) -> None:
    reply = scripted.post({"boom": "xyzzy"})
    assert reply.status == 500
    error = reply.json()["error"]
    cid = error["correlation_id"]
    assert cid == reply.headers["x-request-id"]
    assert "see the service log" in error["message"]
    assert b"xyzzy" not in reply.body and b"Traceback" not in reply.body
    log = wait_until(lambda: "xyzzy" in scripted.worker.log_text() and scripted.worker.log_text(), what="the log")
    at = log.index(cid)
    assert "Traceback" in log[at:] and "ValueError: boom: the secret detail xyzzy" in log[at:]


def test_run_over_the_timeout_is_a_504_and_the_worker_goes_on(scripted: Service) -> None:
    reply = scripted.post({"sleep": 30})
    assert reply.status == 504
    assert reply.json()["error"]["correlation_id"] == reply.headers["x-request-id"]
    assert scripted.post({"data": [3]}).json() == [6]


def test_keep_alive_pipelining_and_http_1_0(scripted: Service) -> None:
    body = b'{"data": [5]}'
    request = (
        b"POST /score HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + KEYS["secondary"].encode() + b"\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    with socket.create_connection(("127.0.0.1", scripted.port), timeout=TIMEOUT) as sock:
        sock.sendall(request * 3 + b"GET / HTTP/1.0\r\n\r\n")
        data = b""
        while data.count(b"HTTP/1.") < 4 or not data.endswith(b"Healthy"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        assert data.count(b"HTTP/1.1 200 OK") == 4 and data.count(b"\r\n\r\n[10]") == 3
        assert sock.recv(10) == b""  # HTTP/1.0 without keep-alive: closed after its answer


def test_a_key_rotation_is_picked_up_without_restart(scripted: Service) -> None:
    rotated = {"primary": "primary-key-2", "secondary": KEYS["secondary"]}
    _write_keys(scripted.config, rotated)
    try:
        wait_until(lambda: scripted.post({"data": [1]}, key="primary-key-2").status == 200, what="the new key")
        assert scripted.post({"data": [1]}, key=KEYS["primary"]).status == 401
        assert scripted.post({"data": [1]}, key=KEYS["secondary"]).status == 200
    finally:
        _write_keys(scripted.config, KEYS)
        wait_until(lambda: scripted.post({"data": [1]}).status == 200, what="the old key back")


def test_generic_swagger_without_decorators(scripted: Service) -> None:
    doc = call(scripted.port, "GET", "/swagger.json").json()  # no key needed
    assert doc["swagger"] == "2.0"
    assert set(doc["paths"]) == {"/", "/score"}
    assert doc["definitions"]["ServiceInput"] == {"type": "object"}
    assert doc["paths"]["/score"]["post"]["security"] == [{"Bearer": []}]


# -- telemetry and capture ---------------------------------------------------------------------------------
def test_every_request_is_a_telemetry_row(scripted: Service) -> None:
    sent = {
        "t-health": (call(scripted.port, "GET", "/", headers={"x-request-id": "t-health"}), 200),
        "t-401": (scripted.post({"data": [1]}, key=None, **{"x-request-id": "t-401"}), 401),
        "t-404": (call(scripted.port, "GET", "/missing", headers={"x-request-id": "t-404"}), 404),
        "t-413": (scripted.post(b"[" + b"1," * MAX_BYTES + b"1]", **{"x-request-id": "t-413"}), 413),
        "t-200": (scripted.post({"data": [7, 8]}, **{"x-request-id": "t-200"}), 200),
    }
    for rid, (reply, status) in sent.items():
        assert reply.status == status, rid
    telemetry = scripted.config["telemetry_dir"]

    def rows() -> dict[str, dict[str, Any]]:
        found = {row["request_id"]: row for row in read_telemetry(telemetry)}
        return found if set(sent) <= set(found) else {}

    found = wait_until(rows, what="the telemetry rows")
    for rid, (reply, status) in sent.items():
        row = found[rid]
        assert row["status"] == status
        assert row["models"] == "m:1" and row["generation"] == 1
        assert row["latency_ms"] >= 0 and isinstance(row["time"], float)
        assert row["response_bytes"] == len(reply.body)
    assert (found["t-200"]["path"], found["t-200"]["method"]) == ("/score", "POST")
    assert found["t-200"]["request_bytes"] == len(json.dumps({"data": [7, 8]}))
    assert (found["t-health"]["path"], found["t-health"]["method"]) == ("/", "GET")
    segments = os.listdir(telemetry)
    assert any(name.endswith(f"-{scripted.worker.pid}.jsonl") and len(name.split("-")[0]) == 13 for name in segments)
    since = found["t-200"]["time"]
    assert "t-200" in {row["request_id"] for row in read_telemetry(telemetry, since=since)}
    assert "t-health" not in {row["request_id"] for row in read_telemetry(telemetry, since=since)}


def test_capture_at_rate_one_keeps_every_row_with_its_prediction(scripted: Service) -> None:
    assert scripted.post({"data": [1, 2, 3]}, **{"x-request-id": "cap-1"}).status == 200
    capture = Path(scripted.config["capture_dir"])

    def rows() -> list[dict[str, Any]]:
        found = []
        for part in sorted(capture.glob("part-*.jsonl")):
            found += [json.loads(line) for line in part.read_text().splitlines()]
        return [row for row in found if row["$request_id"] == "cap-1"]

    found = wait_until(rows, what="the captured rows")
    assert [(r["feature_0"], r["prediction"]) for r in found] == [(1, 2), (2, 4), (3, 6)]
    assert all(isinstance(r["$time"], float) for r in found)
    names = [p.name for p in capture.iterdir()]
    assert all(n.startswith("part-") and n.endswith(f"-{scripted.worker.pid}-{n.split('-')[-1]}") for n in names)


# -- inference-schema ---------------------------------------------------------------------------------------
SCHEMA_SCORE = """\
import numpy as np
from inference_schema.schema_decorators import input_schema, output_schema
from inference_schema.parameter_types.numpy_parameter_type import NumpyParameterType
from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType

def init():
    pass

@input_schema("data", NumpyParameterType(np.array([[1.0, 2.0]])))
@input_schema("scale", StandardPythonParameterType(3))
@output_schema(StandardPythonParameterType([1.0]))
def run(data, scale=1):
    assert isinstance(data, np.ndarray)
    return data.sum(axis=1) * scale
"""


def test_a_schema_decorated_run_is_called_with_the_body_keys_and_describes_swagger(
    make_supervisor: Callable[[str], Supervisor],
) -> None:
    sup = make_supervisor("schema")
    config = worker_config(sup.root, "schema")
    _write_script(config, SCHEMA_SCORE)
    worker = _start(sup, config)
    try:
        reply = call(sup.port, "POST", "/score", {"data": [[1.0, 2.0], [3.0, 4.0]], "scale": 2})
        assert (reply.status, reply.json()) == (200, [6.0, 14.0])  # numpy out, JSON back
        wrong = call(sup.port, "POST", "/score", [[1.0, 2.0]])
        assert wrong.status == 400 and "data, scale" in wrong.json()["error"]["message"]
        unknown = call(sup.port, "POST", "/score", {"data": [[1.0, 2.0]], "sacle": 2})
        assert unknown.status == 400 and "no parameter 'sacle'" in unknown.json()["error"]["message"]
        doc = call(sup.port, "GET", "/swagger.json").json()
        service_input = doc["definitions"]["ServiceInput"]
        assert set(service_input["properties"]) == {"data", "scale"}
        assert service_input["example"] == {"data": [[1.0, 2.0]], "scale": 3}
        assert doc["definitions"]["ServiceOutput"]["type"] == "array"
        assert "securityDefinitions" not in doc  # auth off
    finally:
        worker.stop()
    assert worker.proc.returncode == 0


# -- MLflow shapes ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def mlflow(make_supervisor: Callable[[str], Supervisor]) -> Iterator[Service]:
    """A pickled scikit-learn model, no entry script; capture on at rate 0.0."""
    import joblib
    import pandas as pd
    from sklearn.linear_model import LinearRegression

    sup = make_supervisor("mlflow")
    config = worker_config(
        sup.root,
        "mlflow",
        entry_script=None,
        capture_dir=str(sup.root / "mlflow" / "capture"),
        capture_sample_rate=0.0,
    )
    model_dir = Path(config["model_dir"], "m", "1")
    model_dir.mkdir(parents=True)
    frame = pd.DataFrame({"a": [0.0, 1.0, 0.0, 2.0], "b": [0.0, 0.0, 1.0, 1.0]})
    model = LinearRegression().fit(frame, frame["a"] + 2 * frame["b"])
    joblib.dump(model, model_dir / "model.joblib")
    (model_dir / "notes.txt").write_text("not a model")
    config["model_dir"] = str(model_dir.parent.parent)  # found recursively
    yield Service(sup, _start(sup, config), config)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"dataframe_split": {"columns": ["a", "b"], "data": [[1, 2], [3, 4]]}}, [5.0, 11.0]),
        ({"dataframe_split": {"columns": ["b", "a"], "data": [[2, 1]], "index": [7]}}, [5.0]),
        ({"dataframe_records": [{"a": 1, "b": 2}, {"a": 3, "b": 4}]}, [5.0, 11.0]),
        ({"instances": [[1, 2], [3, 4]]}, [5.0, 11.0]),
        ({"instances": [{"a": 1, "b": 2}]}, [5.0]),
        ({"inputs": {"a": [1, 3], "b": [2, 4]}}, [5.0, 11.0]),
        ({"inputs": [[1, 2]]}, [5.0]),
    ],
    ids=["split", "split-reordered", "records", "instances", "instances-named", "inputs-columns", "inputs-list"],
)
def test_mlflow_request_shapes(mlflow: Service, body: dict[str, Any], expected: list[float]) -> None:
    reply = mlflow.post(body, key=None)
    assert reply.status == 200, reply.body
    assert reply.json()["predictions"] == pytest.approx(expected)


def test_mlflow_bad_shapes_are_400s_naming_the_accepted_keys(mlflow: Service) -> None:
    reply = mlflow.post({"data": [[1, 2]]}, key=None)
    assert reply.status == 400
    message = reply.json()["error"]["message"]
    assert all(key in message for key in ("dataframe_split", "dataframe_records", "instances", "inputs"))
    assert mlflow.post([[1, 2]], key=None).status == 400
    both = mlflow.post({"instances": [[1, 2]], "inputs": [[1, 2]]}, key=None)
    assert both.status == 400 and "exactly one" in both.json()["error"]["message"]
    assert mlflow.post({"dataframe_split": [[1, 2]]}, key=None).status == 400
    assert mlflow.post({"instances": [[1, 2, 3]]}, key=None).status == 500  # the model's own error
    doc = call(mlflow.port, "GET", "/swagger.json").json()
    assert "dataframe_split" in doc["definitions"]["ServiceInput"]["properties"]


def test_capture_at_rate_zero_keeps_nothing(mlflow: Service) -> None:
    reply = mlflow.post({"instances": [[1, 2]]}, key=None, **{"x-request-id": "nocap"})
    assert reply.status == 200
    wait_until(
        lambda: "nocap" in {r["request_id"] for r in read_telemetry(mlflow.config["telemetry_dir"])},
        what="the telemetry row (written in the same flush as capture)",
    )
    capture = Path(mlflow.config["capture_dir"])
    assert not capture.exists() or not list(capture.iterdir())


# -- start-up failures --------------------------------------------------------------------------------------
def test_init_failure_is_a_failed_event_with_the_traceback_and_exit_3(
    make_supervisor: Callable[[str], Supervisor],
) -> None:
    sup = make_supervisor("broken")
    config = worker_config(sup.root, "broken")
    _write_script(
        config, "def init():\n    raise RuntimeError('cannot load the model xyz')\n\ndef run(raw):\n    return 1\n"
    )
    worker = sup.start(config)
    assert worker.event["event"] == "failed"
    assert "Traceback" in worker.event["error"] and "RuntimeError: cannot load the model xyz" in worker.event["error"]
    assert worker.proc.wait(TIMEOUT) == 3
    assert "RuntimeError: cannot load the model xyz" in worker.log_text()


def test_mlflow_mode_without_a_model_file_fails_with_a_clear_error(
    make_supervisor: Callable[[str], Supervisor],
) -> None:
    sup = make_supervisor("nomodel")
    config = worker_config(sup.root, "nomodel", entry_script=None)
    worker = sup.start(config)
    assert worker.event["event"] == "failed" and "no model file (*.pkl, *.pickle, *.joblib)" in worker.event["error"]
    assert worker.proc.wait(TIMEOUT) == 3


def test_port_mode_with_the_config_from_the_environment(tmp_path: Path) -> None:
    config = worker_config(tmp_path, "packaged")
    _write_script(config, SCORE)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MLWS_SERVICE_CONFIG": json.dumps(config)}
    log = tmp_path / "worker.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jupyter_mlws.serving.worker", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stderr=out,
        )
    try:

        def healthy() -> bool:
            try:
                return call(port, "GET", "/").status == 200
            except OSError:
                assert proc.poll() is None, log.read_text()
                return False

        wait_until(healthy, what="the worker to listen")
        assert call(port, "POST", "/score", {"data": [4]}).json() == [8]  # auth off
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(TIMEOUT) == 0


# -- drain: the zero-downtime hand-over -----------------------------------------------------------------------
def test_a_new_worker_takes_over_the_socket_and_no_request_fails(
    make_supervisor: Callable[[str], Supervisor],
) -> None:
    sup = make_supervisor("handover")
    config = worker_config(sup.root, "handover")
    _write_script(config, SCORE)
    old = _start(sup, config, "old")
    threads_n = 4
    conns = [http.client.HTTPConnection("127.0.0.1", sup.port, timeout=TIMEOUT) for _ in range(threads_n)]
    for conn in conns:  # every connection opened (and so accepted) by the old worker
        assert call(sup.port, "POST", "/score", {"data": [1]}, conn=conn).status == 200
    new = _start(sup, {**config, "generation": 2}, "new")

    stop = threading.Event()
    ok = [0] * threads_n
    failures: list[str] = []

    def hammer(i: int) -> None:
        conn = conns[i]
        while not stop.is_set():
            try:
                reply = call(sup.port, "POST", "/score", {"data": [i]}, conn=conn)
                if reply.status == 200 and reply.json() == [2 * i]:
                    ok[i] += 1
                else:
                    failures.append(f"{reply.status} {reply.body!r}")
            except Exception as exc:  # any failure counts
                failures.append(repr(exc))
                conn.close()

    threads = [threading.Thread(target=hammer, args=(i,)) for i in range(threads_n)]
    for thread in threads:
        thread.start()
    try:
        wait_until(lambda: sum(ok) >= 200, what="requests before the switch")
        old.proc.send_signal(signal.SIGTERM)  # what the supervisor does once the new worker is ready
        assert old.proc.wait(TIMEOUT) == 0
        before_exit = sum(ok)
        wait_until(lambda: sum(ok) >= before_exit + 200, what="requests after the switch")
    finally:
        stop.set()
        for thread in threads:
            thread.join(TIMEOUT)
        for conn in conns:
            conn.close()
    assert failures == []
    assert all(n > 0 for n in ok)
    assert "draining (SIGTERM)" in old.log_text() and "drained" in old.log_text()
    rows = wait_until(
        lambda: [r for r in read_telemetry(config["telemetry_dir"]) if r["generation"] == 2], what="new rows"
    )
    old_rows = [r for r in read_telemetry(config["telemetry_dir"]) if r["generation"] == 1]
    assert len(old_rows) >= 200  # every request before the switch went to the old worker; flushed at exit
    assert all(r["status"] == 200 for r in rows + old_rows)
    new_rows = wait_until(
        lambda: (
            len(read_telemetry(config["telemetry_dir"])) >= sum(ok) + threads_n
            and read_telemetry(config["telemetry_dir"])
        ),
        what="every row",
    )
    assert len(new_rows) == sum(ok) + threads_n  # every request, served by one worker or the other
    assert new.proc.poll() is None


def test_the_worker_drains_when_the_control_connection_closes(make_supervisor: Callable[[str], Supervisor]) -> None:
    sup = make_supervisor("orphan")
    config = worker_config(sup.root, "orphan")
    _write_script(config, SCORE)
    worker = _start(sup, config)
    idle = http.client.HTTPConnection("127.0.0.1", sup.port, timeout=TIMEOUT)
    try:
        reply = call(sup.port, "POST", "/score", {"data": [1]}, conn=idle)
        assert reply.status == 200 and "connection" not in reply.headers  # kept alive, then left idle
        assert worker.control is not None
        worker.control.close()  # the supervisor died
        # The idle keep-alive connection is closed after the keep-alive timeout; then the worker exits.
        assert worker.proc.wait(TIMEOUT) == 0
        assert idle.sock is not None and idle.sock.recv(1) == b""
    finally:
        idle.close()
    log = worker.log_text()
    assert "control connection closed" in log and "1 open connection" in log
