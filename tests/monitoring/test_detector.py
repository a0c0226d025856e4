"""``DataDriftDetector`` end to end (issue 20) as a new user meets it: a month of baseline data, a
time-stamped target with drift from week 3 in 3 of its 20 columns, a detector with a webhook alert,
one backfill of the month (driven by the workspace's agent, one child run per week) — then the
results, the alerts, the figures and every mistake a user can make.

One backfill per module (fixed seeds); the other tests read it.
"""

from __future__ import annotations

import datetime as dt
import http.server
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from jupyter_mlws import AlertConfiguration, DataDriftDetector, Dataset, Run, Workspace
from jupyter_mlws.compute import agent
from jupyter_mlws.core.activities import Activity
from jupyter_mlws.errors import InvalidArgumentError, MlwsError, NotFoundError
from jupyter_mlws.monitoring.views import drift_run_view, monitor_view, monitors_view
from tests.support.drift_data import COLUMNS, DRIFTED, drift_frame

UTC = dt.UTC
MONDAY = dt.datetime(2026, 11, 2, tzinfo=UTC)  # the month's first week starts on this Monday
WEEK_ROWS = 1500
SHORT_WEEK_ROWS = 20  # week 5: too few rows to judge


class Webhook:
    """A local HTTP server that keeps every JSON body POSTed to it."""

    def __init__(self) -> None:
        received: list[dict[str, Any]] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.received = received
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/drift"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def target_frame() -> pd.DataFrame:
    """Five weeks of rows, a timestamp each: weeks 3 and 4 drifted; week 4 with nulls and unseen
    categories; week 5 with too few rows."""
    weeks = []
    rng = np.random.default_rng(7)
    for week in range(5):
        rows = SHORT_WEEK_ROWS if week == 4 else WEEK_ROWS
        frame = drift_frame(rows, seed=100 + week, shift=1.0 if week in (2, 3) else 0.0)
        seconds = np.sort(rng.uniform(0, 7 * 86400 - 1, rows))
        frame.insert(0, "ts", pd.to_datetime(MONDAY + dt.timedelta(weeks=week)) + pd.to_timedelta(seconds, unit="s"))
        if week == 3:  # in drifted columns: nulls and new categories are drift too (the classifier sees them)
            frame.loc[frame.index[:40], "n3"] = np.nan
            frame.loc[frame.index[:25], "c1"] = "never-seen"
        weeks.append(frame)
    return pd.concat(weeks, ignore_index=True)


@dataclass
class Monitored:
    ws: Workspace
    detector: DataDriftDetector
    backfill: Run
    webhook: Webhook


@pytest.fixture(scope="module")
def monitored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Monitored]:
    root: Path = tmp_path_factory.mktemp("drift")
    ws = Workspace.create(root)
    webhook = Webhook()
    try:
        store = ws.get_default_datastore()
        baseline = Dataset.Tabular.register_pandas_dataframe(drift_frame(3000, seed=1), (store, "drift"), "baseline")
        target = Dataset.Tabular.register_pandas_dataframe(target_frame(), (store, "drift"), "traffic")
        target = target.with_timestamp_columns(timestamp="ts").register(ws, "traffic", create_new_version=True)
        detector = DataDriftDetector.create_from_datasets(
            ws,
            "traffic-monitor",
            baseline,
            target,
            frequency="Week",
            alert_config=AlertConfiguration(email_addresses=["ops@example.com"], webhook_url=webhook.url),
            drift_threshold=0.2,
        )
        backfill = detector.backfill(MONDAY, MONDAY + dt.timedelta(weeks=5))
        backfill.wait_for_completion(timeout=300)
        yield Monitored(ws, detector, backfill, webhook)
    finally:
        webhook.close()
        agent.stop(ws)


def test_the_backfill_sees_the_drift_from_week_three(monitored: Monitored) -> None:
    assert monitored.backfill.get_status() == "Completed"
    children = sorted(monitored.backfill.get_children(), key=lambda r: r.properties["mlws.drift.interval_start"])
    assert [c.get_status() for c in children] == ["Completed"] * 4 + ["Failed"]
    # the short week failed alone, with the reason
    assert "50" in children[4].get_details()["error"]["message"]
    results, metrics = monitored.detector.get_output()
    assert [r["start_date"] for r in results] == [MONDAY + dt.timedelta(weeks=w) for w in range(4)]
    assert [r["drift_detected"] for r in results] == [False, False, True, True]
    magnitudes = [r["drift_magnitude"] for r in results]
    assert max(magnitudes[:2]) < 20 < min(magnitudes[2:]), magnitudes
    for result in results:
        assert result["datadrift_coefficient"] == pytest.approx(result["drift_magnitude"] / 100)
        assert set(result["features"]) == set(COLUMNS)
        assert result["end_date"] - result["start_date"] == dt.timedelta(weeks=1)
    for result in results[2:]:
        ranked = sorted(result["features"], key=lambda f: -result["features"][f]["datadrift_contribution"])
        assert set(ranked[:3]) == set(DRIFTED)
        drifted = {name for name, f in result["features"].items() if f["drifted"]}
        assert drifted == set(DRIFTED)
    feature = results[3]["features"]["n3"]
    assert set(feature) >= {
        "datadrift_contribution",
        "wasserstein_distance",
        "normalized_wasserstein_distance",
        "ks_statistic",
        "p_value",
        "jensen_shannon_distance",
        "population_stability_index",
        "drifted",
        "null_count",
        "unseen_category_count",
    }
    # metrics: the same values, one dict per interval and feature
    assert len(metrics) == 4 * len(COLUMNS)
    row = next(m for m in metrics if m["feature"] == "n3" and m["start_date"] == results[3]["start_date"])
    assert row["datadrift_contribution"] == feature["datadrift_contribution"]


