"""GET datastores: name, URL (never credentials), type, non-secret options, the default flag."""

from __future__ import annotations

from pathlib import Path

from jupyter_mlws import Datastore
from jupyter_mlws.data.datastore import credentials_secret_name
from tests.server.conftest import Api, Seed
from tests.support.vault import vault_key

__all__ = ["vault_key"]


async def test_datastores_list_without_credentials(api: Api, seed: Seed, jp_root_dir: Path, vault_key: str) -> None:
    ws = seed.ws
    secret = "server-test-secret-41d2"
    Datastore.register(ws, "lake", str(jp_root_dir / "lake"))
    Datastore.register(ws, "mem", "memory://server-test", credentials={"token": secret, "region_name": "eu"})
    ws.set_default_datastore("lake")
    reply = await api.get("datastores")
    assert reply.status == 200 and secret not in reply.body.decode()
    items = {d["name"]: d for d in (await api.ok("datastores"))["items"]}
    assert set(items) == {"lake", "mem", "workspaceblobstore"}
    assert items["lake"] == {
        "name": "lake",
        "url": f"file://{jp_root_dir / 'lake'}",
        "type": "file",
        "options": {},
        "is_default": True,
    }
    assert items["mem"]["options"] == {"region_name": "eu"} and items["mem"]["type"] == "memory"
    assert not items["workspaceblobstore"]["is_default"]
    # The credentials are a vault secret: its name is listed, never its value.
    secrets = await api.get("secrets")
    assert credentials_secret_name("mem") in secrets.body.decode() and secret not in secrets.body.decode()


async def test_no_workspace_means_no_datastores(api: Api) -> None:
    assert (await api.ok("datastores"))["items"] == []
