"""A detector's schedule (issue 20): one check per interval, each fired exactly once even when two
scheduler processes tick at the same moment, ``latency`` days after the interval ends; disabled, it
fires nothing; enabled again, it does not check what ended meanwhile.

The clock is given to the scheduler's ``tick`` (as the pipelines' schedule tests do), so three days
of fires take no waiting; the checks themselves run for real on the workspace's agent.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from jupyter_mlws import DataDriftDetector, Dataset, Run, Schedule, Workspace
from jupyter_mlws.compute import agent
from jupyter_mlws.monitoring.intervals import interval_containing
from jupyter_mlws.pipelines.scheduler import tick
from tests.support.drift_data import drift_frame

REPO = Path(__file__).resolve().parents[2]
ROWS_PER_DAY = 120

TICK = """
import json, sys
from jupyter_mlws import Workspace
from jupyter_mlws.pipelines.scheduler import tick
ws = Workspace.from_config(sys.argv[1])
print(json.dumps(tick(ws, now=float(sys.argv[2]))))
"""


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    workspace = Workspace.create(tmp_path_factory.mktemp("drift-schedule"))
    yield workspace
    agent.stop(workspace)


def days_from(today: dt.datetime, count: int) -> pd.DataFrame:
    """``ROWS_PER_DAY`` rows on each of ``count`` days from ``today``, a timestamp each."""
    frames = []
    for day in range(count):
        frame = drift_frame(ROWS_PER_DAY, seed=10 + day)
        offsets = pd.to_timedelta(np.linspace(0, 86399, ROWS_PER_DAY), unit="s")
        frame.insert(0, "when", pd.Timestamp(today + dt.timedelta(days=day)) + offsets)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def tick_in_two_processes(ws: Workspace, now: float) -> list[str]:
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", TICK, str(ws.path), str(now)], stdout=subprocess.PIPE, text=True, env=env
        )
        for _ in range(2)
    ]
    fired: list[str] = []
    for proc in procs:
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0
        fired += json.loads(out.strip().splitlines()[-1])
    return fired


def test_each_interval_is_checked_once_across_two_schedulers(ws: Workspace) -> None:
    today, tomorrow = interval_containing(dt.datetime.now(dt.UTC), "Day")  # once: the test may cross midnight
    store = ws.get_default_datastore()
    baseline = Dataset.Tabular.register_pandas_dataframe(drift_frame(600, seed=3), (store, "sched"), "sched-base")
    target = Dataset.Tabular.register_pandas_dataframe(days_from(today, 3), (store, "sched"), "sched-target")
    target = target.with_timestamp_columns(timestamp="when")
    detector = DataDriftDetector.create_from_datasets(
        ws, "daily", baseline, target, frequency="Day", latency=1, drift_threshold=0.3
    )
    detector.enable_schedule()
    assert detector.state == "Enabled"
    first_fire = tomorrow + dt.timedelta(days=1)  # the end of today, plus one day of latency
    assert detector.next_check_time() == first_fire
    # Two processes tick at a moment when three fires are due: each fire is claimed once.
    now = (first_fire + dt.timedelta(days=2, minutes=1)).timestamp()
    fired = tick_in_two_processes(ws, now)
    assert len(fired) == 3 and len(set(fired)) == 3
    assert tick_in_two_processes(ws, now) == []  # nothing fires twice
    runs = [Run.get(ws, run_id) for run_id in fired]
    for run in runs:
        run.wait_for_completion(timeout=120)
    starts = sorted(child.properties["mlws.drift.interval_start"] for r in runs for child in r.get_children())
    assert starts == [(today + dt.timedelta(days=d)).isoformat() for d in range(3)]
    assert all(r.get_status() == "Completed" for r in runs)
    assert {r.properties["azureml.scheduleid"] for r in runs} == {detector.schedule_id}

    results, _ = detector.get_output()
    assert len(results) == 3
    # a pipeline's schedule list does not show a detector's schedule
    assert Schedule.list(ws, active_only=False) == []

    # Off: the next day's fire does not happen; deleted, nothing fires either.
    detector.disable_schedule()
    assert detector.state == "Disabled" and detector.next_check_time() is None
    assert tick(ws, now=now + 86400) == []
    detector.enable_schedule()
    detector.enable_schedule()  # enabling twice makes one schedule
    assert detector.state == "Enabled"
    stale = DataDriftDetector.get_by_name(ws, "daily")
    detector.disable_schedule()
    stale.delete()  # an object read before is no worse: the detector and its schedule go
    old_schedule = ws.metadata.get_schedule(detector.schedule_id)
    assert old_schedule.status == "Disabled"
    assert tick(ws, now=now + 3 * 86400) == []
    # made again under the same name: a detector of its own, with no results and another schedule
    again = DataDriftDetector.create_from_datasets(ws, "daily", baseline, target, frequency="Day", latency=1)
    assert again.get_output() == ([], []) and again.schedule_id != old_schedule.id
