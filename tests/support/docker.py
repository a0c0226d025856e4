"""The Docker engine of the tests (CI starts it with ``bash .ci/docker-engine start``) and its offline
base image. Without one, tests that need it are skipped locally; CI sets ``MLWS_REQUIRE_DOCKER=1`` so
that a missing engine fails the run instead.

Use it as a session fixture: ``from tests.support.docker import engine``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

REQUIRE_DOCKER = os.environ.get("MLWS_REQUIRE_DOCKER") == "1"
TEST_IMAGE = os.environ.get("MLWS_TEST_DOCKER_IMAGE", "mlws-test/python:bookworm")


@pytest.fixture(scope="session")
def engine() -> Iterator[Any]:
    from jupyter_mlws.compute.docker import engine as connect

    try:
        client = connect({})  # probes the socket first: the docker client leaks one when it fails
        client.images.get(TEST_IMAGE)
    except Exception as exc:
        if REQUIRE_DOCKER:
            pytest.fail(f"a Docker engine with the image {TEST_IMAGE} is required (MLWS_REQUIRE_DOCKER=1): {exc}")
        pytest.skip(f"no Docker engine with the image {TEST_IMAGE} (start one: bash .ci/docker-engine start): {exc}")
    yield client
    client.close()
