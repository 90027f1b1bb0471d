"""Headers on every page, production settings, the server's version, and the websocket's Origin.

The pages are taken from the URL conf through the authorization matrix's
table (tests/test_authz_matrix.py), each fetched by someone allowed to see it:
a new page gets its headers checked without a line here.
"""

import importlib.metadata
import json
import os
import re
import runpy
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import websockets.sync.client
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connections
from django.test import Client

from .test_authz_matrix import (
    ALLOWED,
    ROUTES,
    build_shared_world,
    url_for,
    world_in_savepoint,
)
from .test_tokens import make_run_server

ROOT = Path(__file__).resolve().parents[1]

shared_world = pytest.fixture(scope="module")(build_shared_world)
world = pytest.fixture(world_in_savepoint)


def directives(policy):
    found = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            found[words[0]] = words[1:]
    return found


def header_problems(response, html=True):
    problems = []
    policy = response.get("Content-Security-Policy")
    if not policy:
        return ["no Content-Security-Policy"]
    found = directives(policy)
    scripts = found.get("script-src", found.get("default-src"))
    if not scripts or "'self'" not in scripts:
        problems.append(f"script-src {scripts}")
    for word in scripts or []:
        if word in ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*", "data:", "http:"):
            problems.append(f"script-src allows {word}")
    if found.get("object-src") != ["'none'"]:
        problems.append(f"object-src {found.get('object-src')}")
    if found.get("frame-ancestors") != ["'none'"]:
        problems.append(f"frame-ancestors {found.get('frame-ancestors')}")
    if found.get("base-uri") not in (["'self'"], ["'none'"]):
        problems.append(f"base-uri {found.get('base-uri')}")
    # Documents only: static files come from WhiteNoise before XFrameOptionsMiddleware
    # (and frame-ancestors, above, covers them in every current browser).
    is_html = "text/html" in response.get("Content-Type", "")
    if is_html and response.get("X-Frame-Options") != "DENY":
        problems.append(f"X-Frame-Options {response.get('X-Frame-Options')}")
    if response.get("X-Content-Type-Options") != "nosniff":
        problems.append(f"X-Content-Type-Options {response.get('X-Content-Type-Options')}")
    if response.get("Referrer-Policy") not in ("same-origin", "no-referrer", "strict-origin"):
        problems.append(f"Referrer-Policy {response.get('Referrer-Policy')}")
    if html and is_html:
        body = response.content.decode("utf-8", "replace")
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body):
            problems.append("an inline <script>")
        if re.search(r"<[a-z][^>]*\son[a-z]+\s*=", body, re.I):
            problems.append("an inline event handler")
        if re.search(r"<[a-z][^>]*\sstyle\s*=", body, re.I) or "<style" in body:
            problems.append("an inline style (style-src 'self' would block it)")
    return problems


def _persona_for(access):
    allowed = ALLOWED[access]
    for persona in ("camille", "alice", "anonymous"):
        if persona in allowed:
            return persona
    return "anonymous"


def test_it_sends_the_security_headers_on_every_page(world):
    problems = []
    checked = 0
    for route, spec in ROUTES.items():
        if "GET" not in spec.methods:
            continue
        client = world.client(_persona_for(spec.access))
        response = client.get(url_for(route, world.ids(route)))
        if response.status_code >= 500:
            problems.append(f"{route}: {response.status_code}")
        for problem in header_problems(response):
            problems.append(f"GET {route} ({response.status_code}): {problem}")
        checked += 1
    assert checked >= 25
    assert not problems, "\n".join(problems)


def test_it_sends_them_on_refusals_writes_and_static_files_too(world):
    anonymous = Client()
    alice = world.client("alice")
    responses = {
        "404": anonymous.get("/no/such/page/"),
        "403": alice.get(f"/workshops/{world.workshop.pk}/presence/", HTTP_HX_REQUEST="true"),
        "405": alice.get(f"/w/{world.workshop.pk}/done/"),
        "400 write": alice.post(
            f"/w/{world.workshop.pk}/done/", {"done": "x"}, HTTP_HX_REQUEST="true"
        ),
        "200 write": alice.post(
            f"/w/{world.workshop.pk}/done/", {"done": "1"}, HTTP_HX_REQUEST="true"
        ),
        "csrf": Client(enforce_csrf_checks=True).post("/join/", {"code": "QQQQQQ"}),
        "static script": anonymous.get("/static/js/live.js"),
        "htmx": anonymous.get("/static/django_htmx/htmx-2.min.js"),
    }
    problems = []
    for name, response in responses.items():
        for problem in header_problems(response, html=name not in ("csrf",)):
            problems.append(f"{name} ({response.status_code}): {problem}")
    assert responses["static script"].status_code == 200
    assert "javascript" in responses["static script"]["Content-Type"]
    assert not problems, "\n".join(problems)


def test_it_limits_sockets_to_this_host_in_the_policy(client):
    response = client.get("/login/", HTTP_HOST="salle.example:8443")
    connect = directives(response["Content-Security-Policy"])["connect-src"]
    assert set(connect) == {"'self'", "ws://salle.example:8443", "wss://salle.example:8443"}


# Production settings ------------------------------------------------------------------------


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", **extra)
    return env


