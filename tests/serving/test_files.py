"""Telemetry segments and capture rows, in process: rotation and pruning, the row shapes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_mlws.serving import telemetry
from jupyter_mlws.serving.capture import CaptureWriter, input_rows
from jupyter_mlws.serving.telemetry import TelemetryWriter, read_telemetry


def _row(writer: TelemetryWriter, i: int, path: str = "/score") -> None:
    writer.add(1000.0 + i, 200, 0.5, 10, 20, path, "POST", f"r{i}")


def test_segments_rotate_and_only_the_newest_are_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(telemetry, "SEGMENT_ROWS", 3)
    monkeypatch.setattr(telemetry, "KEEP_SEGMENTS", 2)
    writer = TelemetryWriter(tmp_path, models="m:1,n:2", generation=4)
    clock = iter(range(10_000, 20_000, 7))
    monkeypatch.setattr(telemetry.time, "time", lambda: next(clock) / 1000.0 + 1_700_000_000)
    for i in range(4):
        _row(writer, i)
    writer.flush()  # 3 rows in one segment, 1 in the next
    assert len(list(tmp_path.iterdir())) == 2
    for i in range(4, 9):
        _row(writer, i, path='/odd"path')
    writer.flush()  # 2 more rows complete segment 2, then a third segment: the oldest goes
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == 2 and all(n.endswith(".jsonl") and len(n.split("-")[0]) == 13 for n in names)
    rows = read_telemetry(tmp_path)
    assert [r["request_id"] for r in rows] == [f"r{i}" for i in range(3, 9)]
    assert rows[-1] == {
        "time": 1008.0,
        "status": 200,
        "latency_ms": 0.5,
        "request_bytes": 10,
        "response_bytes": 20,
        "path": '/odd"path',
        "method": "POST",
        "models": "m:1,n:2",
        "generation": 4,
        "request_id": "r8",
    }
    assert [r["request_id"] for r in read_telemetry(tmp_path, since=1007.0)] == ["r7", "r8"]
    (tmp_path / names[-1]).write_text((tmp_path / names[-1]).read_text() + '{"torn": ')
    assert len(read_telemetry(tmp_path)) == 6
    assert read_telemetry(tmp_path / "missing") == []


@pytest.mark.parametrize(
    ("payload", "rows"),
    [
        ({"data": [[1, 2], [3, 4]]}, [{"feature_0": 1, "feature_1": 2}, {"feature_0": 3, "feature_1": 4}]),
        ([{"a": 1}, {"a": 2}], [{"a": 1}, {"a": 2}]),
        ({"a": 1, "b": "x"}, [{"a": 1, "b": "x"}]),
        ({"input_data": {"columns": ["a", "b"], "data": [[1, 2]]}}, [{"a": 1, "b": 2}]),
        ({"dataframe_split": {"columns": ["a"], "data": [[1], [2]]}}, [{"a": 1}, {"a": 2}]),
        ({"dataframe_records": [{"a": 1}]}, [{"a": 1}]),
        ({"instances": [[1, 2]]}, [{"feature_0": 1, "feature_1": 2}]),
        ({"inputs": {"a": [1, 2], "b": [3, 4]}}, [{"a": 1, "b": 3}, {"a": 2, "b": 4}]),
        (5, [{"feature_0": 5}]),
    ],
)
def test_input_rows(payload: object, rows: list[dict[str, object]]) -> None:
    assert input_rows(payload) == rows


def test_capture_parts_pair_rows_with_predictions(tmp_path: Path) -> None:
    writer = CaptureWriter(tmp_path, 1.0)
    assert writer.sampled() and not CaptureWriter(tmp_path, 0.0).sampled()
    writer.add("r1", 5.0, {"data": [[1], [2]]}, {"predictions": [10, 20]})
    writer.add("r2", 6.0, {"data": [[1], [2]]}, {"total": 30})  # not per row: the whole reply
    writer.flush()
    writer.flush()  # nothing new: no empty part
    (part,) = tmp_path.iterdir()
    assert part.name.startswith("part-") and part.name.endswith("-1.jsonl")
    rows = [json.loads(line) for line in part.read_text().splitlines()]
    assert rows == [
        {"feature_0": 1, "prediction": 10, "$request_id": "r1", "$time": 5.0},
        {"feature_0": 2, "prediction": 20, "$request_id": "r1", "$time": 5.0},
        {"feature_0": 1, "prediction": {"total": 30}, "$request_id": "r2", "$time": 6.0},
        {"feature_0": 2, "prediction": {"total": 30}, "$request_id": "r2", "$time": 6.0},
    ]


def test_the_worker_imports_nothing_heavy() -> None:
    # It runs alone in packaged images, and its start-up is part of every deployment's switch-over.
    code = (
        "import sys, json\n"
        "import jupyter_mlws.serving.worker\n"
        "heavy = ('pandas', 'numpy', 'sklearn', 'sqlalchemy', 'inference_schema', 'joblib', 'jupyter_mlws.core')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith(heavy))))\n"
    )
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True)
    assert json.loads(proc.stdout) == []
