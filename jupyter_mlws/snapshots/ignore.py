"""Which files a snapshot leaves out: ``.gitignore`` and ``.amlignore`` files, and secret-like files.

Every folder may hold its own ignore files; their patterns are relative to that folder, and deeper
files take precedence over shallower ones (the last matching pattern wins, ``!pattern`` re-includes),
as in git. In a folder that has both, **both apply**: the ``.gitignore``'s patterns first, then the
``.amlignore``'s, so ``.amlignore`` has the last word (``!name`` in it re-includes what the
``.gitignore`` left out) but adding one never brings back what the ``.gitignore`` ignores. (Azure ML
read only the ``.amlignore`` there; following the size-limit error's advice to add one then
un-ignored ``.env`` files and keys — issue 13.) An ignored folder is not entered, so nothing below it
can be re-included (git's rule too).

Secret-like files (:data:`SECRET_PATTERNS`: ``.env``, keys, cloud and package-index credentials) are
left out by default, and the capture names them. Only a negation in an ``.amlignore`` that names it
brings one back, and only what it names: ``!.env`` brings ``.env`` back and nothing else, ``!*.pem``
the ``.pem`` files, ``!.aws/`` that folder. A negation that would re-include any name (``!*``,
``!**``, ``!*/``) or an ordinary folder (``!config/``, which does bring back ``config/``'s code)
names no secret. A ``.gitignore``'s negations do not count (they say what git tracks, not what may
leave the machine in a snapshot).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import pathspec

__all__ = ["ALWAYS_EXCLUDED", "IGNORE_FILES", "SECRET_PATTERNS", "IgnoreRules", "Verdict"]

#: Read in this order in each folder: later patterns win, so ``.amlignore`` has the last word.
IGNORE_FILES = (".gitignore", ".amlignore")
AMLIGNORE = ".amlignore"
# The workspace's own data and git's database are never part of a snapshot.
ALWAYS_EXCLUDED = frozenset({".mlws", ".git"})

#: Left out of every snapshot unless an ``.amlignore`` negation names them (gitignore syntax; a
#: pattern without a slash matches at any depth).
SECRET_PATTERNS: tuple[str, ...] = (
    # environment files (dotenv, direnv) — also a virtualenv folder named .env
    ".env",
    ".env.*",
    ".envrc",
    # private keys and certificates with keys
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.ppk",
    "*.jks",
    "*.keystore",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    # credential folders and files of common tools
    ".ssh/",
    ".gnupg/",
    ".aws/",
    ".azure/",
    "**/.docker/config.json",
    "**/.kube/config",
    "**/.config/gcloud/",
    ".netrc",
    "_netrc",
    ".git-credentials",
    ".pgpass",
    ".pypirc",
    ".npmrc",
    "credentials.json",
    "service-account*.json",
    ".kaggle/",
    "**/.huggingface/token",
    "**/.cache/huggingface/token",
)


class Verdict(str, Enum):
    """What a snapshot does with one path."""

    INCLUDE = "include"
    IGNORE = "ignore"  # by an ignore file (or always: .mlws, .git)
    WITHHELD = "withheld"  # secret-like: left out and named (an .amlignore negation lets it in)


@dataclass(frozen=True)
class _Level:
    base: str  # folder of the ignore file, relative to the snapshot root ("" for the root)
    spec: pathspec.GitIgnoreSpec
    source: str  # the ignore file, for messages
    amlignore: bool  # only an .amlignore's negations may bring a secret-like file back


def _any_of(patterns: list[pathspec.Pattern]) -> re.Pattern[str]:
    """One regex matching where any of ``patterns`` (gitignore patterns without negations) matches.
    Every file of a snapshot is checked against the secret patterns: one search instead of one per
    pattern keeps a re-capture of thousands of unchanged files as cheap as before."""
    regexes = [p.regex for p in patterns if isinstance(p, pathspec.RegexPattern) and p.regex is not None]
    sources = [re.sub(r"\(\?P<\w+>", "(?:", str(regex.pattern)) for regex in regexes]
    return re.compile("|".join(f"(?:{source})" for source in sources) or "(?!)")


_SECRET_SPEC = pathspec.GitIgnoreSpec.from_lines(SECRET_PATTERNS)
assert all(p.include for p in _SECRET_SPEC.patterns), "secret patterns are exclusions only"
_SECRET_ANY = _any_of(list(_SECRET_SPEC.patterns))
# Folders: a pattern ending in "/" is matched against "name/", the others against "name" (as below).
_SECRET_DIR_SLASH = _any_of([p for p in _SECRET_SPEC.patterns if str(p.pattern).rstrip().endswith("/")])
_SECRET_DIR_PLAIN = _any_of([p for p in _SECRET_SPEC.patterns if not str(p.pattern).rstrip().endswith("/")])


def _is_secret(rel: str, is_dir: bool) -> bool:
    if is_dir:
        return bool(_SECRET_DIR_SLASH.match(rel + "/") or _SECRET_DIR_PLAIN.match(rel))
    return bool(_SECRET_ANY.match(rel))


def _candidate(pattern: pathspec.RegexPattern, local: str, is_dir: bool) -> str:
    if is_dir:
        # git matches a folder by its name; only a pattern ending in "/" needs the slash,
        # so "logs/**" (the contents) does not exclude the folder "logs" itself.
        return local + "/" if str(pattern.pattern).rstrip().endswith("/") else local
    return local


def _last_pattern(level: _Level, rel: str, is_dir: bool) -> pathspec.RegexPattern | None:
    """The last pattern of ``level`` matching ``rel``, or None if none matches or ``rel`` is outside
    the level's folder."""
    if level.base:
        if not rel.startswith(level.base + "/"):
            return None
        local = rel[len(level.base) + 1 :]
    else:
        local = rel
    result: pathspec.RegexPattern | None = None
    for pattern in level.spec.patterns:
        if not isinstance(pattern, pathspec.RegexPattern) or pattern.include is None or pattern.regex is None:
            continue  # comments and blank lines
        if pattern.regex.match(_candidate(pattern, local, is_dir)):
            result = pattern  # the last match wins
    return result


