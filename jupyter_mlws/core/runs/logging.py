"""Logging of a run: metrics (buffered scalars, text, lists, table rows, images, v1 charts), params,
tags, properties."""

from __future__ import annotations

import io
import os
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ...errors import InvalidArgumentError, NotFoundError
from ..entities import MetricPoint
from ..names import validate_key
from ..values import as_number, as_step, as_text, chart_value, json_row, metric_value, text_values
from .base import RunBase

__all__ = ["RunLogging"]

_now = time.time
_KIND_WORDS = {
    "scalar": "numbers",
    "text": "text or booleans",
    "table": "table rows",
    "image": "images",
    "confusion_matrix": "a confusion matrix",
    "accuracy_table": "an accuracy table",
    "residuals": "residuals",
    "predictions": "predictions",
}


class RunLogging(RunBase):
    def _claim(self, name: str, kind: str) -> None:
        known = self._kinds.get(name)
        if known is None:
            validate_key("metric", name)
            self._kinds[name] = kind
        elif known != kind:
            raise InvalidArgumentError(
                f"metric {name!r} of run {self._id} already holds {_KIND_WORDS[known]}; "
                f"log {_KIND_WORDS[kind]} under another name"
            )

    def log(self, name: str, value: Any, step: int | None = None, description: str = "") -> None:
        """Log one number (NaN and inf allowed), or as Azure ML v1 does a string or a boolean (a
        text-valued metric; a name holds either numbers or text). Numbers return at once (a
        background thread writes them); text is written before this returns."""
        # The hot path: a million calls a minute must stay cheap (benchmarks/bench_tracking.py).
        if type(value) is not float:
            value = metric_value(name, value)
            if type(value) is not float:
                self._log_text(name, [value], step)
                return
        if self._kinds.get(name) != "scalar":
            self._claim(name, "scalar")
        if step is not None and type(step) is not int:
            step = as_step(step)
        self._enqueue((self._id, name, value, step, _now()))

    def _log_text(self, name: str, values: list[Any], step: int | None = None) -> None:
        texts = text_values(name, values)  # a refused value or step claims no name
        step = as_step(step)
        self._claim(name, "text")
        self._logging.log_text(self._id, name, texts, step)

    def log_list(self, name: str, value: Iterable[Any], description: str = "") -> None:
        """Log a list of numbers as one series, or (as v1) a list of strings or booleans."""
        values = list(value)
        if values and as_text(values[0]) is not None:  # text, as its first value says (numbers stay cheap)
            self._log_text(name, values)
            return
        self._claim(name, "scalar")
        now = time.time()
        rid = self._id
        points = [(rid, name, as_number(name, v), None, now) for v in values]
        self._writer.queue.extend(points)

    # -- Azure ML v1's chart metrics: one JSON document each (see values.chart_value) --------------------------------
    def _log_chart(self, kind: str, name: str, value: Any) -> None:
        document = chart_value(kind, name, value)  # a refused value claims no name
        self._claim(name, kind)
        self._logging.log_chart(self._id, name, kind, document)

    def log_confusion_matrix(self, name: str, value: Any, description: str = "") -> None:
        """A confusion matrix, as v1: ``{"schema_type": "confusion_matrix", "schema_version": "1.0.0",
        "data": {"class_labels": [...], "matrix": [[...], ...]}}`` (a dict or a JSON string)."""
        self._log_chart("confusion_matrix", name, value)

    def log_accuracy_table(self, name: str, value: Any, description: str = "") -> None:
        """An accuracy table, as v1: ``schema_type`` ``"accuracy_table"``, ``data`` with
        ``probability_tables``, ``percentile_tables`` (per class, per threshold ``[TP, FP, TN, FN]``),
        ``probability_thresholds``, ``percentile_thresholds`` and ``class_labels``."""
        self._log_chart("accuracy_table", name, value)

    def log_residuals(self, name: str, value: Any, description: str = "") -> None:
        """A histogram of residuals, as v1: ``schema_type`` ``"residuals"``, ``data`` with
        ``bin_edges`` (one more than) ``bin_counts``."""
        self._log_chart("residuals", name, value)

    def log_predictions(self, name: str, value: Any, description: str = "") -> None:
        """Binned predictions, as v1: ``schema_type`` ``"predictions"``, ``data`` with
        ``bin_averages``, ``bin_errors``, ``bin_counts`` and ``bin_edges`` (one more)."""
        self._log_chart("predictions", name, value)

    def log_row(self, name: str, description: str | None = None, **row: Any) -> None:
        """Append one row to a table metric: ``run.log_row("roc", fpr=0.1, tpr=0.8)``."""
        if not row:
            raise InvalidArgumentError(f"log_row({name!r}) needs columns, e.g. log_row({name!r}, x=1, y=2)")
        self._claim(name, "table")
        self._logging.log_records(self._id, name, "table", [json_row(name, row)])

    def log_table(self, name: str, value: Mapping[str, Sequence[Any]], description: str = "") -> None:
        """Append a table given as columns: ``{"x": [1, 2], "y": [3, 4]}`` (equal lengths)."""
        if not isinstance(value, Mapping) or not value:
            raise InvalidArgumentError(f"log_table({name!r}) takes a dict of equal-length column lists")
        lengths = {len(list(col)) for col in value.values()}
        if len(lengths) != 1:
            raise InvalidArgumentError(f"log_table({name!r}): columns have different lengths {sorted(lengths)}")
        self._claim(name, "table")
        columns = {str(k): list(v) for k, v in value.items()}
        rows = [json_row(name, {k: col[i] for k, col in columns.items()}) for i in range(lengths.pop())]
        self._logging.log_records(self._id, name, "table", rows)

    def log_image(
        self, name: str, path: str | os.PathLike[str] | None = None, plot: Any = None, description: str = ""
    ) -> None:
        """Log an image file (``path``) or a matplotlib figure (``plot``); it is stored as a run file."""
        if (path is None) == (plot is None):
            raise InvalidArgumentError(f"log_image({name!r}) takes exactly one of path= or plot=")
        self._claim(name, "image")
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
        if path is not None:
            source = Path(path)
            if not source.is_file():
                raise NotFoundError(f"log_image({name!r}): no image file at {source}")
            file_name = f"images/{safe}_{uuid.uuid4().hex[:8]}{source.suffix or '.png'}"
            self._logging.upload_file(self._id, file_name, source)
        else:
            figure = getattr(plot, "gcf", lambda: plot)()  # pyplot module or a Figure
            if not hasattr(figure, "savefig"):
                raise InvalidArgumentError(f"log_image({name!r}): plot must be a matplotlib figure or pyplot")
            buffer = io.BytesIO()
            figure.savefig(buffer, format="png")
            buffer.seek(0)
            file_name = f"images/{safe}_{uuid.uuid4().hex[:8]}.png"
            self._logging.upload_file(self._id, file_name, buffer)
        self._logging.log_records(self._id, name, "image", [{"file": file_name}])

    def log_param(self, name: str, value: Any) -> None:
        """Set a parameter (immutable: setting it again to another value raises)."""
        self.log_batch(params={name: value})

    def log_params(self, params: Mapping[str, Any]) -> None:
        self.log_batch(params=params)

    def log_batch(
        self,
        metrics: Iterable[tuple[str, Any, int | None]] = (),
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> None:
        """Write metrics ``(name, value, step)``, params and tags in one transaction, durably."""
        checked = []
        for item in metrics:
            try:
                name, value, step = item
            except (TypeError, ValueError):
                raise InvalidArgumentError(f"log_batch metrics are (name, value, step) tuples, got {item!r}") from None
            self._claim(name, "scalar")
            checked.append((name, value, step))
        self._logging.log_batch(self._id, checked, params, tags)

    def flush(self, timeout: float | None = None) -> None:
        """Return once every point logged so far is on disk."""
        self._workspace.flush(timeout)

    def get_metrics(self, name: str | None = None, recursive: bool = False) -> dict[str, Any]:
        """``{name: value}``: one value -> scalar, several -> list (numbers, or text and booleans),
        tables -> dict of columns, images -> file name(s), v1 charts -> their JSON document(s).
        ``recursive=True`` answers ``{run_id: {...}}`` for this run and
        all its descendants."""
        if recursive:
            ids = [self._id, *(r.run_id for r in self._queries.children(self._id, recursive=True))]
            return {rid: self._queries.metrics(rid, name) for rid in ids}
        return self._queries.metrics(self._id, name)

    def get_metric_history(self, name: str) -> list[MetricPoint]:
        """Every point of a numeric series, with step and timestamp."""
        return self._queries.metric_history(self._id, name)

    # -- tags and properties ------------------------------------------------------------------------------
    def tag(self, key: str, value: Any = None) -> None:
        """Set a tag (mutable). ``value`` defaults to an empty string."""
        self.set_tags({key: "" if value is None else value})

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        self._logging.set_tags(self._id, tags)

    def remove_tags(self, keys: Iterable[str]) -> None:
        self._logging.remove_tags(self._id, keys)

    def add_properties(self, properties: Mapping[str, Any]) -> None:
        """Add immutable properties: re-setting a key to another value raises."""
        self._logging.add_properties(self._id, properties)
