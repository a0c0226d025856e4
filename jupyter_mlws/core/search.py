"""The run filter language, parsed into a small tree that stores compile to queries.

``metrics.acc > 0.5 and params.lr = '0.01' or tags.best = 'yes'`` — identifiers ``metrics.``,
``params.``, ``tags.``, ``properties.`` and ``attributes.`` (``status``, ``display_name``,
``start_time``, ``end_time``, ``run_number``, ``run_id``, ``created_time``); comparators
``= != < <= > >= LIKE ILIKE IN NOT IN``; ``and``/``or``/parentheses (``and`` binds tighter).
Names with spaces or odd characters are quoted with backticks: ``metrics.`val loss` < 1``.
"""

from __future__ import annotations

import base64
import json
import re
import reprlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from ..errors import InvalidArgumentError

__all__ = [
    "ATTRIBUTES",
    "MAX_FILTER_DEPTH",
    "MAX_FILTER_LENGTH",
    "MAX_FILTER_TERMS",
    "BoolOp",
    "Comparison",
    "FilterExpr",
    "OrderKey",
    "decode_page_token",
    "encode_page_token",
    "parse_filter",
    "parse_order_by",
    "shown_filter",
]

KINDS = {
    "metrics": "metrics", "metric": "metrics",
    "params": "params", "param": "params", "parameters": "params",
    "tags": "tags", "tag": "tags",
    "properties": "properties", "property": "properties",
    "attributes": "attributes", "attribute": "attributes", "attr": "attributes", "run": "attributes",
}  # fmt: skip
# Attribute name -> value type ("str", "num" or "time").
ATTRIBUTES = {
    "status": "str",
    "display_name": "str",
    "run_id": "str",
    "start_time": "time",
    "end_time": "time",
    "created_time": "time",
    "run_number": "num",
}
STRING_OPS = frozenset({"=", "!=", "LIKE", "ILIKE", "IN", "NOT IN"})
NUMERIC_OPS = frozenset({"=", "!=", "<", "<=", ">", ">=", "IN", "NOT IN"})


@dataclass(frozen=True, slots=True)
class Comparison:
    kind: str  # metrics | params | tags | properties | attributes
    key: str
    op: str  # = != < <= > >= LIKE ILIKE IN "NOT IN" EXISTS
    value: float | str | tuple[float | str, ...] | None


@dataclass(frozen=True, slots=True)
class BoolOp:
    op: str  # "and" | "or"
    items: tuple[FilterExpr, ...]


FilterExpr = Comparison | BoolOp


@dataclass(frozen=True, slots=True)
class OrderKey:
    kind: str
    key: str
    ascending: bool


# Caps that keep a hostile filter from stalling the server or overflowing the database: a filter
# is parsed on the server's request path and compiled into one SQL statement (SQLite refuses an
# expression tree deeper than 1000 and parsing recursion would overflow Python's stack). Each is far
# above any filter a person writes.
MAX_FILTER_LENGTH = 4096  # characters
MAX_FILTER_DEPTH = 32  # nested parentheses
MAX_FILTER_TERMS = 100  # comparisons
MAX_FILTER_VALUES = 1000  # values in all IN (...) lists together
MAX_ORDER_KEYS = 16  # order_by items
SHOWN_FILTER = 80  # characters of a filter quoted in an error message
_SHOW = reprlib.Repr()
_SHOW.maxstring = _SHOW.maxother = SHOWN_FILTER

# Every pattern below matches in linear time: no two quantifiers can split the same run of characters
# between them (possessive ``++``/``*+`` make that explicit), so a failed match never retries a run
# with a different split. (The old number pattern, ``\d+\.?\d*``, could split a run of digits n ways
# and took quadratic time on a long one: 37 s for 40 KB.)
_SPACE = re.compile(r"\s*+")
_TOKEN = re.compile(
    r"""(?:
        (?P<num>[-+]?(?:\d++(?:\.\d*+)?+|\.\d++)(?:[eE][-+]?\d++)?+(?![\w.])|[-+]?(?:inf|nan)(?![\w.]))
      | (?P<str>'(?:[^'\\]++|\\.|'')*+'|"(?:[^"\\]++|\\.)*+")
      | (?P<op>!=|<>|<=|>=|==|=|<|>)
      | (?P<lp>\()
      | (?P<rp>\))
      | (?P<comma>,)
      | (?P<ident>(?:[A-Za-z_]\w*+\.)?(?:`[^`]++`|\w[\w.\-/:]*+))
    )""",
    re.VERBOSE,
)


