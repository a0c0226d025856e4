"""This machine's pip settings, handed to builds (a venv's pip, or pip in a build container), so
builds work behind a proxy with a private CA. A CA bundle named only by ``REQUESTS_CA_BUNDLE`` or
``SSL_CERT_FILE`` is handed to pip too."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from collections.abc import Mapping

__all__ = ["PIP_SETTING_KEYS", "PROXY_VARIABLES", "host_pip_settings", "local_paths"]

# pip settings that describe where packages come from and how to trust it.
PIP_SETTING_KEYS = (
    "index-url",
    "extra-index-url",
    "find-links",
    "cert",
    "client-cert",
    "trusted-host",
    "constraint",
    "proxy",
    "default-timeout",
    "retries",
    "no-index",
)
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")


@functools.lru_cache(maxsize=1)
def _pip_config() -> dict[str, str]:
    """``pip config list``: global/user/site files, later scopes winning (pip's own order)."""
    try:
        out = subprocess.run(
            [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, timeout=60, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    settings: dict[str, str] = {}
    for line in out.splitlines():
        name, sep, value = line.partition("=")
        if not sep or ":env:" in name:
            continue
        key = name.rsplit(".", 1)[-1]
        settings[key] = value.strip().strip("'\"")
    return settings


def host_pip_settings() -> dict[str, str]:
    """This machine's pip settings as ``PIP_*`` variables (for builds in containers), plus proxies."""
    settings = {f"PIP_{k.upper().replace('-', '_')}": v for k, v in _pip_config().items() if k in PIP_SETTING_KEYS}
    for key in PIP_SETTING_KEYS:
        variable = f"PIP_{key.upper().replace('-', '_')}"
        if os.environ.get(variable):
            settings[variable] = os.environ[variable]
    if "PIP_CERT" not in settings:
        for variable in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"):
            if os.environ.get(variable) and os.path.isfile(os.environ[variable]):
                settings["PIP_CERT"] = os.environ[variable]
                break
    for variable in PROXY_VARIABLES:
        if os.environ.get(variable):
            settings[variable] = os.environ[variable]
    return settings


def local_paths(settings: Mapping[str, str]) -> list[str]:
    """Files and folders the pip settings point at (to mount into a build container read-only)."""
    found: set[str] = set()
    for variable in (
        "PIP_CERT",
        "PIP_CLIENT_CERT",
        "PIP_CONSTRAINT",
        "PIP_FIND_LINKS",
        "PIP_INDEX_URL",
        "PIP_EXTRA_INDEX_URL",
    ):
        for item in settings.get(variable, "").split():
            path = item[len("file://") :] if item.startswith("file://") else item
            if not path.startswith("/") or not os.path.exists(path):
                continue
            if variable.endswith("INDEX_URL"):
                # A local "simple" index links to files beside it (../files/...): take its parent.
                path = os.path.dirname(path.rstrip("/"))
            found.add(path)
            if os.path.islink(path):
                found.add(os.path.realpath(path))
    return sorted(found)
