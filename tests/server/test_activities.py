"""GET activities and activities/{id}: long operations (environment builds) with progress and logs."""

from __future__ import annotations

from tests.server.conftest import Api, Seed, expect_error


async def test_activities_list_newest_first_without_logs(api: Api, seed: Seed) -> None:
    page = await api.ok("activities")
    assert [a["activity_id"] for a in page["items"]] == list(reversed(seed.activities))
    failed, built = page["items"]
    assert (built["name"], built["status"], built["progress"]) == ("train-env:1", "Completed", "built in 1.0 s")
    assert built["details"]["cached"] is False and built["end_time"].endswith("Z") and built["error"] is None
    assert failed["status"] == "Failed" and failed["run_id"] == seed.files_run
    assert "No matching distribution" in failed["error"]["message"]
    assert all("log" not in a for a in page["items"])


async def test_activities_filter_by_status_and_kind(api: Api, seed: Seed) -> None:
    running = await api.ok("activities", params={"status": "Failed"})
    assert [a["activity_id"] for a in running["items"]] == [seed.activities[1]]
    assert (await api.ok("activities", params={"kind": "deployment"}))["items"] == []
    assert len((await api.ok("activities", params={"page_size": "1"}))["items"]) == 1
    expect_error(await api.get("activities", params={"status": "Done"}), 400, "InvalidArgumentError", "status")


async def test_one_activity_has_its_log(api: Api, seed: Seed) -> None:
    activity = await api.ok(f"activities/{seed.activities[1]}")
    assert "--- installing 1 package(s)" in activity["log"]
    assert "ERROR: No matching distribution found for numpy==2.1.0" in activity["log"]
    expect_error(await api.get("activities/missing"), 404, "NotFoundError", "missing")


async def test_no_workspace_means_no_activities(api: Api) -> None:
    assert (await api.ok("activities"))["items"] == []
