"""Join tokens and codes: long, random, revocable, never logged, and not guessable by brute force.

Also home to `make_run_server()`: one real Daphne started the way `make run`
starts it (access log off), with Django logging at DEBUG into a file, shared
by every test module of this process that needs a real server.
"""

import atexit
import base64
import http.cookiejar
import json
import re
import secrets
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from tests.servers import Worker, manage, server_env
from workshops import models, ratelimit
from workshops.models import Participant, Workshop

from .base import french, log_in_participant

ROOT = Path(__file__).resolve().parents[1]

# The real server -----------------------------------------------------------------------------

SERVER_SETUP = """
import json
from django.contrib.auth import get_user_model
from workshops import actions

user = get_user_model().objects.create_user("camille", password="pw-camille-real-123")
workshop = actions.create_workshop(
    facilitator=user, method_key=None, title="Serveur réel", language="fr"
)
wall = actions.add_stage(workshop, kind="wall", title="Mur", duration_minutes=10)
actions.go_to_stage(workshop, wall)
print("ROOM=" + json.dumps({
    "workshop": workshop.pk, "token": workshop.join_token, "code": workshop.short_code,
    "wall": wall.pk,
}))
"""


@dataclass
class RealServer:
    url: str
    host: str
    process: subprocess.Popen
    log: Path
    var_dir: Path
    room: dict

    def output(self):
        return self.log.read_text("utf-8", errors="replace")

    def rss_kib(self):
        """Resident memory of the Daphne process, in KiB."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M).group(1))

    def opener(self):
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor(jar)
        )
        opener.jar = jar
        return opener

    def join(self, name):
        """Join through the real pages, as a phone does; the session cookie it got."""
        opener = self.opener()
        page = opener.open(f"{self.url}/j/{self.room['token']}/", timeout=10).read().decode()
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        form = {
            "csrfmiddlewaretoken": csrf,
            "display_name": name,
            "profile": "agent",
            "organisation": "",
        }
        body = urllib.parse.urlencode(form).encode()
        with opener.open(f"{self.url}/j/{self.room['token']}/", body, timeout=10) as response:
            assert response.url.endswith(f"/w/{self.room['workshop']}/"), response.url
        cookies = {c.name: c.value for c in opener.jar}
        return f"sessionid={cookies['sessionid']}"


def _start():
    var_dir = Path(tempfile.mkdtemp(prefix="reciproque-real-"))
    env = server_env(var_dir, LOG_LEVEL="DEBUG")
    # One Django start for both (each costs seconds on a busy machine).
    setup = "from django.core.management import call_command\n"
    setup += "call_command('migrate', interactive=False, verbosity=0)\n" + SERVER_SETUP
    out = manage(env, "shell", "-c", setup)
    room = json.loads(re.search(r"^ROOM=(.*)$", out, re.M).group(1))
    # As `make run` does (Makefile): the access log off, everything else as it comes.
    worker = Worker(env)
    host = f"127.0.0.1:{worker.port}"
    server = RealServer(f"http://{host}", host, worker.process, worker.log_path, var_dir, room)
    server.worker = worker
    atexit.register(_stop, server)
    return server


def _stop(server):
    if server.process.poll() is None:
        try:
            server.worker.stop()
        except subprocess.TimeoutExpired:
            server.worker.stop(kill=True)
    shutil.rmtree(server.var_dir, ignore_errors=True)


_servers = []


def make_run_server():
    """The one real server of this test process (started on first use)."""
    if not _servers:
        _servers.append(_start())
    server = _servers[0]
    assert server.process.poll() is None, server.output()[-3000:]
    return server


@pytest.fixture(scope="module")
def real_server():
    return make_run_server()


# Tokens and codes ------------------------------------------------------------------------------


def test_it_makes_join_tokens_of_at_least_128_bits_from_secrets(monkeypatch):
    calls = []
    real = secrets.token_urlsafe

    def spy(nbytes=None):
        calls.append(nbytes)
        return real(nbytes)

    monkeypatch.setattr(models.secrets, "token_urlsafe", spy)
    tokens = {models.new_join_token() for _ in range(500)}
    assert calls and all(n is not None and n >= 16 for n in calls)  # 16 bytes = 128 bits
    assert len(tokens) == 500
    for token in tokens:
        assert re.fullmatch(r"[A-Za-z0-9_-]+", token)
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        assert len(raw) * 8 >= 128


def test_it_draws_short_codes_from_secrets(monkeypatch):
    picks = []
    real = secrets.choice

    def spy(sequence):
        picks.append(sequence)
        return real(sequence)

    monkeypatch.setattr(models.secrets, "choice", spy)
    code = models.new_short_code()
    assert len(picks) == len(code) == models.SHORT_CODE_LENGTH
    assert set(code) <= set(models.SHORT_CODE_ALPHABET)


def test_it_revokes_the_link_and_the_code_and_keeps_who_is_in(client, room):
    old_token, old_code = room.workshop.join_token, room.workshop.short_code
    client.force_login(room.facilitator)
    response = client.post(
        reverse("workshops:renew_link", args=[room.workshop.pk]), {"op_id": "renew-000001"}
    )
    assert response.status_code == 302
    workshop = Workshop.objects.get(pk=room.workshop.pk)
    assert workshop.join_token != old_token and workshop.short_code != old_code

    stranger = Client()
    count = Participant.objects.count()
    assert stranger.get(reverse("join", args=[old_token])).status_code == 404
    posted = stranger.post(
        reverse("join", args=[old_token]), {"display_name": "Intrus", "profile": "agent"}
    )
    assert posted.status_code == 404
    assert Participant.objects.count() == count
    assert stranger.post(reverse("join_code"), {"code": old_code}).status_code == 404
    assert stranger.get(reverse("join", args=[workshop.join_token])).status_code == 200
    # Alice, already in, stays in.
    alice = log_in_participant(Client(), room.alice)
    assert alice.get(reverse("workshops:live", args=[workshop.pk])).status_code == 200


def test_it_refuses_even_the_right_code_until_the_window_passes(client, room, monkeypatch):
    """Guessing is throttled per address; the limit is not lifted by finding the code."""
    now = [1_000_000.0]
    monkeypatch.setattr(ratelimit, "clock", lambda: now[0])
    code = room.workshop.short_code
    for _ in range(10):
        assert client.post(reverse("join_code"), {"code": "QQQQQQ"}).status_code == 404
    refused = client.post(reverse("join_code"), {"code": code})
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert french("Too many wrong codes. Wait a few minutes, or scan the QR code.") in (
        refused.content.decode()
    )
    # Another address is not punished: its own guesses count from zero.
    other = {"REMOTE_ADDR": "10.0.0.9"}
    for _ in range(9):
        assert client.post(reverse("join_code"), {"code": "QQQQQQ"}, **other).status_code == 404
    assert client.post(reverse("join_code"), {"code": code}, **other).status_code == 302
    # Still refused a minute later…
    now[0] += 60
    assert client.post(reverse("join_code"), {"code": code}).status_code == 429
    # …and let through once the window has passed.
    now[0] += 600
    response = client.post(reverse("join_code"), {"code": code})
    assert response.status_code == 302
    assert response["Location"] == reverse("join", args=[room.workshop.join_token])


def test_it_never_writes_the_join_token_to_the_logs(real_server):
    """Daphne as `make run` starts it, Django logging at DEBUG: join, fail to join, renew."""
    token = real_server.room["token"]
    url = f"{real_server.url}/j/{token}/"
    opener = real_server.opener()
    page = opener.open(url, timeout=10).read().decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    # A form error is a 400, and Django logs the path of every 4xx.
    bad = urllib.parse.urlencode({"csrfmiddlewaretoken": csrf, "display_name": ""}).encode()
    with pytest.raises(urllib.error.HTTPError) as refused:
        opener.open(url, bad, timeout=10)
    assert refused.value.code == 400
    # A mistyped link is a 404: logged too.
    with pytest.raises(urllib.error.HTTPError) as missing:
        opener.open(url[:-1] + "x/", timeout=10)
    assert missing.value.code == 404
    cookie = real_server.join("Zoé")
    assert cookie.startswith("sessionid=")
    output = real_server.output()
    assert "Bad Request" in output and "Not Found" in output  # the logs were written…
    assert token not in output  # …without the token
    assert token[:-1] not in output
