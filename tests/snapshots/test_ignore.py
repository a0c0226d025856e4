"""Ignore rules: ``.gitignore`` and ``.amlignore`` in gitignore syntax, nested per folder, as git does it.

The ``.gitignore``-only scenarios are checked twice: against the snapshot, and against git itself
(``git ls-files --others --exclude-standard``), so the expectations are git's, not ours.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from jupyter_mlws import Workspace
from jupyter_mlws.snapshots import IgnoreRules
from tests.snapshots.conftest import git, init_repo, write_tree

Captured = Callable[..., set[str]]

# name -> (tree, files the snapshot holds). Only .gitignore files: git is the oracle for these.
SCENARIOS: dict[str, tuple[Mapping[str, str], set[str]]] = {
    "no ignore file": (
        {"train.py": "print(1)\n", "data/x.csv": "a,b\n", "a/b/c/deep.txt": "deep"},
        {"train.py", "data/x.csv", "a/b/c/deep.txt"},
    ),
    "simple patterns match at any depth": (
        {
            ".gitignore": "*.pyc\n__pycache__\nsecret.txt\n",
            "train.py": "",
            "train.pyc": "",
            "pkg/mod.pyc": "",
            "pkg/mod.py": "",
            "pkg/__pycache__/mod.cpython-311.pyc": "",
            "__pycache__/x.pyc": "",
            "secret.txt": "",
            "deep/er/secret.txt": "",
            "secret.txt.bak": "",
        },
        {".gitignore", "train.py", "pkg/mod.py", "secret.txt.bak"},
    ),
    "directory pattern ignores folders only": (
        {
            ".gitignore": "data/\n",
            "data/big.bin": "x" * 100,
            "data/nested/more.bin": "y",
            "sub/data/inner.bin": "z",  # no slash inside the pattern: a folder 'data' at any depth
            "notdata/keep.txt": "",
            "data2": "",
            "files/data": "a file named data is not a folder",
        },
        {".gitignore", "notdata/keep.txt", "data2", "files/data"},
    ),
    "negation re-includes a file": (
        {
            ".gitignore": "*.log\n!keep.log\n",
            "a.log": "",
            "keep.log": "",
            "logs/b.log": "",
            "logs/keep.log": "",
            "main.py": "",
        },
        {".gitignore", "keep.log", "logs/keep.log", "main.py"},
    ),
    "last matching pattern wins": (
        {".gitignore": "!keep.log\n*.log\n", "keep.log": "", "other.txt": ""},
        {".gitignore", "other.txt"},
    ),
    "anchored pattern": (
        {
            ".gitignore": "/build\n/TODO.md\n",
            "build/out.o": "",
            "src/build/keep.o": "",
            "TODO.md": "",
            "docs/TODO.md": "",
        },
        {".gitignore", "src/build/keep.o", "docs/TODO.md"},
    ),
    "a middle slash anchors the pattern": (
        {".gitignore": "doc/frotz\n", "doc/frotz": "", "a/doc/frotz": "", "doc/other": ""},
        {".gitignore", "a/doc/frotz", "doc/other"},
    ),
    "double star patterns": (
        {
            ".gitignore": "**/tmp\na/**/z.txt\n**/cache/*.bin\n",
            "tmp/x": "",
            "deep/down/tmp/y": "",
            "tmpfile": "",
            "a/z.txt": "",
            "a/b/z.txt": "",
            "a/b/c/z.txt": "",
            "a/b/c/y.txt": "",
            "x/cache/blob.bin": "",
            "x/cache/note.txt": "",
            "cache/top.bin": "",
        },
        {".gitignore", "tmpfile", "a/b/c/y.txt", "x/cache/note.txt"},
    ),
    # git: "abc/**" matches everything inside abc but not abc itself, so abc is entered and a
    # negation below it works.
    "trailing double star ignores the contents, not the folder": (
        {
            ".gitignore": "logs/**\n!logs/keep.txt\n",
            "logs/a.txt": "",
            "logs/keep.txt": "",
            "logs/sub/b.txt": "",
        },
        {".gitignore", "logs/keep.txt"},
    ),
    "comments, blank lines and escapes": (
        {
            ".gitignore": "# a comment: *.py is not a pattern here\n\n   \n*.tmp\n\n# another\n\\#hash.txt\n",
            "train.py": "",
            "# a comment: x": "",
            "x.tmp": "",
            "#hash.txt": "",
        },
        {".gitignore", "train.py", "# a comment: x"},
    ),
    "nested ignore file patterns are relative to their folder": (
        {
            "sub/.gitignore": "/local.txt\n*.tmp\nout/\n",
            "local.txt": "",  # the root is not governed by sub/.gitignore
            "x.tmp": "",
            "out/a": "",
            "sub/local.txt": "",
            "sub/deeper/local.txt": "",  # anchored to sub/, so not this one
            "sub/x.tmp": "",
            "sub/deeper/y.tmp": "",
            "sub/out/a": "",
            "sub/keep.py": "",
        },
        {"local.txt", "x.tmp", "out/a", "sub/.gitignore", "sub/deeper/local.txt", "sub/keep.py"},
    ),
    "a deeper ignore file overrides a shallower one": (
        {
            ".gitignore": "*.log\n*.csv\n",
            "sub/.gitignore": "!keep.log\n*.py\n",
            "keep.log": "",  # root: still ignored
            "top.py": "",  # root: not ignored (sub's *.py applies below sub only)
            "sub/keep.log": "",  # re-included by the deeper file
            "sub/other.log": "",
            "sub/deep/keep.log": "",  # sub's pattern has no slash: any depth below sub
            "sub/code.py": "",
            "sub/data.csv": "",  # sub/.gitignore does not mention csv: the root rule stands
        },
        {".gitignore", "top.py", "sub/.gitignore", "sub/keep.log", "sub/deep/keep.log"},
    ),
    "three levels of ignore files": (
        {
            ".gitignore": "*.bin\n",
            "a/.gitignore": "!*.bin\n",
            "a/b/.gitignore": "big.bin\n",
            "x.bin": "",
            "a/x.bin": "",
            "a/big.bin": "",
            "a/b/x.bin": "",
            "a/b/big.bin": "",
        },
        {".gitignore", "a/.gitignore", "a/b/.gitignore", "a/x.bin", "a/big.bin", "a/b/x.bin"},
    ),
    "a file in an ignored folder cannot be re-included": (
        {".gitignore": "data/\n!data/keep.csv\n", "data/keep.csv": "", "data/big.csv": "", "train.py": ""},
        {".gitignore", "train.py"},
    ),
    "a deeper ignore file inside an ignored folder has no effect": (
        {".gitignore": "vendor/\n", "vendor/.gitignore": "!*\n!keep.py\n", "vendor/keep.py": "", "train.py": ""},
        {".gitignore", "train.py"},
    ),
    "folder/* allows re-inclusion": (
        {".gitignore": "data/*\n!data/keep.csv\n", "data/keep.csv": "", "data/big.csv": ""},
        {".gitignore", "data/keep.csv"},
    ),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_gitignore_semantics(name: str, src: Path, captured: Captured) -> None:
    tree, expected = SCENARIOS[name]
    assert captured(src, tree) == expected


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenarios_agree_with_git(name: str, tmp_path: Path, git_env: dict[str, str]) -> None:
    tree, expected = SCENARIOS[name]
    repo = init_repo(tmp_path / "repo")
    write_tree(repo, tree)
    listed = git(repo, "-c", "core.quotePath=false", "ls-files", "--others", "--exclude-standard", "-z")
    assert set(filter(None, listed.split("\0"))) == expected


def test_gitignore_and_amlignore_in_one_folder_both_apply(src: Path, captured: Captured) -> None:
    got = captured(
        src,
        {".amlignore": "a.txt\n", ".gitignore": "b.txt\n", "a.txt": "", "b.txt": "", "c.txt": ""},
    )
    assert got == {".amlignore", ".gitignore", "c.txt"}


def test_the_amlignore_has_the_last_word_in_its_folder(src: Path, captured: Captured) -> None:
    got = captured(
        src,
        {".gitignore": "*.csv\n", ".amlignore": "!keep.csv\n", "keep.csv": "", "drop.csv": "", "a.py": ""},
    )
    assert got == {".amlignore", ".gitignore", "keep.csv", "a.py"}


def test_subfolders_apply_their_gitignore_and_amlignore(src: Path, captured: Captured) -> None:
    got = captured(
        src,
        {
            ".amlignore": "*.ckpt\n",
            ".gitignore": "*.txt\n",  # applies next to the .amlignore too
            "sub/.gitignore": "local.dat\n",
            "both/.amlignore": "x.dat\n",
            "both/.gitignore": "y.dat\n",
            "root.txt": "",
            "model.ckpt": "",
            "sub/local.dat": "",
            "sub/other.dat": "",
            "sub/model.ckpt": "",  # the root .amlignore still applies below
            "sub/notes.txt": "",  # and the root .gitignore
            "both/x.dat": "",
            "both/y.dat": "",
            "both/z.dat": "",
        },
    )
    assert got == {
        ".amlignore",
        ".gitignore",
        "sub/.gitignore",
        "sub/other.dat",
        "both/.amlignore",
        "both/.gitignore",
        "both/z.dat",
    }


def test_a_deeper_amlignore_overrides_a_root_gitignore(src: Path, captured: Captured) -> None:
    got = captured(
        src,
        {
            ".gitignore": "*.csv\n",
            "sub/.amlignore": "!wanted.csv\n",
            "a.csv": "",
            "sub/wanted.csv": "",
            "sub/other.csv": "",
        },
    )
    assert got == {".gitignore", "sub/.amlignore", "sub/wanted.csv"}


def test_adding_an_amlignore_does_not_capture_what_the_gitignore_ignores(src: Path, captured: Captured) -> None:
    # Issue 13: the size-limit error advises adding an .amlignore; on Azure ML's rule that made the
    # folder's .gitignore unread, and so captured what it kept out (secret.txt, .env, keys).
    got = captured(
        src,
        {".gitignore": "secret.txt\n", ".amlignore": "data/\n", "secret.txt": "s3cr3t", "train.py": "", "data/x": ""},
    )
    assert got == {".amlignore", ".gitignore", "train.py"}
    assert "secret.txt" not in got


def test_workspace_and_git_folders_are_never_captured(src: Path, captured: Captured) -> None:
    Workspace.create(src)  # the workspace lives in the project folder, as a new user's would
    write_tree(
        src,
        {
            ".git/HEAD": "ref: refs/heads/main\n",
            ".git/objects/ab/cdef": "blob",
            "sub/.git/config": "",  # a nested repository's database too
            "sub/.mlws/config.json": "{}",
            ".amlignore": "!.mlws\n!.git/\n!*\n",  # cannot be re-included
            "train.py": "",
            "sub/code.py": "",
        },
    )
    assert (src / ".mlws" / "config.json").is_file()
    got = captured(src)
    assert got == {".amlignore", "train.py", "sub/code.py"}


@pytest.mark.parametrize(
    ("patterns", "path", "is_dir", "ignored"),
    [
        ("*.log", "a.log", False, True),
        ("*.log", "dir/a.log", False, True),
        ("*.log\n!keep.log", "keep.log", False, False),
        ("data/", "data", True, True),
        ("data/", "data", False, False),
        ("/build", "build", True, True),
        ("/build", "src/build", True, False),
        ("**/tmp", "a/b/tmp", True, True),
        ("# comment", "# comment", False, False),
        ("", "anything", False, False),
    ],
)
def test_ignore_rules_unit(tmp_path: Path, patterns: str, path: str, is_dir: bool, ignored: bool) -> None:
    (tmp_path / ".gitignore").write_text(patterns + "\n")
    rules = IgnoreRules().descend(tmp_path, "")
    assert rules.is_ignored(path, is_dir=is_dir) is ignored


def test_ignore_rules_unit_nested_levels(tmp_path: Path) -> None:
    write_tree(tmp_path, {".gitignore": "*.log\n", "sub/.gitignore": "!keep.log\n", ".amlignore": "*.bin\n"})
    root = IgnoreRules().descend(tmp_path, "")
    sub = root.descend(tmp_path / "sub", "sub")
    assert root.is_ignored("x.bin", is_dir=False)  # the .amlignore at the root
    assert root.is_ignored("x.log", is_dir=False)  # and the .gitignore next to it
    assert not sub.is_ignored("sub/keep.log", is_dir=False)
    assert sub.is_ignored("sub/x.bin", is_dir=False)
    assert root.is_ignored(".mlws", is_dir=True)
    assert root.is_ignored("sub/.git", is_dir=True)
