"""Text tables: the plain layout for ASCII tables is the one rich draws (issue 22 made rich optional
on the CLI's hot path), and everything else still goes through rich."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from jupyter_mlws import terminal
from jupyter_mlws.terminal import text_table

ascii_text = st.text(alphabet=string.printable.replace("\r", "").replace("\x0b", "").replace("\x0c", ""), max_size=12)


@settings(max_examples=100, deadline=None)
@given(
    headers=st.lists(
        st.text(alphabet=string.ascii_letters + string.digits + " _.", min_size=1, max_size=10), min_size=1, max_size=5
    ),
    data=st.data(),
)
def test_plain_layout_matches_rich(headers: list[str], data: st.DataObject) -> None:
    rows = data.draw(
        st.lists(
            st.lists(
                st.one_of(st.none(), ascii_text, st.floats(allow_nan=False), st.integers()),
                min_size=len(headers),
                max_size=len(headers),
            ),
            max_size=6,
        )
    )
    cells = [["" if v is None else str(v).expandtabs() for v in row] for row in rows]
    plain = terminal._plain_table(list(headers), cells)
    expected = terminal._rich_table(headers, cells)
    if plain is not None:  # a line break or another non-printable character goes to rich
        assert plain == expected


def test_examples() -> None:
    assert text_table(["A", "BBBB", "C"], [("x", "y", None), ("longer value", "", 3)]) == (
        "A              BBBB   C\n───────────────────────\nx              y\nlonger value          3"
    )
    assert text_table(["A", "BBBB"], [], title="T") == "T\nA   BBBB\n────────\n(none)"
    assert text_table(["A"], [("a\tb",)]) == "A\n─────────\na       b"


def test_wide_and_multiline_cells_go_to_rich() -> None:
    assert terminal._plain_table(["NAME"], [["数据集"]]) is None
    assert terminal._plain_table(["NAME"], [["two\nlines"]]) is None
    table = text_table(["NAME", "X"], [("数据集", "1")])
    assert table.splitlines()[2] == "数据集   1"  # rich counts a wide character as two cells
