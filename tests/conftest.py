import os

import pytest

from tests.base import Room


@pytest.fixture
def room(db):
    return Room()


@pytest.fixture(autouse=True)
def _settings_for_tests(settings):
    settings.RECIPROQUE = {**settings.RECIPROQUE}
    settings.DEBUG = False
    # The cache outlives a test: rate-limit counters (workshops/ratelimit.py)
    # from earlier tests, all from 127.0.0.1, must not throttle this one.
    from django.core.cache import cache

    cache.clear()


def pytest_collection_modifyitems(config, items):
    """Scale-out tests need PostgreSQL and Redis; without them they skip, unless CI=true."""
    if os.environ.get("DATABASE_URL", "").startswith("postgres") and os.environ.get("REDIS_URL"):
        return
    if os.environ.get("CI") == "true":
        return  # they run and fail loudly rather than skip quietly
    skip = pytest.mark.skip(reason="needs DATABASE_URL (PostgreSQL) and REDIS_URL (Redis)")
    for item in items:
        if "scaleout" in item.keywords:
            item.add_marker(skip)
