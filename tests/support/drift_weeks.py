"""Three weeks of time-stamped target and a baseline, small, for the drift surfaces' tests (REST, CLI,
fuzz), written as parquet files. Four of ``drift_data``'s columns: ``n3``, ``n0``, ``n7`` numeric and
``c0`` categorical (few features and rows keep each check quick):

- week 0: 20 rows, too few to check (an interval needs 50): its check fails with the reason;
- week 1: 200 rows like the baseline;
- week 2: 200 rows with ``n3`` shifted by three standard deviations (the only drifted feature).

Fixed seeds.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from tests.support.drift_data import drift_frame

__all__ = ["DRIFTED", "FEATURES", "WEEK_ROWS", "drift_weeks"]

FEATURES = ("n3", "n0", "n7", "c0")
DRIFTED = "n3"
WEEK_ROWS = (20, 200, 200)
BASELINE_ROWS = 400


def _frame(rows: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    return drift_frame(rows, seed=seed, shift=shift, drifted=[DRIFTED])[list(FEATURES)]


def drift_weeks(folder: Path, first_monday: dt.datetime) -> tuple[Path, Path]:
    """Write ``baseline.parquet`` and ``target.parquet`` (with a UTC ``ts`` column) under ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    baseline = folder / "baseline.parquet"
    _frame(BASELINE_ROWS, seed=1).to_parquet(baseline, index=False)
    weeks = []
    week = dt.timedelta(weeks=1)
    for index, rows in enumerate(WEEK_ROWS):
        part = _frame(rows, seed=10 + index, shift=3.0 if index == 2 else 0.0)
        start = pd.Timestamp(first_monday + index * week)
        offsets = np.random.default_rng(100 + index).uniform(0.0, week.total_seconds(), rows)
        part.insert(0, "ts", start + pd.to_timedelta(np.sort(offsets), unit="s"))
        weeks.append(part)
    target = folder / "target.parquet"
    pd.concat(weeks, ignore_index=True).to_parquet(target, index=False)
    return baseline, target
