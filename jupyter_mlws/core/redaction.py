"""Masking secret values (issue 21): what a job obtained from the vault is written as ``***``.

A process that obtains secrets (a job's process through ``run.get_secret``, a supervisor serving
them) adds the values to :data:`REDACTOR`; the tracking service masks every string it is about to
store with it (metrics of the text kind, params, tags, properties, display names, error details, table
rows), so no value reaches the database through a run. Logs are masked as they are written by a
:class:`StreamRedactor` in the job's supervisor, which sees the job's output before the log file does.

Besides each value itself, the forms it commonly takes in text are masked: its base64, its JSON
string escape (a notebook's outputs are JSON) and, for a value of several lines, each long line.
Longer tokens are replaced first, so a value containing another is masked whole.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["MASK", "REDACTOR", "Redactor", "StreamRedactor"]

MASK = "***"
_MASK_BYTES = MASK.encode()
_LINE_MIN = 6  # a line of a multi-line value is masked on its own when at least this long


def _forms(value: str) -> set[str]:
    """The texts that give ``value`` away: itself, its base64, its JSON escape, its long lines."""
    forms = {value}
    raw = value.encode()
    forms.add(base64.b64encode(raw).decode())
    forms.add(base64.urlsafe_b64encode(raw).decode())
    forms.add(json.dumps(value)[1:-1])
    forms.add(json.dumps(value, ensure_ascii=False)[1:-1])
    if "\n" in value:
        forms.update(line.strip() for line in value.splitlines() if len(line.strip()) >= _LINE_MIN)
    return {f for f in forms if f}


class Redactor:
    """The values to mask, longest first. Empty (false) until a value is added: then masking costs nothing."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: tuple[str, ...] = ()
        self._bytes: tuple[bytes, ...] = ()

    def __bool__(self) -> bool:
        return bool(self._tokens)

    def add(self, values: Iterable[str]) -> None:
        with self._lock:
            tokens = set(self._tokens)
            for value in values:
                if isinstance(value, str) and value:
                    tokens |= _forms(value)
            ordered = tuple(sorted(tokens, key=lambda t: (-len(t), t)))
            self._tokens = ordered
            self._bytes = tuple(t.encode() for t in ordered)

    def text(self, text: str) -> str:
        for token in self._tokens:
            if token in text:
                text = text.replace(token, MASK)
        return text

    def data(self, data: bytes) -> bytes:
        for token in self._bytes:
            if token in data:
                data = data.replace(token, _MASK_BYTES)
        return data

    def value(self, value: Any) -> Any:
        """``value`` with every string in it masked (dict keys included); other values as they are."""
        if not self._tokens:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.value(k): self.value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self.value(v) for v in value)
        return value

    def held_back(self, data: bytes) -> int:
        """How many bytes at the end of ``data`` could be the start of a value (to wait for more)."""
        longest = 0
        for token in self._bytes:
            for size in range(min(len(token) - 1, len(data)), longest, -1):
                if token.startswith(data[-size:]):
                    longest = size
                    break
        return longest


class StreamRedactor:
    """Masks a byte stream written in pieces: a value split across two writes is still masked, because
    the end of a piece that could begin a value is held back until the next piece (or the end) shows."""

    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor
        self._held = b""

    def feed(self, data: bytes) -> bytes:
        masked = self.redactor.data(self._held + data)
        keep = self.redactor.held_back(masked)
        self._held = masked[len(masked) - keep :] if keep else b""
        return masked[: len(masked) - keep] if keep else masked

    def finish(self) -> bytes:
        rest, self._held = self._held, b""
        return self.redactor.data(rest)


#: What this process obtained from the vault (a job through ``run.get_secret``, a supervisor it served).
REDACTOR = Redactor()
