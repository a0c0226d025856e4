"""The filter language parser (stores compile its tree; see the store contract tests)."""

from __future__ import annotations

import pytest

from jupyter_mlws import Experiment, Workspace
from jupyter_mlws.core.search import (
    BoolOp,
    Comparison,
    OrderKey,
    decode_page_token,
    encode_page_token,
    parse_filter,
    parse_order_by,
)
from jupyter_mlws.errors import InvalidArgumentError


def test_and_binds_tighter_than_or() -> None:
    tree = parse_filter("metrics.acc > 0.5 and params.lr = '0.01' or tags.best = 'yes'")
    assert tree == BoolOp(
        "or",
        (
            BoolOp("and", (Comparison("metrics", "acc", ">", 0.5), Comparison("params", "lr", "=", "0.01"))),
            Comparison("tags", "best", "=", "yes"),
        ),
    )


def test_parentheses_quotes_and_synonyms() -> None:
    tree = parse_filter("(metric.`val loss` <= 1e-3 OR attr.status != \"Failed\") AND tag.x LIKE 'a''b%'")
    assert tree == BoolOp(
        "and",
        (
            BoolOp(
                "or",
                (Comparison("metrics", "val loss", "<=", 0.001), Comparison("attributes", "status", "!=", "Failed")),
            ),
            Comparison("tags", "x", "LIKE", "a'b%"),
        ),
    )


def test_in_lists_bare_attributes_and_number_text_for_params() -> None:
    assert parse_filter("status IN ('Failed', 'Canceled')") == Comparison(
        "attributes", "status", "IN", ("Failed", "Canceled")
    )
    assert parse_filter("params.epochs = 10") == Comparison("params", "epochs", "=", "10")
    assert parse_filter("metrics.x NOT IN (1, 2)") == Comparison("metrics", "x", "NOT IN", (1.0, 2.0))
    assert parse_filter("  ") is None and parse_filter(None) is None


def test_time_attributes_take_epoch_ms_or_iso() -> None:
    assert parse_filter("attributes.start_time > 1000") == Comparison("attributes", "start_time", ">", 1.0)
    iso = parse_filter("attributes.end_time < '1970-01-01T00:00:10'")
    assert iso == Comparison("attributes", "end_time", "<", 10.0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("acc > 0.5", "metrics.acc"),
        ("foo.acc > 1", "start it with metrics."),
        ("attributes.color = 'red'", "known attributes"),
        ("metrics.acc > 'high'", "compare it with a number"),
        ("metrics.acc LIKE '%'", "numeric"),
        ("params.lr > '0.1'", "holds text"),
        ("metrics.acc >", "ends too early"),
        ("metrics.acc > 0.5 and", "ends too early"),
        ("(metrics.acc > 0.5", "missing"),
        ("metrics.acc > 0.5)", "unexpected"),
        ("metrics.acc ~ 3", "bad filter"),
        ("params.lr = 0.01 extra", "unexpected"),
        ("params.lr = lr", "quote strings"),
        ("status IN 'a'", "list in parentheses"),
        ("attributes.start_time > 'yesterday'", "ISO"),
    ],
)
def test_bad_filters_name_the_problem(text: str, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        parse_filter(text)


def test_order_by() -> None:
    assert parse_order_by(["metrics.acc DESC", "attributes.start_time"]) == [
        OrderKey("metrics", "acc", False),
        OrderKey("attributes", "start_time", True),
    ]
    assert parse_order_by("metrics.acc asc, params.lr desc") == [
        OrderKey("metrics", "acc", True),
        OrderKey("params", "lr", False),
    ]
    with pytest.raises(InvalidArgumentError):
        parse_order_by(["nonsense DESC"])


def test_page_tokens_round_trip_and_reject_garbage() -> None:
    assert decode_page_token(encode_page_token(300)) == 300
    assert decode_page_token(None) == 0
    for bad in ("garbage", encode_page_token(-1)):
        with pytest.raises(InvalidArgumentError, match="page_token"):
            decode_page_token(bad)


# -- hostile filters (issue 13, finding 6) -----------------------------------------------------------------
# A 40 KB filter of digits once took 37 s in the tokenizer (the number pattern split a run of digits
# every possible way), 400 nested parentheses overflowed the parser's recursion, and 1,500 OR terms
# overflowed SQLite's expression tree. Each is now refused, quickly, naming the cap.
ADVERSARIAL_NUMBER = "metrics.a > " + "1" * 40_000 + "x"


def test_a_40_kb_adversarial_filter_is_refused_naming_the_length_cap() -> None:
    with pytest.raises(InvalidArgumentError, match="longer than 4096 characters") as caught:
        parse_filter(ADVERSARIAL_NUMBER)
    message = caught.value.message
    assert len(message) < 300 and f"({len(ADVERSARIAL_NUMBER)} characters)" in message  # the filter is echoed truncated


@pytest.mark.timeout(20)
@pytest.mark.parametrize(
    "text",
    [
        "1" * 200_000 + "x",  # the old number pattern: quadratic (it never finished in 20 s)
        "1." * 100_000 + "x",
        "1e" * 100_000 + "x",
        "'" + "''" * 100_000,  # an unterminated quoted string full of escaped quotes
        '"' + "\\a" * 100_000,
        "metrics.`" + "a" * 200_000,  # an unterminated backtick name
        "a" * 200_000 + "`",
        " " * 200_000 + "!",
    ],
    ids=["digits", "dots", "exponents", "quotes", "escapes", "backtick", "word", "spaces"],
)
def test_the_tokenizer_is_linear_on_pathological_input(text: str) -> None:
    """Below the length cap on purpose (the tokenizer itself, 200 KB each): linear patterns take
    milliseconds here; a backtracking one takes minutes and the timeout fails the test."""
    from jupyter_mlws.core import search

    try:
        search._tokenize(text)
    except InvalidArgumentError:
        pass


def test_deep_nesting_is_an_invalid_argument_not_a_recursion_error() -> None:
    deep = "(" * 400 + "metrics.a > 1" + ")" * 400
    with pytest.raises(InvalidArgumentError, match="more than 32 deep") as caught:
        parse_filter(deep)
    assert len(caught.value.message) < 300 and f"({len(deep)} characters)" in caught.value.message
    assert parse_filter("(" * 32 + "metrics.a > 1" + ")" * 32) == Comparison("metrics", "a", ">", 1.0)
    with pytest.raises(InvalidArgumentError, match="more than 32 deep"):
        parse_filter("(" * 33 + "metrics.a > 1" + ")" * 33)


def test_too_many_comparisons_or_values_are_refused_naming_the_cap() -> None:
    many = " or ".join(f"metrics.a = {i}" for i in range(1500))
    with pytest.raises(InvalidArgumentError, match="longer than 4096"):
        parse_filter(many)  # 1,500 terms do not even fit in the length cap
    short = " or ".join(f"tags.t={i}" for i in range(101))  # 101 comparisons in under 4 KB
    assert len(short) < 4096
    with pytest.raises(InvalidArgumentError, match="more than 100 comparisons"):
        parse_filter(short)
    assert isinstance(parse_filter(" or ".join(f"tags.t={i}" for i in range(100))), BoolOp)
    values = "tags.t IN (" + ",".join("1" for _ in range(1001)) + ")"
    with pytest.raises(InvalidArgumentError, match="more than 1000 values"):
        parse_filter(values)
    with pytest.raises(InvalidArgumentError, match="at most 16 keys"):
        parse_order_by(["metrics.a"] * 17)


def test_nul_and_lone_surrogates_are_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="NUL"):
        parse_filter("tags.t = 'a\x00b'")
    with pytest.raises(InvalidArgumentError, match="not valid Unicode"):
        parse_filter("tags.t = '\ud800'")