def test_nulls_and_unseen_categories_are_counted(monitored: Monitored) -> None:
    results, _ = monitored.detector.get_output(start_time=MONDAY + dt.timedelta(weeks=3, days=1))
    assert len(results) == 1  # only week 4 overlaps
    features = results[0]["features"]
    assert features["n3"]["null_count"] == 40 and features["n1"]["null_count"] == 0
    assert features["c1"]["unseen_category_count"] == 25 and features["c0"]["unseen_category_count"] == 0


def test_output_between_two_times_is_the_intervals_overlapping_them(monitored: Monitored) -> None:
    week = dt.timedelta(weeks=1)
    results, _ = monitored.detector.get_output(MONDAY + week, MONDAY + 3 * week)  # as backfill's [start, end)
    assert [r["start_date"] for r in results] == [MONDAY + week, MONDAY + 2 * week]
    assert all(r["drift_type"] == "DatasetBased" for r in results)


def test_output_by_run_id_of_the_backfill_or_an_interval(monitored: Monitored) -> None:
    all_of_it, _ = monitored.detector.get_output(run_id=monitored.backfill.id)
    assert len(all_of_it) == 4
    week3 = all_of_it[2]["run_id"]
    (one,), metrics = monitored.detector.get_output(run_id=week3)
    assert one["run_id"] == week3 and one["drift_detected"] and len(metrics) == len(COLUMNS)
    with pytest.raises(InvalidArgumentError, match="no check of drift detector"):
        monitored.detector.get_output(run_id=_plain_run(monitored))


def test_the_intervals_above_the_threshold_raised_alerts(monitored: Monitored) -> None:
    intervals = {child.id for child in monitored.backfill.get_children()}
    alerts = [a for a in Activity.list(monitored.ws, kind="drift.alert") if a.run_id in intervals]
    starts = sorted(a.details["interval_start"][:10] for a in alerts)
    assert starts == ["2026-11-16", "2026-11-23"]
    assert all(a.status == "Completed" for a in alerts)
    # email goes nowhere without an SMTP server, and the alert says so
    assert all(any("no SMTP server" in line for line in a.details["delivery"]) for a in alerts)
    bodies = sorted(
        (b for b in monitored.webhook.received if b["run_id"] in intervals), key=lambda b: b["interval_start"]
    )
    assert [b["interval_start"][:10] for b in bodies] == ["2026-11-16", "2026-11-23"]
    for body in bodies:
        assert body["detector"] == "traffic-monitor" and body["threshold"] == 20.0 and body["drift_threshold"] == 0.2
        assert body["magnitude"] > 20 and body["interval_end"] > body["interval_start"]
        assert set(body["top_features"][:3]) == set(DRIFTED)


def test_views_for_rest_cli_and_lab(monitored: Monitored) -> None:
    (summary,) = monitors_view(monitored.ws)
    assert summary["name"] == "traffic-monitor" and summary["alert"] is True
    assert summary["last"]["status"] == "Failed"  # the newest interval is the short week
    assert summary["feature_count"] == len(COLUMNS) and summary["schedule_enabled"] is False
    detail = monitor_view(monitored.ws, "traffic-monitor")
    assert [i["status"] for i in detail["intervals"]] == ["Completed"] * 4 + ["Failed"]
    assert {f["name"] for f in detail["intervals"][2]["features"][:3]} == set(DRIFTED)
    assert detail["runs"][0]["run_id"] == monitored.backfill.id and detail["runs"][0]["interval_count"] == 5
    assert detail["alert_config"]["webhook_url"] == monitored.webhook.url
    check = drift_run_view(monitored.ws, monitored.backfill.id)
    assert check["kind"] == "check" and len(check["intervals"]) == 5 and check["distributions"] is None
    interval = drift_run_view(monitored.ws, detail["intervals"][3]["run_id"])
    assert interval["kind"] == "interval" and set(interval["distributions"]) == set(COLUMNS)
    with pytest.raises(NotFoundError, match="no data drift check"):
        drift_run_view(monitored.ws, _plain_run(monitored))


def _plain_run(monitored: Monitored) -> str:
    run = monitored.backfill.experiment.start_logging()
    run.complete()
    return run.id


