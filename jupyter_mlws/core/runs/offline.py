"""What ``Run.get_context()`` returns outside a job: a run that prints what it would log."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ...errors import InvalidArgumentError, InvalidStateError
from ..names import validate_file_name, validate_key
from ..status import RunStatus
from ..values import as_number, as_text, chart_value, metric_value, str_map, text_values

__all__ = ["OfflineRun"]


class OfflineRun:
    """What ``Run.get_context()`` returns outside a job: it prints what would be logged."""

    def __init__(self) -> None:
        self.id = f"OfflineRun_{uuid.uuid4()}"
        self.number = 0
        self.experiment = None
        self.status = RunStatus.RUNNING
        self.display_name: str | None = None
        self.tags: dict[str, str] = {}
        self.properties: dict[str, str] = {}
        self._metrics: dict[str, list[Any]] = {}
        self._kinds: dict[str, str] = {}
        self._params: dict[str, str] = {}

    def _say(self, what: str, name: str, value: Any) -> None:
        print(f"Attempted to log {what} {name}:\n{value}", flush=True)

    def _keep(self, name: str, kind: str, values: list[Any]) -> None:
        # As a run does: one name holds one kind (numbers, text, one chart kind...).
        known = self._kinds.setdefault(validate_key("metric", name), kind)
        if known != kind:
            raise InvalidArgumentError(f"metric {name!r} already holds {known} values; log {kind} under another name")
        self._metrics.setdefault(name, []).extend(values)

    def log(self, name: str, value: Any, step: int | None = None, description: str = "") -> None:
        value = metric_value(name, value)
        self._keep(name, "scalar" if type(value) is float else "text", [value])
        self._say("scalar metric", name, value)

    def log_list(self, name: str, value: Iterable[Any], description: str = "") -> None:
        items = list(value)
        if items and as_text(items[0]) is not None:  # text, as its first value says
            texts = text_values(name, items)
            self._keep(name, "text", texts)
            self._say("list metric", name, texts)
            return
        values = [as_number(name, v) for v in items]
        self._keep(name, "scalar", values)
        self._say("list metric", name, values)

    def _chart(self, kind: str, name: str, value: Any) -> None:
        document = chart_value(kind, name, value)
        self._keep(name, kind, [document])
        self._say(f"{kind} metric", name, document)

    def log_confusion_matrix(self, name: str, value: Any, description: str = "") -> None:
        self._chart("confusion_matrix", name, value)

    def log_accuracy_table(self, name: str, value: Any, description: str = "") -> None:
        self._chart("accuracy_table", name, value)

    def log_residuals(self, name: str, value: Any, description: str = "") -> None:
        self._chart("residuals", name, value)

    def log_predictions(self, name: str, value: Any, description: str = "") -> None:
        self._chart("predictions", name, value)

    def log_row(self, name: str, description: str | None = None, **row: Any) -> None:
        self._say("row metric", name, row)

    def log_table(self, name: str, value: Mapping[str, Sequence[Any]], description: str = "") -> None:
        self._say("table metric", name, value)

    def log_image(self, name: str, path: Any = None, plot: Any = None, description: str = "") -> None:
        self._say("image metric", name, path if path is not None else "<plot>")

    def log_param(self, name: str, value: Any) -> None:
        self.log_params({name: value})

    def log_params(self, params: Mapping[str, Any]) -> None:
        for key, value in str_map("param", params).items():
            if self._params.get(key, value) != value:
                raise InvalidStateError(f"param {key!r} is already set to {self._params[key]!r}")
            self._params[key] = value
            self._say("param", key, value)

    def log_batch(
        self, metrics: Iterable[tuple[str, Any, int | None]] = (), params: Any = None, tags: Any = None
    ) -> None:
        for name, value, step in metrics:
            self.log(name, as_number(name, value), step)  # numbers only, as a run's log_batch
        if params:
            self.log_params(params)
        if tags:
            self.set_tags(tags)

    def tag(self, key: str, value: Any = None) -> None:
        self.set_tags({key: "" if value is None else value})

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        self.tags.update(str_map("tag", tags))

    def add_properties(self, properties: Mapping[str, Any]) -> None:
        self.properties.update(str_map("property", properties))

    def upload_file(self, name: str, path_or_stream: Any) -> str:
        self._say("file", validate_file_name(name), path_or_stream)
        return name

    def upload_folder(self, name: str, path: Any) -> list[str]:
        self._say("folder", validate_file_name(name), path)
        return []

    def get_metrics(self, name: str | None = None, recursive: bool = False) -> dict[str, Any]:
        return {k: v[0] if len(v) == 1 else list(v) for k, v in self._metrics.items() if name is None or k == name}

    def get_params(self) -> dict[str, str]:
        return dict(self._params)

    @property
    def input_datasets(self) -> dict[str, Any]:
        """Outside a job there are no inputs (v1's offline run has none either)."""
        return {}

    def get_status(self) -> str:
        return self.status.value

    def get_secret(self, name: str) -> str:
        """The value of secret ``name`` from the vault of the workspace found from here (``Workspace.from_config``)."""
        return self.get_secrets([name])[name]

    def get_secrets(self, secrets: Iterable[str]) -> dict[str, str]:
        from ..names import secret_names
        from ..workspace import Workspace
        from .secrets import obtain_secrets

        return obtain_secrets(secret_names(secrets), Workspace.from_config)

    def flush(self, timeout: float | None = None) -> None:
        pass

    def complete(self) -> None:
        self.status = RunStatus.COMPLETED

    def fail(self, error: Any = None, error_details: Any = None) -> None:
        self.status = RunStatus.FAILED

    def __enter__(self) -> OfflineRun:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.complete() if exc[0] is None else self.fail(exc[1])

    def __repr__(self) -> str:
        return f"OfflineRun(id={self.id!r})"