def shown_filter(text: str) -> str:
    """A filter as quoted in an error message: the whole of a short one, the start of a long one."""
    if len(text) <= SHOWN_FILTER:
        return repr(text)
    return f"{text[:SHOWN_FILTER]!r}... ({len(text)} characters)"


def _q(value: object) -> str:
    """A token, name or value quoted in a message: short, however long the filter made it."""
    return shown_filter(value) if isinstance(value, str) else _SHOW.repr(value)


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = _SPACE.match(text).end()  # type: ignore[union-attr]  # \s* always matches
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            bad = text[pos : pos + 20]
            raise InvalidArgumentError(f"bad filter near {bad!r}: expected e.g. metrics.acc > 0.5")
        kind = m.lastgroup or ""
        tokens.append((kind, m.group(kind)))
        pos = _SPACE.match(text, m.end()).end()  # type: ignore[union-attr]
    return tokens


def _unquote(raw: str) -> str:
    quote = raw[0]
    body = raw[1:-1]
    if quote == "'":
        body = body.replace("''", "'")
    return re.sub(r"\\(.)", r"\1", body)


def _split_identifier(raw: str) -> tuple[str, str]:
    if "." in raw.split("`")[0]:
        prefix, _, name = raw.partition(".")
        kind = KINDS.get(prefix.lower())
        if kind is None:
            raise InvalidArgumentError(
                f"unknown identifier {_q(raw)}: start it with metrics., params., tags., properties. or attributes."
            )
    elif raw.lower() in ATTRIBUTES:
        kind, name = "attributes", raw
    else:
        hint = raw if len(raw) <= 40 else "<name>"
        raise InvalidArgumentError(
            f"unknown identifier {_q(raw)}: write metrics.{hint}, params.{hint}, tags.{hint} or attributes.<name>"
        )
    if name.startswith("`") and name.endswith("`"):
        name = name[1:-1]
    if not name:
        raise InvalidArgumentError(f"identifier {_q(raw)} has no name after the dot")
    if kind == "attributes":
        name = name.lower()
        if name not in ATTRIBUTES:
            known = ", ".join(sorted(ATTRIBUTES))
            raise InvalidArgumentError(f"unknown attribute {_q(name)}; known attributes: {known}")
    return kind, name


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.shown = shown_filter(text)
        self.tokens = _tokenize(text)
        self.pos = 0
        self.depth = 0  # parentheses open at this point
        self.terms = 0  # comparisons so far
        self.values = 0  # IN (...) list values so far

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise InvalidArgumentError(f"filter {self.shown} ends too early: expected a comparison")
        self.pos += 1
        return tok

    def is_word(self, word: str) -> bool:
        tok = self.peek()
        return tok is not None and tok[0] == "ident" and tok[1].lower() == word

    def parse(self) -> FilterExpr:
        expr = self.parse_or()
        if self.peek() is not None:
            raise InvalidArgumentError(f"unexpected {_q(self.peek()[1])} in filter {self.shown}")  # type: ignore[index]
        return expr

    def parse_or(self) -> FilterExpr:
        items = [self.parse_and()]
        while self.is_word("or"):
            self.take()
            items.append(self.parse_and())
        return items[0] if len(items) == 1 else BoolOp("or", tuple(items))

    def parse_and(self) -> FilterExpr:
        items = [self.parse_primary()]
        while self.is_word("and"):
            self.take()
            items.append(self.parse_primary())
        return items[0] if len(items) == 1 else BoolOp("and", tuple(items))

    def parse_primary(self) -> FilterExpr:
        tok = self.take()
        if tok[0] == "lp":
            self.depth += 1
            if self.depth > MAX_FILTER_DEPTH:
                raise InvalidArgumentError(
                    f"filter {self.shown} nests parentheses more than {MAX_FILTER_DEPTH} deep: "
                    "flatten it (and binds tighter than or)"
                )
            expr = self.parse_or()
            closing = self.peek()
            if closing is None or closing[0] != "rp":
                raise InvalidArgumentError(f"missing ')' in filter {self.shown}")
            self.take()
            self.depth -= 1
            return expr
        if tok[0] != "ident":
            raise InvalidArgumentError(f"expected a name like metrics.acc in filter {self.shown}, got {_q(tok[1])}")
        self.terms += 1
        if self.terms > MAX_FILTER_TERMS:
            raise InvalidArgumentError(
                f"filter {self.shown} has more than {MAX_FILTER_TERMS} comparisons: "
                "use IN (...) for a list of values, or narrow the search in steps"
            )
        kind, key = _split_identifier(tok[1])
        op = self.parse_operator()
        value = self.parse_value(op)
        return _checked(Comparison(kind, key, op, value))

    def parse_operator(self) -> str:
        tok = self.take()
        if tok[0] == "op":
            return {"==": "=", "<>": "!="}.get(tok[1], tok[1])
        word = tok[1].upper() if tok[0] == "ident" else ""
        if word in ("LIKE", "ILIKE", "IN"):
            return word
        if word == "NOT" and self.is_word("in"):
            self.take()
            return "NOT IN"
        raise InvalidArgumentError(
            f"expected a comparator (= != < <= > >= LIKE ILIKE IN) in filter {self.shown}, got {_q(tok[1])}"
        )

    def parse_scalar(self) -> float | str:
        tok = self.take()
        if tok[0] == "num":
            return float(tok[1])
        if tok[0] == "str":
            return _unquote(tok[1])
        raise InvalidArgumentError(
            f"expected a number or a quoted string in filter {self.shown}, got {_q(tok[1])} "
            "(quote strings: params.lr = '0.01')"
        )

    def parse_value(self, op: str) -> float | str | tuple[float | str, ...]:
        if op not in ("IN", "NOT IN"):
            return self.parse_scalar()
        if self.take()[0] != "lp":
            raise InvalidArgumentError(f"{op} takes a list in parentheses, e.g. status IN ('Failed', 'Canceled')")
        values = [self.parse_scalar()]
        while (tok := self.take())[0] == "comma":
            values.append(self.parse_scalar())
            if self.values + len(values) > MAX_FILTER_VALUES:
                raise InvalidArgumentError(
                    f"filter {self.shown} lists more than {MAX_FILTER_VALUES} values in IN (...): narrow the search"
                )
        self.values += len(values)
        if tok[0] != "rp":
            raise InvalidArgumentError(f"missing ')' after the {op} list in filter {self.shown}")
        return tuple(values)


