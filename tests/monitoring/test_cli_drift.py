"""``mlws drift list | show | backfill | run`` (issue 20) through the CLI's ``main``: a detector made
with the facade over three weeks of target (one too small to check, one calm, one drifted in ``n3``),
backfilled with ``--wait``; the tables; mistakes as one line (exit 2 for the command line's, 1 for an
unknown detector)."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from jupyter_mlws import DataDriftDetector, Workspace
from jupyter_mlws.cli import main
from jupyter_mlws.compute import agent
from jupyter_mlws.core.workspace import close_backends
from jupyter_mlws.data.dataset import Dataset
from tests.support.drift_weeks import DRIFTED, drift_weeks

MONDAY = dt.datetime(2026, 10, 26, tzinfo=dt.UTC)
DASH = "\u2013"


@dataclass
class Result:
    code: int
    out: str
    err: str


def mlws(*argv: str) -> Result:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exc:  # usage errors leave through argparse
            code = exc.code if isinstance(exc.code, int) else 1
    return Result(code, out.getvalue(), err.getvalue())


def one_line_error(result: Result, code: int) -> str:
    assert result.code == code, result
    assert "Traceback" not in result.err + result.out, result
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    return lines[0]


@dataclass
class Backfilled:
    root: Path
    result: Result  # `mlws drift backfill shop 2026-10-26 2026-11-16 --wait`


@pytest.fixture(scope="module")
def backfilled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backfilled]:
    root = tmp_path_factory.mktemp("cli-drift")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLWS_AGENT_IDLE_SECONDS", "5")
        ws = Workspace.create(root)
        try:
            baseline_path, target_path = drift_weeks(root / "data", MONDAY)
            baseline = Dataset.Tabular.from_parquet_files(str(baseline_path))
            target = Dataset.Tabular.from_parquet_files(str(target_path)).with_timestamp_columns(timestamp="ts")
            DataDriftDetector.create_from_datasets(ws, "shop", baseline, target, frequency="Week")
            result = mlws("-w", str(root), "drift", "backfill", "shop", "2026-10-26", "2026-11-16T00:00:00Z", "--wait")
            yield Backfilled(root, result)
        finally:
            agent.stop(ws)
            close_backends()


def test_a_backfill_prints_each_interval_and_a_summary(backfilled: Backfilled) -> None:
    result = backfilled.result
    assert result.code == 0, result
    lines = result.out.strip().splitlines()
    assert lines[0].startswith("Submitted backfill of shop (intervals starting in [2026-10-26, 2026-11-16)): run ")
    intervals = sorted(line for line in lines if DASH in line)  # printed as they end; sorted by start
    assert len(intervals) == 3, result.out
    small, calm, drifted = intervals
    assert small.startswith(f"2026-10-26 {DASH} 2026-11-02  Failed: ") and "50" in small
    assert calm.startswith(f"2026-11-02 {DASH} 2026-11-09  magnitude ") and "  drift no" in calm
    assert drifted.startswith(f"2026-11-09 {DASH} 2026-11-16  magnitude ") and "  drift yes" in drifted
    assert f"(top: {DRIFTED}* " in drifted
    assert float(drifted.split("magnitude ")[1].split()[0]) > 20
    assert lines[-1] == "Completed: 3 intervals checked, 1 drifted, 1 failed"


def test_list_shows_each_detector_with_its_last_interval(backfilled: Backfilled) -> None:
    result = mlws("-w", str(backfilled.root), "drift", "list")
    assert result.code == 0, result
    header, _rule, row = result.out.strip().splitlines()
    assert header.split() == ["NAME", "FREQUENCY", "THRESHOLD", "LAST", "INTERVAL", "STATUS", "MAGNITUDE", "ALERT"]
    cells = row.split()
    assert cells[:6] == ["shop", "Week", "0.2", "2026-11-09", DASH, "2026-11-16"]
    assert cells[6] == "Completed" and float(cells[7]) > 20 and cells[8] == "ALERT"

    listed = json.loads(mlws("-w", str(backfilled.root), "drift", "list", "--json").out)
    assert [m["name"] for m in listed] == ["shop"] and listed[0]["alert"] is True


def test_show_prints_the_detector_and_its_intervals(backfilled: Backfilled) -> None:
    result = mlws("-w", str(backfilled.root), "drift", "show", "shop")
    assert result.code == 0, result
    out = result.out
    assert "detector:  shop\n" in out and "frequency: Week\n" in out
    assert "threshold: 0.2 (magnitude above 20)\n" in out and "features:  all shared columns (4)\n" in out
    table = out[out.index("START") :].splitlines()
    assert table[0].split() == ["START", "END", "STATUS", "MAGNITUDE", "DRIFT", "TOP", "FEATURES"]
    rows = [line.split() for line in table[2:]]
    assert [row[:3] for row in rows] == [
        ["2026-10-26", "2026-11-02", "Failed"],
        ["2026-11-02", "2026-11-09", "Completed"],
        ["2026-11-09", "2026-11-16", "Completed"],
    ]
    assert rows[1][4] == "no" and rows[2][4] == "yes" and rows[2][5] == f"{DRIFTED}*"

    shown = json.loads(mlws("-w", str(backfilled.root), "drift", "show", "shop", "--json").out)
    assert shown["name"] == "shop" and len(shown["intervals"]) == 3


def test_a_check_of_one_interval(backfilled: Backfilled) -> None:
    result = mlws("-w", str(backfilled.root), "drift", "run", "shop", "2026-11-10T12:00:00", "--json")
    assert result.code == 0, result
    run_id = json.loads(result.out)["run_id"]
    result = mlws("-w", str(backfilled.root), "drift", "run", "shop", "2026-11-10", "--wait")
    assert result.code == 0, result
    lines = result.out.strip().splitlines()
    assert lines[0].startswith("Submitted check of shop (the interval containing 2026-11-10): run ")
    assert lines[1].startswith(f"2026-11-09 {DASH} 2026-11-16  magnitude ") and "drift yes" in lines[1]
    assert lines[-1] == "Completed: 1 interval checked, 1 drifted"
    assert run_id not in result.out  # a new check each time


def test_mistakes_are_one_line(backfilled: Backfilled) -> None:
    ws = ("-w", str(backfilled.root))
    line = one_line_error(mlws(*ws, "drift", "backfill", "shop", "yesterday", "2026-11-16"), 2)
    assert "argument START" in line and "ISO 8601" in line and "'yesterday'" in line
    line = one_line_error(mlws(*ws, "drift", "backfill", "shop", "2026-11-02", "2026-02-30"), 2)
    assert "argument END" in line and "ISO 8601" in line
    line = one_line_error(mlws(*ws, "drift", "backfill", "shop", "2026-11-09", "2026-11-02"), 2)
    assert "END (2026-11-02) must be after START (2026-11-09)" in line
    line = one_line_error(mlws(*ws, "drift", "run", "shop", "11/10/2026"), 2)
    assert "argument DATE" in line and "ISO 8601" in line
    line = one_line_error(mlws(*ws, "drift", "run", "shop", "9999-12-31"), 1)
    assert "ends after 9999-12-31" in line
    one_line_error(mlws(*ws, "drift", "backfill", "shop", "2026-11-02"), 2)
    one_line_error(mlws(*ws, "drift"), 2)
    line = one_line_error(mlws(*ws, "drift", "show", "nope"), 1)
    assert "'nope'" in line and "mlws drift list" in line
    line = one_line_error(mlws(*ws, "drift", "backfill", "nope", "2026-11-02", "2026-11-09"), 1)
    assert "'nope'" in line and "mlws drift list" in line
