"""Two real OS processes on one workspace tick the same schedules through the same (fake) clock at the
same moment: every fire runs exactly once — the claim through the unique key (schedule, fire time)
decides which process submits it (jupyter-scheduler's double runs, #352/#476, are what this prevents).
On SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

from jupyter_mlws import Experiment, PublishedPipeline, Schedule, ScheduleRecurrence, Workspace
from jupyter_mlws.core.workspace import close_backends
from tests.pipelines.publishing.conftest import DEFINITION

REPO = Path(__file__).resolve().parents[3]
T0 = int(dt.datetime(2030, 6, 1, 0, 0, tzinfo=dt.UTC).timestamp())


def test_two_processes_fire_each_schedule_time_exactly_once(tmp_path: Path, metadata_url: str) -> None:
    ws = Workspace.create(tmp_path / "project", metadata_url=metadata_url)
    published = PublishedPipeline._create(ws, "p", None, None, DEFINITION, None)
    start = dt.datetime.fromtimestamp(T0, dt.UTC)
    minute = Schedule.create(
        ws,
        "minute",
        published.id,
        "scheduled",
        recurrence=ScheduleRecurrence("Minute", 1, start_time=start),
        catch_up="all",
    )
    five = Schedule.create(
        ws, "five", published.id, "scheduled", recurrence=ScheduleRecurrence("Minute", 5, start_time=start)
    )
    close_backends()
    go = tmp_path / "go"
    (tmp_path / "barrier").mkdir()
    # 15 ticks 40 s apart: fake times T0 … T0+9m20s, so "minute" fires 10 times and "five" twice.
    command = [
        sys.executable,
        "-m",
        "tests.pipelines.publishing.fire_worker",
        str(ws.root),
        str(go),
        str(T0),
        "40",
        "15",
    ]
    workers = [
        subprocess.Popen([*command, name, "2"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for name in ("a", "b")
    ]
    go.touch()
    outputs = [w.communicate(timeout=120) for w in workers]
    for worker, (_out, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err
    fired = [json.loads(out.strip().splitlines()[-1]) for out, _err in outputs]
    every = fired[0] + fired[1]
    assert len(every) == len(set(every)) == 12, fired  # no run twice, none lost
    print("fires per process:", [len(f) for f in fired])

    ws = Workspace(ws.root)
    fires = {
        s.name: sorted((f.fire_time, f.run_id) for f in ws.metadata.list_schedule_fires(s.id)) for s in (minute, five)
    }
    assert [t for t, _ in fires["minute"]] == [T0 + 60 * k for k in range(10)]
    assert [t for t, _ in fires["five"]] == [T0, T0 + 300]
    assert {r for pairs in fires.values() for _, r in pairs} == set(every)
    runs = Experiment(ws, "scheduled").get_runs()
    assert sorted(r.id for r in runs) == sorted(every)
