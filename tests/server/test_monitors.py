"""REST routes of data-drift monitors (issue 20): ``GET monitors``, ``GET monitors/{name}``,
``POST monitors/{name}/backfill`` and ``/run`` (202 with the check's run id) and ``GET runs/{run_id}/drift``.

One detector is made once for the module with the public facade, over a registered baseline and a
time-stamped target of three weeks: the first too small to check (fewer than 50 rows), the second like
the baseline, the third with ``n3`` shifted by three standard deviations; a backfill of the three
weeks runs to its end. Each test reads it through a real Jupyter server; the ``api`` client validates
every reply against openapi.yaml and fails on any 5xx.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from jupyter_mlws import AlertConfiguration, DataDriftDetector, Experiment, Workspace
from jupyter_mlws.core.workspace import close_backends
from jupyter_mlws.data.dataset import Dataset
from tests.server.conftest import Api, expect_error, poll, stop_jobs
from tests.support.drift_weeks import DRIFTED, FEATURES, drift_weeks

WEEKS = [dt.datetime(2026, 10, 26, tzinfo=dt.UTC) + dt.timedelta(weeks=i) for i in range(4)]  # Mondays
TERMINAL = ("Completed", "Failed", "Canceled")


@dataclass(frozen=True)
class Monitors:
    root: Path
    backfill: str  # the module's backfill of the three weeks, ended
    plain: str  # an interactive run: no drift run


@pytest.fixture(scope="module")
def monitors(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Monitors]:
    root = tmp_path_factory.mktemp("monitors-root")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLWS_AGENT_IDLE_SECONDS", "5")
        ws = Workspace.create(root)
        try:
            baseline_path, target_path = drift_weeks(root / "data", WEEKS[0])
            baseline = Dataset.Tabular.from_parquet_files(str(baseline_path)).register(ws, "shop-baseline")
            target = Dataset.Tabular.from_parquet_files(str(target_path)).with_timestamp_columns(timestamp="ts")
            shop = DataDriftDetector.create_from_datasets(
                ws,
                "shop",
                baseline,
                target,
                frequency="Week",
                feature_list=list(FEATURES),
                drift_threshold=0.2,
                alert_config=AlertConfiguration(email_addresses=["ops@example.com"]),
            )
            DataDriftDetector.create_from_datasets(ws, "idle", baseline, target, frequency="Day")
            run = shop.backfill(WEEKS[0], WEEKS[3])
            run.wait_for_completion()
            with Experiment(ws, "plain").start_logging() as plain:
                plain.log("acc", 0.5)
            yield Monitors(root, run.id, plain.id)
        finally:
            stop_jobs(root)
            close_backends()


@pytest.fixture
def jp_root_dir(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """Each test's Jupyter server serves the module's workspace (pytest-jupyter reads this fixture), or,
    parametrized indirectly with "empty", a folder with no workspace yet."""
    if getattr(request, "param", None) == "empty":
        return tmp_path
    monitors: Monitors = request.getfixturevalue("monitors")
    assert os.path.isdir(monitors.root / ".mlws")
    return monitors.root


@pytest.mark.parametrize("jp_root_dir", ["empty"], indirect=True)
async def test_no_workspace_yet_is_an_empty_list(api: Api, jp_root_dir: Path) -> None:
    assert await api.ok("monitors") == {"monitors": []}
    expect_error(await api.get("monitors/shop"), 404, "NotFoundError", "no workspace")
    body = {"target_date": "2026-11-02"}
    expect_error(await api.post("monitors/shop/run", body=body), 404, "NotFoundError", "no workspace")
    assert not (jp_root_dir / ".mlws").exists()


def _week(iso: str) -> int:
    """Which of WEEKS an interval bound is."""
    when = dt.datetime.fromisoformat(iso)
    return WEEKS.index(when)


async def test_the_list_shows_each_detector_with_its_last_interval_and_alert(api: Api, monitors: Monitors) -> None:
    listed = (await api.ok("monitors"))["monitors"]
    assert [m["name"] for m in listed] == ["idle", "shop"]
    idle, shop = listed
    assert (idle["frequency"], idle["last"], idle["alert"]) == ("Day", None, False)
    assert shop["frequency"] == "Week" and shop["drift_threshold"] == 0.2 and shop["latency"] == 0
    assert shop["baseline"].startswith("shop-baseline") and shop["service"] is None
    assert shop["feature_count"] == 4 and shop["schedule_enabled"] is False
    assert shop["created_time"].endswith("Z")
    last = shop["last"]
    assert (_week(last["start_date"]), _week(last["end_date"])) == (2, 3)
    assert last["status"] == "Completed" and last["drift_detected"] is True
    assert last["magnitude"] > 20 and last["datadrift_coefficient"] == pytest.approx(last["magnitude"] / 100)
    assert last["parent_run_id"] == monitors.backfill
    assert shop["alert"] is True


async def test_a_detector_shows_its_intervals_features_and_checks(api: Api, monitors: Monitors) -> None:
    shop = await api.ok("monitors/shop")
    assert shop["features"] == list(FEATURES)
    assert shop["alert_config"] == {"email_addresses": ["ops@example.com"], "webhook_url": None}
    small, calm, drifted = shop["intervals"]  # oldest interval first
    assert [_week(i["start_date"]) for i in shop["intervals"]] == [0, 1, 2]
    assert small["status"] == "Failed" and "50" in small["error"] and small["magnitude"] is None
    assert calm["status"] == "Completed" and calm["drift_detected"] is False and calm["magnitude"] < 20
    assert drifted["drift_detected"] is True and drifted["magnitude"] > 20
    features = drifted["features"]
    contributions = [f["contribution"] for f in features]
    assert contributions == sorted(contributions, reverse=True)
    assert features[0]["name"] == DRIFTED and features[0]["drifted"] is True and features[0]["kind"] == "numeric"
    assert not any(f["drifted"] for f in calm["features"])
    category = next(f for f in features if f["name"] == "c0")
    assert category["kind"] == "categorical" and category["measures"]["ks_statistic"] is None
    assert category["measures"]["jensen_shannon_distance"] is not None
    [check] = shop["runs"]
    assert check["run_id"] == monitors.backfill and check["status"] == "Completed" and check["interval_count"] == 3


async def test_a_drift_run_and_an_interval_run(api: Api, monitors: Monitors) -> None:
    check = await api.ok(f"runs/{monitors.backfill}/drift")
    assert (check["detector"], check["run_id"], check["kind"]) == ("shop", monitors.backfill, "check")
    assert check["status"] == "Completed" and check["distributions"] is None
    assert [_week(i["start_date"]) for i in check["intervals"]] == [0, 1, 2]
    drifted = check["intervals"][2]
    interval = await api.ok(f"runs/{drifted['run_id']}/drift")
    assert interval["kind"] == "interval" and [i["run_id"] for i in interval["intervals"]] == [drifted["run_id"]]
    n3, c0 = interval["distributions"][DRIFTED], interval["distributions"]["c0"]
    assert n3["kind"] == "numeric" and len(n3["edges"]) == len(n3["baseline"]) + 1
    assert sum(n3["target"]) == pytest.approx(1.0)
    assert c0["kind"] == "categorical" and len(c0["categories"]) == len(c0["target"])


async def test_unknown_names_and_runs_are_404s_that_say_what(api: Api, monitors: Monitors) -> None:
    expect_error(await api.get("monitors/no-such-detector"), 404, "NotFoundError", "no-such-detector")
    body = {"start_date": "2026-11-02", "end_date": "2026-11-09"}
    expect_error(await api.post("monitors/no-such-detector/backfill", body=body), 404, "NotFoundError", "no-such")
    body = {"target_date": "2026-11-02"}
    expect_error(await api.post("monitors/no-such-detector/run", body=body), 404, "NotFoundError", "no-such")
    expect_error(await api.get("runs/no-such-run/drift"), 404, "NotFoundError", "no-such-run")
    expect_error(await api.get(f"runs/{monitors.plain}/drift"), 404, "NotFoundError", monitors.plain)


async def test_bad_bodies_are_400s_naming_the_field(api: Api, monitors: Monitors) -> None:
    backfill = "monitors/shop/backfill"
    bad = {"start_date": "last tuesday", "end_date": "2026-11-09"}
    expect_error(await api.post(backfill, body=bad), 400, "InvalidArgumentError", "start_date", "ISO 8601")
    bad = {"start_date": "2026-11-02", "end_date": "2026-11-31"}
    expect_error(await api.post(backfill, body=bad), 400, "InvalidArgumentError", "end_date", "ISO 8601")
    expect_error(await api.post(backfill, body={"start_date": "2026-11-02"}), 400, "InvalidArgumentError", "end_date")
    bad = {"start_date": 20261102, "end_date": "2026-11-09"}
    expect_error(await api.post(backfill, body=bad), 400, "InvalidArgumentError", "start_date")
    expect_error(await api.post(backfill, body=b"{not json"), 400, "InvalidArgumentError", "JSON")
    # An empty range is refused by the detector, before any run is made.
    bad = {"start_date": "2026-11-09", "end_date": "2026-11-02"}
    expect_error(await api.post(backfill, body=bad), 400, "InvalidArgumentError")
    # The calendar's edges and a backfill's size are 400s too, not overflows (nor millions of runs).
    bad = {"start_date": "0001-01-01", "end_date": "9999-12-31"}
    expect_error(await api.post(backfill, body=bad), 400, "InvalidArgumentError", "at most 1000")
    bad = {"start_date": "0001-01-01T00:00:00+01:00", "end_date": "2026-11-09"}
    expect_error(await api.post(backfill, body=bad), 400, "InvalidArgumentError", "start_date", "out of range")
    bad = {"target_date": "9999-12-31T23:59:59"}
    expect_error(await api.post("monitors/shop/run", body=bad), 400, "InvalidArgumentError", "9999-12-31")
    bad = {"target_date": "soon"}
    expect_error(await api.post("monitors/shop/run", body=bad), 400, "InvalidArgumentError", "target_date", "ISO")
    # The body is checked before the name: a bad body to an unknown detector is a 400.
    expect_error(await api.post("monitors/nope/run", body={}), 400, "InvalidArgumentError", "target_date")


async def test_a_check_answers_202_with_its_run_which_ends(api: Api, monitors: Monitors) -> None:
    # A time with an offset: 2026-11-09T01:00+02:00 is 2026-11-08T23:00Z, in the second week.
    reply = await api.post("monitors/shop/run", body={"target_date": "2026-11-09T01:00:00+02:00"})
    assert reply.status == 202 and set(reply.data) == {"run_id"}, reply
    run_id = reply.data["run_id"]

    async def ended() -> dict | None:
        view = await api.ok(f"runs/{run_id}/drift")
        return view if view["status"] in TERMINAL else None

    view = await poll(ended, what=f"the check {run_id} to end")
    assert view["status"] == "Completed" and view["kind"] == "check"
    [interval] = view["intervals"]
    assert (_week(interval["start_date"]), interval["drift_detected"]) == (1, False)
    # The newest check comes first on the detector page; the latest check of each interval is shown.
    shop = await api.ok("monitors/shop")
    assert shop["runs"][0]["run_id"] == run_id and shop["runs"][0]["interval_count"] == 1
    assert shop["intervals"][1]["parent_run_id"] == run_id

    body = {"start_date": "2026-11-16", "end_date": "2026-11-23T00:00:00Z"}
    reply = await api.post("monitors/shop/backfill", body=body)
    assert reply.status == 202, reply
    assert (await api.ok(f"runs/{reply.data['run_id']}/drift"))["detector"] == "shop"
