"""The filter language parser (stores compile its tree; see the store contract tests)."""

from __future__ import annotations

import pytest

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