def _parse_time(value: float | str, key: str) -> float:
    """A time literal: epoch milliseconds (as MLflow) or an ISO date/time (UTC unless it says)."""
    if isinstance(value, float):
        return value / 1000.0
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidArgumentError(
            f"attributes.{key} compares with epoch milliseconds or an ISO time like '2026-01-31T12:00', not {_q(value)}"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _checked(c: Comparison) -> Comparison:
    values = c.value if isinstance(c.value, tuple) else (c.value,)
    if c.kind == "metrics" or (c.kind == "attributes" and ATTRIBUTES[c.key] != "str"):
        if c.op not in NUMERIC_OPS:
            raise InvalidArgumentError(f"{c.kind}.{c.key} is numeric: {c.op} does not apply (use = != < <= > >=)")
        if c.kind == "attributes" and ATTRIBUTES[c.key] == "time":
            converted = tuple(_parse_time(v, c.key) for v in values)  # type: ignore[arg-type]
            return Comparison(c.kind, c.key, c.op, converted if isinstance(c.value, tuple) else converted[0])
        if any(not isinstance(v, float) for v in values):
            raise InvalidArgumentError(f"{c.kind}.{c.key} is numeric: compare it with a number, not {_q(c.value)}")
        return c
    if c.op not in STRING_OPS:
        raise InvalidArgumentError(
            f"{c.kind}.{c.key} holds text: use = != LIKE ILIKE IN, not {c.op} "
            "(numbers you want to compare belong in metrics)"
        )
    # Params and tags are strings: a bare number means its text (params.epochs = 10 -> '10').
    texts = tuple(v if isinstance(v, str) else _number_text(v) for v in values)
    return Comparison(c.kind, c.key, c.op, texts if isinstance(c.value, tuple) else texts[0])


def _number_text(v: float | str | None) -> str:
    assert isinstance(v, float)
    return str(int(v)) if v.is_integer() else repr(v)


def parse_filter(text: str | None) -> FilterExpr | None:
    """Parse a filter string; ``None`` or blank means no filter. Errors name the problem.

    A filter longer than ``MAX_FILTER_LENGTH`` characters, nested deeper than ``MAX_FILTER_DEPTH``
    parentheses or with more than ``MAX_FILTER_TERMS`` comparisons is refused (InvalidArgumentError):
    within these caps parsing is quick and the compiled query stays within every database's limits.
    """
    if text is None:
        return None
    if not isinstance(text, str):
        raise InvalidArgumentError(f"filter must be a string, got {type(text).__name__}")
    if len(text) > MAX_FILTER_LENGTH:
        raise InvalidArgumentError(
            f"filter {shown_filter(text)} is longer than {MAX_FILTER_LENGTH} characters: "
            "write a shorter one (IN (...) lists several values in one comparison)"
        )
    if not text.strip():
        return None
    if "\x00" in text:  # PostgreSQL refuses NUL in text; no key or value can hold one
        raise InvalidArgumentError(f"filter {shown_filter(text)} contains a NUL character (\\x00)")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: no database driver can bind it
        raise InvalidArgumentError(f"filter {shown_filter(text)} holds text that is not valid Unicode") from None
    return _Parser(text).parse()


def parse_order_by(items: str | Sequence[str] | None) -> list[OrderKey]:
    """``["metrics.acc DESC", "attributes.start_time"]``: ascending unless ``DESC`` follows."""
    if items is None:
        return []
    if isinstance(items, str):
        items = [part for part in items.split(",") if part.strip()]
    if len(items) > MAX_ORDER_KEYS:
        # Each key is a subquery of the search; SQLite refuses more than 2000 ORDER BY terms.
        raise InvalidArgumentError(f"order_by takes at most {MAX_ORDER_KEYS} keys, got {len(items)}")
    keys: list[OrderKey] = []
    for item in items:
        words = str(item).strip().rsplit(None, 1)
        ascending = True
        if len(words) == 2 and words[1].upper() in ("ASC", "DESC"):
            ascending = words[1].upper() == "ASC"
            ident = words[0]
        else:
            ident = str(item).strip()
        if not ident:
            raise InvalidArgumentError(f"empty order_by item {_q(item)}: write e.g. 'metrics.acc DESC'")
        kind, key = _split_identifier(ident)
        keys.append(OrderKey(kind, key, ascending))
    return keys


MAX_OFFSET = 2**62  # databases take 64-bit offsets; larger tokens were never issued


def encode_page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode().rstrip("=")


def decode_page_token(token: str | None) -> int:
    if not token:
        return 0
    try:
        padded = token + "=" * (-len(token) % 4)
        offset = json.loads(base64.urlsafe_b64decode(padded.encode()))["offset"]
        if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= MAX_OFFSET:
            raise ValueError(offset)
    except Exception:
        raise InvalidArgumentError(
            f"invalid page_token {_q(token)}: pass the next_page_token of a previous page"
        ) from None
    return offset