def _last_match(level: _Level, rel: str, is_dir: bool) -> bool | None:
    """The include flag of the last pattern of ``level`` matching ``rel`` (True: ignore, False:
    re-include), or None if none matches or ``rel`` is outside the level's folder."""
    pattern = _last_pattern(level, rel, is_dir)
    return None if pattern is None else bool(pattern.include)


# A name no negation can mean specifically: one that matches it matches any name there.
_PROBE = "mlws-any-name-0f3a9c"


def _names(level: _Level, rel: str, is_dir: bool) -> bool:
    """Whether an ``.amlignore`` negation of ``level`` names ``rel`` itself: it is the last pattern
    matching ``rel`` and it would not match any other name in that folder. ``!.env`` and
    ``!*.pem`` name; ``!*``, ``!**`` or ``!config/`` (which re-includes the whole folder, and so
    ``config/prod.key``) do not."""
    if not level.amlignore:
        return False
    pattern = _last_pattern(level, rel, is_dir)
    if pattern is None or pattern.include is not False or pattern.regex is None:
        return False
    parent = rel.rpartition("/")[0]
    probe = f"{parent}/{_PROBE}" if parent else _PROBE
    if level.base:
        probe = probe[len(level.base) + 1 :]
    return not pattern.regex.match(_candidate(pattern, probe, is_dir))


class IgnoreRules:
    """An immutable stack of ignore files from the snapshot root down to one folder."""

    def __init__(self, levels: tuple[_Level, ...] = ()) -> None:
        self._levels = levels

    def descend(self, folder: Path, rel: str, names: set[str] | None = None) -> IgnoreRules:
        """The rules that apply inside ``folder`` (whose path below the root is ``rel``)."""
        levels = self._levels
        for name in IGNORE_FILES:
            if names is not None and name not in names:
                continue
            path = folder / name
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                continue
            spec = pathspec.GitIgnoreSpec.from_lines(text.splitlines())
            levels = (*levels, _Level(rel, spec, f"{rel}/{name}".lstrip("/"), name == AMLIGNORE))
        return self if levels is self._levels else IgnoreRules(levels)

    def verdict(self, rel: str, is_dir: bool) -> Verdict:
        """What happens to the path ``rel`` (relative to the snapshot root, POSIX separators)."""
        name = rel.rsplit("/", 1)[-1]
        if is_dir and name in ALWAYS_EXCLUDED:
            return Verdict.IGNORE
        ignored = False
        for level in self._levels:
            match = _last_match(level, rel, is_dir)
            if match is not None:
                ignored = match
        if ignored:
            return Verdict.IGNORE
        if _is_secret(rel, is_dir) and not self._allowed_secret(rel, is_dir):
            return Verdict.WITHHELD
        return Verdict.INCLUDE

    def _allowed_secret(self, rel: str, is_dir: bool) -> bool:
        """Whether an ``.amlignore`` negation names ``rel`` (see :func:`_names`), or names a
        secret-like folder holding it (``!.aws/`` brings ``.aws/`` back whole). A negation that
        merely re-includes everything, or an ordinary folder, does not let a secret-like file in."""
        if any(_names(level, rel, is_dir) for level in self._levels):
            return True
        parts = rel.split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            if _is_secret(folder, True) and any(_names(level, folder, True) for level in self._levels):
                return True
        return False

    def is_ignored(self, rel: str, is_dir: bool) -> bool:
        """Whether the path ``rel`` is left out (by an ignore file, or as a secret-like file)."""
        return self.verdict(rel, is_dir) is not Verdict.INCLUDE
