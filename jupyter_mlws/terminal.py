"""Text tables for terminals, from one place for the CLI and the magics (notebooks get HTML).

Plain text: no colour codes, nothing cut or wrapped, so values can be copied and grepped. Tables of
printable ASCII (run ids, names, numbers, times: nearly all of them) are laid out here; anything else
(wide characters, line breaks) is rendered by ``rich``, imported only then: importing and running it
cost ``mlws runs list`` more than the query (issue 22). Both give the same text for ASCII.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

__all__ = ["human_size", "text_table"]


def text_table(
    headers: Sequence[str], rows: Sequence[Sequence[Any]], title: str = "", empty: str | None = "(none)"
) -> str:
    """Aligned columns under a header line; ``None`` shows as an empty cell, no rows as ``empty``."""
    cells = [["" if v is None else str(v).expandtabs() for v in row] for row in rows]
    lines = _plain_table(list(headers), cells)
    if lines is None:
        lines = _rich_table(headers, cells)
    if title:
        lines.insert(0, title)
    if not rows and empty is not None:
        lines.append(empty)
    return "\n".join(lines)


_GAP = "   "  # rich's SIMPLE_HEAD box: one space of padding, the blank divider, one space of padding


def _plain_table(headers: list[str], cells: list[list[str]]) -> list[str] | None:
    """The lines rich draws for a table of printable ASCII, or ``None`` when rich must draw it."""
    if not headers or any(len(row) != len(headers) for row in cells):
        return None
    if not all(text.isascii() and text.isprintable() for text in (*headers, *(c for row in cells for c in row))):
        return None
    widths = [max(len(text) for text in column) for column in zip(headers, *cells, strict=True)]
    out = [_GAP.join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    out.append("─" * (sum(widths) + len(_GAP) * (len(widths) - 1)))
    for row in cells:
        line = _GAP.join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        if line:
            out.append(line)
    return [line for line in out if line.strip()]


def _rich_table(headers: Sequence[str], cells: list[list[str]]) -> list[str]:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="", highlight=False)
    for header in headers:
        table.add_column(header, no_wrap=True, overflow="ignore")
    for row in cells:
        table.add_row(*row)
    out = io.StringIO()
    # Wide enough for any row: a terminal's width would fold long run ids.
    console = Console(file=out, width=100_000, color_system=None, force_terminal=False, emoji=False, markup=False)
    console.print(table)
    return [line.rstrip() for line in out.getvalue().splitlines() if line.strip()]


def human_size(size: int | None) -> str:
    """``1536`` -> ``"1.5 KiB"``; ``None`` -> ``""`` (binary units, one decimal above bytes)."""
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover - the loop always returns
