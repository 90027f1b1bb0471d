import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from tests.base import Room, log_in_participant


@pytest.fixture
def room(db):
    return Room()


# The personas, each with a test client of their own (tests/base.py says who they are).


@pytest.fixture
def camille(room):
    """The room's facilitator."""
    client = Client()
    client.force_login(room.facilitator)
    return client


@pytest.fixture
def oscar(room):
    """Another workshop's facilitator."""
    client = Client()
    client.force_login(room.other_facilitator)
    return client


@pytest.fixture
def alice(room):
    return log_in_participant(Client(), room.alice)


@pytest.fixture
def bruno(room):
    return log_in_participant(Client(), room.bruno)


@pytest.fixture
def olga(room):
    """A participant of the other workshop."""
    return log_in_participant(Client(), room.olga)


@pytest.fixture
def published(monkeypatch):
    """What the hub is asked to publish, in order (nothing reaches a channel layer)."""
    from workshops.live.hub import hub

    messages = []
    monkeypatch.setattr(hub, "publish", lambda workshop_id, message: messages.append(message))
    return messages


@pytest.fixture
def map_stage(room):
    """The diagnostic's step 2, the map, as the current stage."""
    from workshops import actions
    from workshops.models import Stage

    stage = room.workshop.stages.get(kind="map")
    actions.go_to_stage(room.workshop, stage)
    return Stage.objects.get(pk=stage.pk)


@pytest.fixture(autouse=True)
def _settings_for_tests(settings):
    settings.RECIPROQUE = {**settings.RECIPROQUE}
    settings.DEBUG = False
    # The personas' passwords are not what is under test: hash them fast.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The cache outlives a test: rate-limit counters (workshops/ratelimit.py)
    # from earlier tests, all from 127.0.0.1, must not throttle this one.
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def english_messages():
    """Refusals are read in the active language: compare them with their English source.

    A file that wants it: `pytestmark = pytest.mark.usefixtures("english_messages")`.
    """
    from django.utils import translation

    with translation.override("en"):
        yield


def pytest_sessionstart(session):
    """Every server and page under test serves collectstatic's real output.

    The pages name hashed files from its manifest (config/settings.py STORAGES),
    in-process tests as well as the Daphne servers that tests start: one
    collectstatic per change (~15 s) rather than a test-only storage, so that
    every rendered `{% static %}` is also checked against the manifest.
    """
    from config.staticfiles import static_is_stale

    if static_is_stale():
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
            cwd=Path(__file__).resolve().parent.parent,
            check=True,
        )


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
