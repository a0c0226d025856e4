"""Fixtures of the serving tests."""

from tests.support.docker import engine  # noqa: F401 - the Docker engine's session fixture