def test_show_gives_plotly_figures_and_the_runs_hold_them(monitored: Monitored) -> None:
    figures = monitored.detector.show()
    assert "drift_magnitude" in figures and len(figures) == 1 + 4
    assert all(hasattr(f, "to_plotly_json") for f in figures.values())
    week4 = monitored.detector.get_output()[0][3]["run_id"]
    run = Run(monitored.backfill.experiment, week4)
    names = set(run.get_file_names())
    assert {"drift/result.json", "drift/distributions.json", "drift/figures/contributions.json"} <= names
    assert run.get_metrics()["drift_detected"] == 1


def test_run_checks_the_interval_containing_a_date(monitored: Monitored) -> None:
    run = monitored.detector.run(MONDAY + dt.timedelta(weeks=2, days=3, hours=5))
    run.wait_for_completion(timeout=120)
    (child,) = run.get_children()
    assert child.properties["mlws.drift.interval_start"].startswith("2026-11-16")
    assert child.get_metrics()["drift_detected"] == 1


def test_find_update_and_delete(monitored: Monitored, tmp_path: Path) -> None:
    ws = monitored.ws
    found = DataDriftDetector.get_by_name(ws, "traffic-monitor")
    assert found.frequency == "Week" and found.drift_threshold == 0.2 and found.state == "Disabled"
    assert found.baseline_dataset.name == "baseline" and found.target_dataset.timestamp_columns[0] == "ts"
    other = DataDriftDetector.create_from_datasets(
        ws, "scratch-monitor", found.baseline_dataset, found.target_dataset, feature_list=["n1", "c2"]
    )
    assert [d.name for d in DataDriftDetector.list(ws)] == ["scratch-monitor", "traffic-monitor"]
    updated = other.update(drift_threshold=0.5, feature_list=["n1"], frequency="Day")
    assert updated is other and other.drift_threshold == 0.5 and other.feature_list == ["n1"]
    assert DataDriftDetector.get_by_name(ws, "scratch-monitor").frequency == "Day"
    other.delete()
    assert [d.name for d in DataDriftDetector.list(ws)] == ["traffic-monitor"]
    with pytest.raises(NotFoundError, match="'scratch-monitor' does not exist"):
        DataDriftDetector.get_by_name(ws, "scratch-monitor")


def test_every_mistake_is_named_and_nothing_stored_changes(monitored: Monitored) -> None:
    ws = monitored.ws
    baseline = DataDriftDetector.get_by_name(ws, "traffic-monitor").baseline_dataset
    target = DataDriftDetector.get_by_name(ws, "traffic-monitor").target_dataset
    untimed = Dataset.get_by_name(ws, "traffic", version=1)
    wide = [f"f{i}" for i in range(201)]
    cases: list[tuple[dict[str, Any], str]] = [
        ({"target_dataset": untimed}, "no timestamp column"),
        ({"feature_list": wide}, "201 features"),
        ({"feature_list": ["n1", "nope"]}, "'nope'"),
        ({"drift_threshold": 1.5}, "drift_threshold must be a number between 0 and 1"),
        ({"frequency": "Hour"}, "frequency must be one of Day, Week, Month"),
        ({"latency": -1}, "latency is a whole number of days"),
        ({"frequency": "Month", "latency": 28}, "too long for a monthly detector"),
        ({"name": "traffic-monitor"}, "already exists"),
        ({"name": "bad name!"}, "invalid drift detector name"),
        ({"baseline_dataset": "baseline"}, "must be a TabularDataset"),
        ({"compute_target": "nowhere"}, "nowhere"),
        ({"alert_config": {"email_addresses": []}}, "alert_config is an AlertConfiguration"),
    ]
    before = [(d.name, d.modified_time) for d in DataDriftDetector.list(ws)]
    for change, message in cases:
        arguments: dict[str, Any] = {
            "name": "new-monitor",
            "baseline_dataset": baseline,
            "target_dataset": target,
            **change,
        }
        with pytest.raises(MlwsError, match=message) as info:
            DataDriftDetector.create_from_datasets(ws, **arguments)
        assert "Traceback" not in str(info.value)
    detector = monitored.detector
    with pytest.raises(InvalidArgumentError, match="201 features"):
        detector.update(feature_list=wide)
    with pytest.raises(InvalidArgumentError, match="not after start_date"):
        detector.backfill("2026-11-30", "2026-11-02")
    with pytest.raises(InvalidArgumentError, match="target_date 'someday' is no date"):
        detector.run("someday")
    with pytest.raises(InvalidArgumentError, match="email address 'ops' is not an address"):
        AlertConfiguration(email_addresses=["ops"])
    with pytest.raises(InvalidArgumentError, match="webhook_url"):
        AlertConfiguration(webhook_url="ftp://x")
    with pytest.raises(InvalidArgumentError, match="is no URL"):
        AlertConfiguration(webhook_url="http://localhost:abc/x")
    with pytest.raises(InvalidArgumentError, match="'nope'"):
        detector.run(MONDAY, feature_list=["n1", "nope"])
    with pytest.raises(InvalidArgumentError, match="services is a list"):
        detector.run(MONDAY, services=123)
    assert [(d.name, d.modified_time) for d in DataDriftDetector.list(ws)] == before
    assert DataDriftDetector.get_by_name(ws, "traffic-monitor").feature_list is None
