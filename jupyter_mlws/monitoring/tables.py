"""Terminal rows of the drift views (``views.py``): what ``mlws drift list | show | backfill | run`` print.

Pure functions of the views' dicts, so that every terminal surface shows a detector the same way.
Magnitudes are 0..100 (v1's drift magnitude); a detector's ``drift_threshold`` is on v1's 0..1
coefficient scale, so it is shown beside the magnitude it means (0.2 -> above 20).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = [
    "INTERVAL_HEADERS",
    "MONITOR_HEADERS",
    "date_text",
    "detail_rows",
    "interval_line",
    "interval_rows",
    "monitor_rows",
    "summary_line",
    "threshold_text",
]

MONITOR_HEADERS = ("name", "frequency", "threshold", "last interval", "status", "magnitude", "alert")
INTERVAL_HEADERS = ("start", "end", "status", "magnitude", "drift", "top features")
TOP_FEATURES = 3
DASH = "\u2013"  # an en dash, as in the interval runs' display names ("<start> <dash> <end>")


def date_text(value: Any) -> str:
    """An interval bound as a date (``2026-11-02``), with the time only when it is not midnight UTC."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        when = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    elif isinstance(value, str):
        when = dt.datetime.fromisoformat(value)
        when = when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)
    else:
        when = dt.datetime.fromtimestamp(float(value), dt.UTC)
    day = when.date().isoformat()  # not strftime: it drops a year's leading zeros (year 1 -> "1")
    return day if when.time() == dt.time(0) else f"{day} {when:%H:%M}"


def _magnitude(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _drift(interval: Mapping[str, Any]) -> str:
    detected = interval.get("drift_detected")
    return "" if detected is None else ("yes" if detected else "no")


def threshold_text(threshold: float) -> str:
    """``0.2`` -> ``0.2 (magnitude above 20)``."""
    return f"{threshold:g} (magnitude above {threshold * 100:g})"


def _span(interval: Mapping[str, Any] | None) -> str:
    if interval is None:
        return ""
    return f"{date_text(interval['start_date'])} {DASH} {date_text(interval['end_date'])}"


def monitor_rows(views: Iterable[Mapping[str, Any]]) -> list[list[Any]]:
    """One row per detector under MONITOR_HEADERS."""
    rows = []
    for view in views:
        last = view.get("last")
        rows.append(
            [
                view["name"],
                view["frequency"],
                f"{view['drift_threshold']:g}",
                _span(last),
                None if last is None else last["status"],
                None if last is None else _magnitude(last["magnitude"]),
                "ALERT" if view["alert"] else None,
            ]
        )
    return rows


def _top(features: Sequence[Mapping[str, Any]], top: int = TOP_FEATURES) -> str:
    """The largest contributions (the view sorts them), a drifted feature marked ``*``."""
    parts = []
    for feature in features[:top]:
        share = feature.get("contribution")
        mark = "*" if feature.get("drifted") else ""
        parts.append(f"{feature['name']}{mark}" + ("" if share is None else f" {share:.2f}"))
    return ", ".join(parts)


def interval_rows(intervals: Iterable[Mapping[str, Any]]) -> list[list[Any]]:
    """One row per interval under INTERVAL_HEADERS; a failed interval's reason stands in for its features."""
    rows = []
    for interval in intervals:
        features = interval.get("features") or []
        rest = _top(features) if features else (interval.get("error") or "")
        rows.append(
            [
                date_text(interval["start_date"]),
                date_text(interval["end_date"]),
                interval["status"],
                _magnitude(interval["magnitude"]),
                _drift(interval),
                rest.splitlines()[0] if rest else None,
            ]
        )
    return rows


def interval_line(interval: Mapping[str, Any]) -> str:
    """An ended interval on one line: its dates, ``magnitude 41.3  drift yes  (top: x1* 0.40, ...)``, or
    its status and why it failed."""
    head = _span(interval)
    if interval["magnitude"] is None:
        reason = (interval.get("error") or "").strip().splitlines()
        return f"{head}  {interval['status']}" + (f": {reason[0]}" if reason else "")
    line = f"{head}  magnitude {_magnitude(interval['magnitude'])}  drift {_drift(interval) or '?'}"
    features = interval.get("features") or []
    if features:
        line += f"  (top: {_top(features)})"
    return line


def summary_line(view: Mapping[str, Any]) -> str:
    """A check (a ``DriftRunView``) summed up: its status, and how many intervals drifted or failed."""
    intervals = view["intervals"]
    drifted = sum(1 for i in intervals if i.get("drift_detected"))
    failed = sum(1 for i in intervals if i["status"] in ("Failed", "Canceled"))
    noun = "interval" if len(intervals) == 1 else "intervals"
    text = f"{view['status']}: {len(intervals)} {noun} checked, {drifted} drifted"
    if failed:
        text += f", {failed} failed"
    return text


def detail_rows(view: Mapping[str, Any]) -> list[tuple[str, str]]:
    """A detector's fields, one ``(field, value)`` per line of ``mlws drift show``."""
    alerts = view.get("alert_config") or {}
    emails = ", ".join(alerts.get("email_addresses") or []) or "none"
    webhook = alerts.get("webhook_url") or "none"
    created = dt.datetime.fromtimestamp(float(view["created_time"]), dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    rows = [
        ("detector", view["name"]),
        ("baseline", view["baseline"]),
        ("target", view["target"]),
    ]
    if view.get("service"):
        rows.append(("service", view["service"]))
    features = view.get("features")
    # No feature list: every column the baseline and the target share (feature_count counts the baseline's).
    feature_text = ", ".join(features) if features else f"all shared columns ({view['feature_count']})"
    rows += [
        ("frequency", view["frequency"]),
        ("threshold", threshold_text(view["drift_threshold"])),
        ("latency", f"{view['latency']} day(s)"),
        ("features", feature_text),
        ("schedule", "enabled" if view["schedule_enabled"] else "disabled"),
        ("alerts", f"email {emails}; webhook {webhook}"),
        ("created", created),
    ]
    last = view.get("last")
    if last is not None:
        state = "ALERT" if view["alert"] else "no alert"
        rows.append(("last", f"{_span(last)}  magnitude {_magnitude(last['magnitude'])}  {state}"))
    return rows
