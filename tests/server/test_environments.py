"""GET environments and environments/{name}: registered environments and their versions."""

from __future__ import annotations

from tests.server.conftest import Api, Seed, expect_error


async def test_environments_list_the_newest_versions(api: Api, seed: Seed) -> None:
    page = await api.ok("environments")
    assert [(e["name"], e["version"]) for e in page["items"]] == [("train-env", 2)]
    env = page["items"][0]
    assert env["definition"]["environment_variables"] == {"OMP_NUM_THREADS": "1"}
    assert env["definition"]["python"]["pip_packages"] == ["numpy==2.1.0"]
    assert len(env["content_hash"]) == 64 and env["created_time"].endswith("Z")


async def test_one_environment_lists_every_version(api: Api, seed: Seed) -> None:
    page = await api.ok("environments/train-env")
    assert [e["version"] for e in page["items"]] == [2, 1]
    assert page["items"][1]["definition"]["environment_variables"] == {}
    expect_error(await api.get("environments/missing"), 404, "NotFoundError", "missing")


async def test_no_workspace_means_no_environments(api: Api) -> None:
    assert (await api.ok("environments"))["items"] == []