def test_it_passes_the_deployment_checks_in_production(tmp_path):
    env = _env(
        SECURE="1",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="ateliers.example.org",
        CSRF_TRUSTED_ORIGINS="https://ateliers.example.org",
        RECIPROQUE_VAR_DIR=str(tmp_path),
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "System check identified no issues (0 silenced)." in output
    assert "WARNINGS" not in output and "?:" not in output


def _settings(monkeypatch, tmp_path, **env):
    for name in ("SECRET_KEY", "SECURE", "DEBUG", "ALLOWED_HOSTS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RECIPROQUE_VAR_DIR", str(tmp_path))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "config" / "settings.py"))


def test_it_takes_its_secrets_from_the_environment(monkeypatch, tmp_path):
    key = secrets.token_urlsafe(50)
    production = _settings(monkeypatch, tmp_path, SECRET_KEY=key, SECURE="1")
    assert production["SECRET_KEY"] == key
    assert not (tmp_path / "secret_key").exists()
    assert production["SESSION_COOKIE_SECURE"] and production["CSRF_COOKIE_SECURE"]
    assert production["SECURE_SSL_REDIRECT"] and production["SECURE_HSTS_SECONDS"] >= 31536000
    assert production["SESSION_COOKIE_HTTPONLY"]
    assert production["SESSION_COOKIE_SAMESITE"] == production["CSRF_COOKIE_SAMESITE"] == "Lax"
    assert production["DEBUG"] is False
    # Without one, a key is made once, kept private, and the same on every start.
    first = _settings(monkeypatch, tmp_path)["SECRET_KEY"]
    again = _settings(monkeypatch, tmp_path)["SECRET_KEY"]
    assert first == again and len(first) >= 50
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    # Nothing secret in the repository's settings.
    source = (ROOT / "config" / "settings.py").read_text()
    assert not re.search(r"SECRET_KEY\s*=\s*['\"]", source)


def test_it_runs_on_a_daphne_that_bounds_websocket_messages():
    """Daphne 4.2.3 caps websocket messages at 1 MiB by default (before: unbounded)."""
    version = importlib.metadata.version("daphne")
    assert tuple(int(part) for part in re.findall(r"\d+", version)[:3]) >= (4, 2, 3), version
    pins = (ROOT / "requirements.txt").read_text()
    pinned = re.search(r"^daphne==(\S+)$", pins, re.M)
    assert pinned, "requirements.txt must pin daphne"
    assert tuple(int(p) for p in pinned.group(1).split(".")[:3]) >= (4, 2, 3)
    assert pinned.group(1) == version, "the installed Daphne is not the pinned one"


# Cross-site websocket hijacking -----------------------------------------------------------------

FOREIGN_ORIGINS = [
    None,  # no Origin at all
    "null",
    "http://evil.example",
    "https://evil.example",
    "http://{host}.evil.example",
    "http://evil.example/{host}",
    "http://user@{host}",
    "ws://{host}",
    "file://",
    "http://127.0.0.2:{port}",
]


@pytest.mark.django_db(transaction=True)
async def test_it_refuses_a_socket_from_another_origin_in_process(room, settings):
    from config.asgi import application
    from workshops.live.consumer import CLOSE_FORBIDDEN

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from tests.base import log_in_participant

    name = settings.SESSION_COOKIE_NAME

    def cookie():
        client = log_in_participant(Client(), room.alice)
        return f"{name}={client.cookies[name].value}"

    session = await sync_to_async(cookie)()
    try:
        for origin in FOREIGN_ORIGINS:
            headers = [(b"host", b"testserver"), (b"cookie", session.encode())]
            if origin is not None:
                value = origin.format(host="testserver", port=80)
                headers.append((b"origin", value.encode()))
            socket = WebsocketCommunicator(
                application, f"/ws/w/{room.workshop.pk}/", headers=headers
            )
            connected, code = await socket.connect(timeout=3)
            assert not connected and code == CLOSE_FORBIDDEN, origin
        socket = WebsocketCommunicator(
            application,
            f"/ws/w/{room.workshop.pk}/",
            headers=[
                (b"host", b"testserver"),
                (b"origin", b"http://testserver"),
                (b"cookie", session.encode()),
            ],
        )
        connected, _code = await socket.connect(timeout=3)
        assert connected
        await socket.disconnect()
    finally:
        from workshops.live.hub import hub

        hub.rooms.clear()
        await sync_to_async(connections.close_all)()


@pytest.fixture(scope="module")
def real_server():
    return make_run_server()


def test_it_refuses_a_socket_from_another_origin_on_a_real_server(real_server):
    """Against Daphne itself, with a real websocket client and a real session."""
    server = real_server
    cookie = server.join("Oriane")
    url = f"ws://{server.host}/ws/w/{server.room['workshop']}/"
    port = server.host.split(":")[1]
    for origin in FOREIGN_ORIGINS:
        headers = {"Cookie": cookie}
        if origin is not None:
            headers["Origin"] = origin.format(host=server.host, port=port)
        with pytest.raises(websockets.InvalidStatus) as refused:
            websockets.sync.client.connect(
                url, additional_headers=headers, origin=None, open_timeout=10
            )
        # A close before accept() is Daphne's HTTP 403 (autobahn answers 400 to an Origin
        # it cannot even parse): the handshake itself fails.
        assert refused.value.response.status_code in (400, 403), origin
    # The page's own origin gets in, with the same cookie.
    with websockets.sync.client.connect(
        url, origin=server.url, additional_headers={"Cookie": cookie}, open_timeout=10
    ) as socket:
        socket.send('{"type": "ping"}')
        assert json.loads(socket.recv(timeout=10))["type"] == "pong"
