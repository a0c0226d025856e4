"""The environment of a Jupyter server a test starts: its own home and Jupyter folders, nothing of the
developer's (no workspace from their shell), and short-lived job dispatchers."""

from __future__ import annotations

import os
from pathlib import Path


def isolated_server_env(home: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "MLWS_AGENT_IDLE_SECONDS": "5",
        "HOME": str(home),
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "IPYTHONDIR": str(home / "ipython"),
    }
    env.pop("MLWS_WORKSPACE", None)
    return env
