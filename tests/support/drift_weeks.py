"""Small time-stamped frames for the drift surfaces' tests (REST, CLI, fuzz): a baseline and three weeks of
target, written as parquet files. Four features: ``x0``, ``x1``, ``x2`` numeric and ``c0`` categorical.

- week 0: 20 rows, too few to check (an interval needs 50): its check fails with the reason;
- week 1: 200 rows like the baseline;
- week 2: 200 rows with ``x0`` shifted by three standard deviations (the only drifted feature).

Fixed seeds; every value drawn at once (no loop over rows).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["FEATURES", "WEEK_ROWS", "drift_weeks", "frame"]

FEATURES = ("x0", "x1", "x2", "c0")
WEEK_ROWS = (20, 200, 200)
BASELINE_ROWS = 400


def frame(rows: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    """``rows`` rows of FEATURES; ``x0`` (mean 0, std 1) moved by ``shift``."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "x0": rng.normal(0.0, 1.0, rows) + shift,
            "x1": rng.uniform(0.0, 10.0, rows),
            "x2": rng.poisson(4.0, rows).astype("int64"),
            "c0": rng.choice(np.array(["red", "green", "blue"]), rows, p=[0.5, 0.3, 0.2]),
        }
    )


def drift_weeks(folder: Path, first_monday: dt.datetime) -> tuple[Path, Path]:
    """Write ``baseline.parquet`` and ``target.parquet`` (with a UTC ``ts`` column) under ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    baseline = folder / "baseline.parquet"
    frame(BASELINE_ROWS, seed=1).to_parquet(baseline, index=False)
    weeks = []
    week = dt.timedelta(weeks=1)
    for index, rows in enumerate(WEEK_ROWS):
        part = frame(rows, seed=10 + index, shift=3.0 if index == 2 else 0.0)
        start = pd.Timestamp(first_monday + index * week)
        offsets = np.random.default_rng(100 + index).uniform(0.0, week.total_seconds(), rows)
        part.insert(0, "ts", start + pd.to_timedelta(np.sort(offsets), unit="s"))
        weeks.append(part)
    target = folder / "target.parquet"
    pd.concat(weeks, ignore_index=True).to_parquet(target, index=False)
    return baseline, target
