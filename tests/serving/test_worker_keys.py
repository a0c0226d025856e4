"""The worker's ``key_env`` (packaged images): keys given as an environment variable at start turn auth
on; without it the configuration's ``auth`` and ``keys_file`` decide, as for deployed services."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jupyter_mlws.serving.scoring import Scorer
from jupyter_mlws.serving.worker import ScoringServer, WorkerConfig


def _server(**config: object) -> ScoringServer:
    return ScoringServer(WorkerConfig.from_dict(dict(config)), Scorer())


def test_a_key_in_the_named_variable_turns_auth_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLWS_SERVICE_KEY", " first , second ")
    server = _server(auth=False, key_env="MLWS_SERVICE_KEY")
    assert server.keys is not None
    assert server.keys.check(b"Bearer first") and server.keys.check(b"bearer second")
    assert not server.keys.check(b"Bearer other") and not server.keys.check(None)
    server.keys.refresh(force=True)  # fixed keys: no file to re-read
    assert server.keys.check(b"Bearer first")
    assert json.loads(server.swagger)["securityDefinitions"]


def test_without_the_variable_the_configuration_decides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("MLWS_SERVICE_KEY", raising=False)
    assert _server(auth=False, key_env="MLWS_SERVICE_KEY").keys is None
    monkeypatch.setenv("MLWS_SERVICE_KEY", "")
    assert _server(auth=False, key_env="MLWS_SERVICE_KEY").keys is None
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({"primary": "p", "secondary": "s"}))
    server = _server(auth=True, keys_file=str(keys), key_env="MLWS_SERVICE_KEY")
    assert server.keys is not None and server.keys.check(b"Bearer s")
