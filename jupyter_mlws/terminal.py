"""Text tables for terminals, from one place for the CLI and the magics (notebooks get HTML).

Rendered by ``rich`` (imported when a table is drawn: ``import jupyter_mlws`` stays light) as plain
text: no colour codes, nothing cut or wrapped, so values can be copied and grepped.
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
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="", highlight=False)
    for header in headers:
        table.add_column(header, no_wrap=True, overflow="ignore")
    for row in rows:
        table.add_row(*("" if v is None else str(v).expandtabs() for v in row))
    out = io.StringIO()
    # Wide enough for any row: a terminal's width would fold long run ids.
    console = Console(file=out, width=100_000, color_system=None, force_terminal=False, emoji=False, markup=False)
    console.print(table)
    lines = [line.rstrip() for line in out.getvalue().splitlines() if line.strip()]
    if title:
        lines.insert(0, title)
    if not rows and empty is not None:
        lines.append(empty)
    return "\n".join(lines)


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
