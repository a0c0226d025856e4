"""Which files a snapshot leaves out: ``.amlignore`` or ``.gitignore`` files, in gitignore syntax.

Every folder may hold its own ignore file; its patterns are relative to that folder, and deeper files
take precedence over shallower ones (the last matching pattern wins, ``!pattern`` re-includes), as in
git. In a folder that has both, ``.amlignore`` is used and ``.gitignore`` is not (Azure ML's rule).
An ignored folder is not entered, so nothing below it can be re-included (git's rule too).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pathspec

__all__ = ["ALWAYS_EXCLUDED", "IGNORE_FILES", "IgnoreRules"]

IGNORE_FILES = (".amlignore", ".gitignore")
# The workspace's own data and git's database are never part of a snapshot.
ALWAYS_EXCLUDED = frozenset({".mlws", ".git"})


@dataclass(frozen=True)
class _Level:
    base: str  # folder of the ignore file, relative to the snapshot root ("" for the root)
    spec: pathspec.GitIgnoreSpec
    source: str  # the ignore file, for messages


class IgnoreRules:
    """An immutable stack of ignore files from the snapshot root down to one folder."""

    def __init__(self, levels: tuple[_Level, ...] = ()) -> None:
        self._levels = levels

    def descend(self, folder: Path, rel: str, names: set[str] | None = None) -> IgnoreRules:
        """The rules that apply inside ``folder`` (whose path below the root is ``rel``)."""
        for name in IGNORE_FILES:
            if names is not None and name not in names:
                continue
            path = folder / name
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                continue
            spec = pathspec.GitIgnoreSpec.from_lines(text.splitlines())
            return IgnoreRules((*self._levels, _Level(rel, spec, f"{rel}/{name}".lstrip("/"))))
        return self

    def is_ignored(self, rel: str, is_dir: bool) -> bool:
        """Whether the path ``rel`` (relative to the snapshot root, POSIX separators) is left out."""
        name = rel.rsplit("/", 1)[-1]
        if is_dir and name in ALWAYS_EXCLUDED:
            return True
        ignored = False
        for level in self._levels:
            if level.base:
                if not rel.startswith(level.base + "/"):
                    continue
                local = rel[len(level.base) + 1 :]
            else:
                local = rel
            for pattern in level.spec.patterns:
                if pattern.include is None or pattern.regex is None:
                    continue  # comments and blank lines
                if is_dir:
                    # git matches a folder by its name; only a pattern ending in "/" needs the slash,
                    # so "logs/**" (the contents) does not exclude the folder "logs" itself.
                    source = str(pattern.pattern).rstrip()
                    candidate = local + "/" if source.endswith("/") else local
                else:
                    candidate = local
                if pattern.regex.match(candidate):
                    ignored = bool(pattern.include)  # the last match wins
        return ignored
