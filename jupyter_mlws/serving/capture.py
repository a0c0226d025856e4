"""Input capture of a web service: the rows a sampled request scored, with their predictions (issue 17).

Writer side, inside the scoring worker (stdlib + orjson). One JSON object per input row: the row's
features (a dict row's keys; a positional row's values as ``feature_0…``), ``"prediction"`` (that
row's prediction when the predictions list matches the rows, else the whole reply), ``"$request_id"``
and ``"$time"``. Part files ``part-<ms>-<pid>-<seq>.jsonl`` are written complete (temp + rename) at
most once a second, so a reader never sees half a part.
"""

from __future__ import annotations

import contextlib
import os
import random
import time
from pathlib import Path
from typing import Any

import orjson

__all__ = ["CaptureWriter", "input_rows", "predictions_of"]

MLFLOW_KEYS = ("dataframe_split", "dataframe_records", "instances", "inputs")
_WRAPPERS = ("data", "input_data")  # v1's {"data": [...]}, managed endpoints' {"input_data": ...}


def _feature_row(row: Any) -> dict[str, Any]:
    if isinstance(row, dict):
        return dict(row)
    if isinstance(row, list | tuple):
        return {f"feature_{i}": value for i, value in enumerate(row)}
    return {"feature_0": row}


def _columns_to_rows(columns: dict[str, Any]) -> list[dict[str, Any]]:
    lengths = {len(v) for v in columns.values() if isinstance(v, list)}
    if len(lengths) != 1 or not all(isinstance(v, list) for v in columns.values()):
        return [dict(columns)]
    (n,) = lengths
    return [{name: values[i] for name, values in columns.items()} for i in range(n)]


def input_rows(payload: Any) -> list[dict[str, Any]]:
    """The input rows of a JSON request body, as feature dicts (MLflow shapes, ``{"data": …}``,
    ``{"columns", "data"}``, a list of rows, or one row)."""
    if isinstance(payload, dict):
        for key in MLFLOW_KEYS:
            if key in payload:
                value = payload[key]
                if key == "dataframe_split" and isinstance(value, dict):
                    return input_rows(value)
                if key == "inputs" and isinstance(value, dict):
                    return _columns_to_rows(value)
                return input_rows(value)
        if isinstance(payload.get("columns"), list) and isinstance(payload.get("data"), list):
            columns = payload["columns"]
            return [
                dict(zip(columns, row, strict=False)) if isinstance(row, list) else _feature_row(row)
                for row in payload["data"]
            ]
        for key in _WRAPPERS:
            if key in payload and len(payload) == 1:
                return input_rows(payload[key])
        return [dict(payload)]
    if isinstance(payload, list):
        return [_feature_row(item) for item in payload]
    return [_feature_row(payload)]


def predictions_of(reply: Any) -> Any:
    """The predictions list inside a reply (``[...]`` or ``{"predictions": [...]}``), else the reply."""
    if isinstance(reply, dict) and isinstance(reply.get("predictions"), list):
        return reply["predictions"]
    return reply


class CaptureWriter:
    """Samples requests and writes the captured rows as complete part files on :meth:`flush`."""

    def __init__(self, directory: str | os.PathLike[str], sample_rate: float) -> None:
        self.directory = Path(directory)
        self.sample_rate = float(sample_rate)
        self._rows: list[bytes] = []
        self._pid = os.getpid()
        self._seq = 0

    def sampled(self) -> bool:
        rate = self.sample_rate
        return rate >= 1.0 or (rate > 0.0 and random.random() < rate)

    def add(self, request_id: str, started: float, payload: Any, reply: Any) -> None:
        rows = input_rows(payload)
        predictions = predictions_of(reply)
        per_row = isinstance(predictions, list) and len(predictions) == len(rows)
        for i, row in enumerate(rows):
            row["prediction"] = predictions[i] if per_row else reply
            row["$request_id"] = request_id
            row["$time"] = started
            try:
                self._rows.append(orjson.dumps(row, option=_DUMPS_OPTIONS, default=_jsonable))
            except TypeError:
                continue

    def flush(self) -> None:
        if not self._rows:
            return
        rows, self._rows = self._rows, []
        self._seq += 1
        name = f"part-{int(time.time() * 1000):013d}-{self._pid}-{self._seq}.jsonl"
        tmp = self.directory / f".{name}.tmp"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(b"".join(rows))
            os.replace(tmp, self.directory / name)
        except OSError:
            with contextlib.suppress(OSError):
                tmp.unlink()


_DUMPS_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS | orjson.OPT_APPEND_NEWLINE


def _jsonable(obj: Any) -> Any:
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, set | frozenset):
        return list(obj)
    raise TypeError
