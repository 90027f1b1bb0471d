"""Fixtures of the fault tests; the servers themselves are in servers.py."""

import pytest

from .servers import make_room


@pytest.fixture(scope="module")
def room(tmp_path_factory):
    """One room per test module (each test starts its own server on it)."""
    room = make_room(tmp_path_factory.mktemp("room"))
    yield room
    room.stop_workers()


@pytest.fixture(autouse=True)
def _stop_servers(request):
    yield
    if "room" in request.fixturenames:
        request.getfixturevalue("room").stop_workers()
