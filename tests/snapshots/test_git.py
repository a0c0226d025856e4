"""Git state of the source folder as Azure ML's ``azureml.git.*`` run properties."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_mlws.snapshots import GIT_PROPERTIES, git_properties
from tests.snapshots.conftest import git, init_repo, write_tree

pytestmark = pytest.mark.usefixtures("git_env")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = init_repo(tmp_path / "repo", branch="trunk")
    write_tree(repo, {"train.py": "print(1)\n", ".gitignore": "data/\n", "sub/helper.py": "X = 1\n"})
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "first")
    return repo


def test_property_names_are_azure_mls() -> None:
    assert set(GIT_PROPERTIES) == {
        "azureml.git.repository_uri",
        "azureml.git.branch",
        "azureml.git.commit",
        "azureml.git.dirty",
    }


def test_a_clean_repository(repo: Path) -> None:
    props = git_properties(repo)
    assert props == {
        "azureml.git.commit": git(repo, "rev-parse", "HEAD"),
        "azureml.git.branch": "trunk",
        "azureml.git.dirty": "False",
    }
    assert len(props["azureml.git.commit"]) == 40
    assert set(props) <= set(GIT_PROPERTIES)


def test_a_subfolder_of_a_repository(repo: Path) -> None:
    props = git_properties(repo / "sub")
    assert props["azureml.git.commit"] == git(repo, "rev-parse", "HEAD")
    assert props["azureml.git.branch"] == "trunk"


def test_a_modified_file_makes_it_dirty(repo: Path) -> None:
    (repo / "train.py").write_text("print(2)\n")
    props = git_properties(repo)
    assert props["azureml.git.dirty"] == "True"
    assert props["azureml.git.commit"] == git(repo, "rev-parse", "HEAD")


def test_a_staged_change_and_an_untracked_file_make_it_dirty(repo: Path) -> None:
    (repo / "new.py").write_text("")
    assert git_properties(repo)["azureml.git.dirty"] == "True"
    git(repo, "add", "new.py")
    assert git_properties(repo)["azureml.git.dirty"] == "True"
    git(repo, "commit", "-q", "-m", "second")
    props = git_properties(repo)
    assert props["azureml.git.dirty"] == "False"
    assert props["azureml.git.commit"] == git(repo, "rev-parse", "HEAD")


def test_ignored_files_do_not_make_it_dirty(repo: Path) -> None:
    write_tree(repo, {"data/big.bin": "x"})
    assert git_properties(repo)["azureml.git.dirty"] == "False"


def test_a_remote_sets_the_repository_uri(repo: Path) -> None:
    git(repo, "remote", "add", "origin", "https://example.invalid/repo.git")
    git(repo, "remote", "add", "backup", "https://example.invalid/backup.git")
    props = git_properties(repo)
    assert props["azureml.git.repository_uri"] == "https://example.invalid/repo.git"
    assert props["azureml.git.commit"] == git(repo, "rev-parse", "HEAD")


def test_a_single_non_origin_remote_is_used(repo: Path) -> None:
    git(repo, "remote", "add", "upstream", "git@example.invalid:team/repo.git")
    assert git_properties(repo)["azureml.git.repository_uri"] == "git@example.invalid:team/repo.git"


def test_another_branch_and_a_detached_head(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "feature/x")
    assert git_properties(repo)["azureml.git.branch"] == "feature/x"
    head = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "--detach")
    props = git_properties(repo)
    assert props["azureml.git.commit"] == head
    assert "azureml.git.branch" not in props


def test_a_repository_without_commits(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "fresh", branch="main")
    props = git_properties(repo)
    assert "azureml.git.commit" not in props
    assert props["azureml.git.branch"] == "main"
    assert props["azureml.git.dirty"] == "False"


def test_outside_a_repository(tmp_path: Path) -> None:
    plain = write_tree(tmp_path / "plain", {"train.py": ""})
    assert git_properties(plain) == {}
    assert git_properties(tmp_path / "does-not-exist") == {}


def test_without_git_installed(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(repo / "no-bin-here"))
    assert git_properties(repo) == {}
