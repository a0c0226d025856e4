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
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["MASK", "MIN_MASKED", "REDACTOR", "Redactor", "StreamRedactor"]

MASK = "***"
_MASK_BYTES = MASK.encode()
_LINE_MIN = 6  # a line of a multi-line value is masked on its own when at least this long
#: Values shorter than this are not masked: masking "t" or "42" would turn every log and tag into masks
#: (and tell where the value is not). Secrets that short protect nothing; the README says so.
MIN_MASKED = 4


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
    """The values to mask. Empty (false) until a value is added: then masking costs nothing.

    Every occurrence of every value is found, overlapping ones included, and the union of what they
    cover is masked as one: two values that overlap, or one inside another, leave nothing out.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: tuple[str, ...] = ()
        self._text_re: re.Pattern[str] | None = None
        self._bytes_re: re.Pattern[bytes] | None = None
        self._by_first: dict[int, tuple[bytes, ...]] = {}  # the values as bytes, by their first byte

    def __bool__(self) -> bool:
        return bool(self._tokens)

    def add(self, values: Iterable[str]) -> None:
        with self._lock:
            tokens = set(self._tokens)
            for value in values:
                if isinstance(value, str) and len(value) >= MIN_MASKED:
                    tokens |= _forms(value)
            if tokens == set(self._tokens):
                return
            # Longest first: at each position the lookahead finds the longest value starting there.
            ordered = tuple(sorted(tokens, key=lambda t: (-len(t), t)))
            encoded = [t.encode() for t in ordered]
            by_first: dict[int, list[bytes]] = {}
            for token in encoded:
                by_first.setdefault(token[0], []).append(token)
            self._text_re = re.compile("(?=(" + "|".join(re.escape(t) for t in ordered) + "))")
            self._bytes_re = re.compile(b"(?=(" + b"|".join(re.escape(t) for t in encoded) + b"))")
            self._by_first = {k: tuple(v) for k, v in by_first.items()}
            self._tokens = ordered

    def clear(self) -> None:
        """Forget every value (a long-lived process that is done with them)."""
        with self._lock:
            self._tokens = ()
            self._text_re = self._bytes_re = None
            self._by_first = {}

    def text(self, text: str) -> str:
        pattern = self._text_re
        if pattern is None:
            return text
        spans = _union((m.start(), m.end(1)) for m in pattern.finditer(text))
        return _masked(text, spans, MASK) if spans else text

    def data(self, data: bytes) -> bytes:
        spans = self._byte_spans(data)
        return _masked(data, spans, _MASK_BYTES) if spans else data

    def _byte_spans(self, data: bytes) -> list[tuple[int, int]]:
        pattern = self._bytes_re
        if pattern is None:
            return []
        return _union((m.start(), m.end(1)) for m in pattern.finditer(data))

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

    def safe_end(self, data: bytes) -> tuple[bytes, int]:
        """``data`` masked up to the point no match can cross, and that point: what follows it could
        still be (or extend) an occurrence once more bytes come, and is kept back as it is."""
        cut = len(data)
        lowest = max(0, len(data) - max((len(t) for t in self._tokens), default=1))
        for i in range(lowest, len(data)):
            tail = data[i:]
            if any(t.startswith(tail) and t != tail for t in self._by_first.get(data[i], ())):
                cut = i  # a value may start here and end in bytes not read yet
                break
        spans = self._byte_spans(data)
        for start, end in reversed(spans):
            if start < cut < end:
                cut = start  # never split an occurrence
        head = [(s, e) for s, e in spans if e <= cut]
        return (_masked(data[:cut], head, _MASK_BYTES) if head else data[:cut]), cut


def _union(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in spans:  # finditer gives them by start
        if merged and start < merged[-1][1]:  # overlapping (values side by side stay two masks)
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _masked(text: Any, spans: list[tuple[int, int]], mask: Any) -> Any:
    parts = []
    last = 0
    for start, end in spans:
        parts.append(text[last:start])
        parts.append(mask)
        last = end
    parts.append(text[last:])
    return text[:0].join(parts)


class StreamRedactor:
    """Masks a byte stream written in pieces: a value split across two writes is still masked, because
    the end of a piece that could begin (or continue) a value is held back, unmasked, until the next
    piece (or the end) shows; masking always works on the bytes as written, never on masked text."""

    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor
        self._held = b""

    def feed(self, data: bytes) -> bytes:
        raw = self._held + data
        if not self.redactor:
            self._held = b""
            return raw
        out, cut = self.redactor.safe_end(raw)
        self._held = raw[cut:]
        return out

    def finish(self) -> bytes:
        rest, self._held = self._held, b""
        return self.redactor.data(rest)


#: What this process obtained from the vault (a job through ``run.get_secret``, a supervisor it served).
REDACTOR = Redactor()