def test_error_messages_truncate_long_filters() -> None:
    text = "metrics.acc > 1 and " + "tags.t IN ('x', 'y', 'z') and " * 90 + "metrics.acc >"
    assert len(text) < 4096
    with pytest.raises(InvalidArgumentError, match="ends too early") as caught:
        parse_filter(text)
    assert len(caught.value.message) < 300 and f"({len(text)} characters)" in caught.value.message


def test_filters_at_every_cap_run_in_the_database(ws: Workspace) -> None:
    """Within the caps, nothing a filter compiles to can hit a database limit (which the store would
    report as 'unavailable', HTTP 503, and clients retry forever)."""
    with Experiment(ws, "caps").start_logging() as run:
        run.log("a", 1.0)
        run.tag("t", "x")
    nested = "metrics.a > 0"
    for level in range(32):  # and/or alternate at every level: the deepest SQL a filter makes
        nested = f"(tags.t = 'x' {'and' if level % 2 else 'or'} {nested})"
    widest = "(" * 31 + " and ".join(["metrics.a > 0"] * 100) + ")" * 31
    listed = "tags.t IN (" + ",".join(["'x'"] * 999) + ")"
    for text in (nested, widest, listed):
        assert len(text) <= 4096
        assert [r.id for r in ws.search_runs(filter=text).runs] == [run.id]
    assert [r.id for r in ws.search_runs(order_by=["metrics.a DESC"] * 16).runs] == [run.id]


@pytest.mark.parametrize(
    "text",
    [
        "metrics.acc > '" + "x" * 3000 + "'",  # a long string where a number belongs
        "bogus" + "x" * 3000 + " = 1",  # a long unknown identifier
        "attributes.start_time > '" + "9" * 3000 + "'",  # a long time literal
        "metrics.acc " + "x" * 3000,  # a long word where a comparator belongs
    ],
    ids=["value", "identifier", "time", "comparator"],
)
def test_error_messages_truncate_long_tokens(text: str) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        parse_filter(text)
    assert len(caught.value.message) < 400, caught.value.message
    with pytest.raises(InvalidArgumentError) as caught:
        decode_page_token("A" * 3000)
    assert len(caught.value.message) < 400
