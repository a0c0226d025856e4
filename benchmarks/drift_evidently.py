"""Evidently's side of bench_drift.py, run with the Evidently venv's interpreter (pandas 2.x; see ENVIRONMENT.md).

    <evidently venv>/bin/python benchmarks/drift_evidently.py SPEC.json

A worker that bench_drift.py drives over stdin/stdout, so Evidently's repetitions take turns with the other
sides' under the same machine load. SPEC.json: ``{"numeric": [...], "categorical": [...], "cases": [{"label":
"10000", "baseline": "b.parquet", "target": "t.parquet"}, ...]}``. It imports Evidently and reads every case's
two Parquet files (untimed), answers ``ready``, then per line on stdin:

- ``run LABEL``: one check of that case, timed with ``time.perf_counter`` in this process (the interpreter's
  start and Evidently's import, several seconds, are not counted): what a user of Evidently writes for one check,
  both frames wrapped as ``Dataset.from_pandas`` with an explicit ``DataDefinition`` (the same numeric/categorical
  split the other sides get) and ``Report([DataDriftPreset()]).run(target, baseline)`` with its defaults (normed
  Wasserstein / Jensen-Shannon at 0.1 above 1,000 rows, K-S / chi-squared p < 0.05 below); answers the seconds;
- ``columns LABEL``: per column of the case's last check, untimed: the method, score, threshold and whether
  Evidently calls it drifted.

Answers are single lines of JSON prefixed with ``@@ `` (anything else a library prints is not an answer).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import evidently
import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset


def check(baseline: pd.DataFrame, target: pd.DataFrame, definition: DataDefinition) -> Any:
    reference = Dataset.from_pandas(baseline, data_definition=definition)
    current = Dataset.from_pandas(target, data_definition=definition)
    return Report([DataDriftPreset()]).run(current, reference)


def columns_of(snapshot: Any) -> dict[str, Any]:
    """Per column: the method, its score, its threshold and whether Evidently calls it drifted."""
    columns: dict[str, Any] = {}
    for metric in snapshot.dict()["metrics"]:
        config = metric["config"]
        if not config["type"].endswith("ValueDrift"):
            continue
        method, score, threshold = config["method"], float(metric["value"]), float(config["threshold"])
        # A p-value drifts below its threshold, a distance at or above it (Evidently's own rule).
        drifted = score < threshold if "p_value" in method else score >= threshold
        columns[config["column"]] = {"method": method, "score": score, "threshold": threshold, "drifted": drifted}
    return columns


def answer(value: Any) -> None:
    print("@@ " + json.dumps(value), flush=True)


def main() -> int:
    spec = json.loads(Path(sys.argv[1]).read_text())
    definition = DataDefinition(numerical_columns=spec["numeric"], categorical_columns=spec["categorical"])
    frames = {
        case["label"]: (pd.read_parquet(case["baseline"]), pd.read_parquet(case["target"])) for case in spec["cases"]
    }
    last: dict[str, Any] = {}
    answer({"ready": True, "evidently": evidently.__version__, "pandas": pd.__version__})
    for line in sys.stdin:
        command, label = line.split()
        if command == "run":
            baseline, target = frames[label]
            started = time.perf_counter()
            last[label] = check(baseline, target, definition)
            answer({"seconds": time.perf_counter() - started})
        elif command == "columns":
            answer(columns_of(last[label]) if label in last else {})
        else:
            answer({"error": f"unknown command {command!r}"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
