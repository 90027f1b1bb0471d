"""Real server processes for tests: Daphne workers, a phone's HTTP session, a live socket."""

import contextlib
import http.client
import http.cookiejar
import json
import os
import random
import re
import secrets
import tempfile
import time
import urllib.parse
import urllib.request

from tests.servers import Worker, free_port, manage  # noqa: F401 (free_port: for importers)

SETUP_WORKSHOP = """
from django.contrib.auth import get_user_model
from workshops import actions
user = get_user_model().objects.create_user("camille", password="pw-camille-123")
w = actions.create_workshop(
    facilitator=user, method_key="diagnostic", title="Atelier", language="fr"
)
print("WORKSHOP", w.pk, w.join_token, w.current_stage_id)
"""


def create_workshop(env):
    out = manage(env, "shell", "-c", SETUP_WORKSHOP)
    _, pk, token, stage = re.search(r"WORKSHOP (\d+) (\S+) (\d+)", out).group(0).split()
    return int(pk), token, int(stage)


class Browser:
    """A phone's HTTP side: cookies, CSRF, the join flow and post-it writes."""

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def cookie(self, name):
        return next((c.value for c in self.jar if c.name == name), None)

    def cookie_header(self):
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)

    def get(self, url):
        with self.opener.open(url, timeout=10) as response:
            return response.read().decode()

    def post(self, url, data, htmx=True):
        """(status, body, final url): redirects are followed, as a browser would."""
        body = urllib.parse.urlencode(data).encode()
        request = urllib.request.Request(url, data=body, method="POST")
        request.add_header("X-CSRFToken", self.cookie("csrftoken") or "")
        if htmx:
            request.add_header("HX-Request", "true")
        try:
            with self.opener.open(request, timeout=10) as response:
                return response.status, response.read().decode(), response.geturl()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(), url

    def join(self, base, token, name, profile="agent"):
        """Join through the link; returns the page the phone lands on."""
        self.get(f"{base}/j/{token}/")
        _status, _body, landed = self.post(
            f"{base}/j/{token}/", {"display_name": name, "profile": profile}, htmx=False
        )
        return urllib.parse.urlsplit(landed).path

    def log_in(self, base, username, password):
        """The facilitator's login, as the login form does it."""
        self.get(f"{base}/login/")
        status, _body, landed = self.post(
            f"{base}/login/", {"username": username, "password": password}, htmx=False
        )
        if "/login/" in landed:
            raise RuntimeError(f"login failed ({status})")

    def post_until_answered(self, url, data, deadline=60, on_error=None):
        """Send a write, and again with the same op id until the server answers.

        What the page's offline queue does: a network error or a 5xx (the server
        died mid-request, or is restarting) is retried; any other answer is final.
        """
        give_up = time.monotonic() + deadline
        while True:
            try:
                status, body, _url = self.post(url, data)
            except (OSError, http.client.HTTPException) as error:  # refused, reset: no answer
                status, body = None, repr(error)
            if status is not None and status < 500:
                return status, body
            if on_error is not None:
                on_error(status)
            if time.monotonic() > give_up:
                raise TimeoutError(f"no answer for {data.get('op_id')}: {status} {body[:200]}")
            time.sleep(0.05 + 0.1 * random.random())

    def seq_on_page(self, base, workshop_id):
        page = self.get(f"{base}/w/{workshop_id}/")
        return int(re.search(r'data-seq="(\d+)"', page).group(1))

    def add_postit(self, base, workshop_id, stage_id, text, column="expectations", op_id=None):
        return self.post(
            f"{base}/w/{workshop_id}/stages/{stage_id}/postits/",
            {"text": text, "column": column, "op_id": op_id or secrets.token_hex(16)},
        )


def database_url(name):
    """DATABASE_URL with another database name on the same server."""
    parts = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


@contextlib.contextmanager
def two_workers(prefix, redis_url, **env):
    """Two Daphne workers on a fresh PostgreSQL database and `redis_url`, with a workshop.

    Yields (workers, (workshop_id, token, stage_id), database URL); prints
    the workers' logs when the test is done, drops the database afterwards.
    """
    import psycopg

    name = f"{prefix}_{secrets.token_hex(4)}"
    admin_url = database_url("postgres")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    env = {
        **os.environ,
        "DATABASE_URL": database_url(name),
        "REDIS_URL": redis_url,
        "RECIPROQUE_VAR_DIR": tempfile.mkdtemp(prefix=f"{prefix}-"),
        "SECRET_KEY": secrets.token_urlsafe(40),
        "DEBUG": "0",
        **env,
    }
    workers = []
    try:
        manage(env, "migrate", "--noinput")
        workshop = create_workshop(env)
        workers = [Worker(env), Worker(env)]
        yield workers, workshop, env["DATABASE_URL"]
        for worker in workers:
            print(f"--- worker {worker.port} log ---\n{worker.log()[-3000:]}")
    finally:
        for worker in workers:
            worker.stop()
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def live_socket(base, workshop_id, browser):
    """A participant's live websocket, as the page opens it."""
    from websockets.sync.client import connect

    host = base.removeprefix("http://")
    return connect(
        f"ws://{host}/ws/w/{workshop_id}/",
        additional_headers={"Origin": base, "Cookie": browser.cookie_header()},
        open_timeout=10,
    )


def read_frames(ws, until_seq, timeout=20):
    """Frames with a seq, in arrival order, until `until_seq` has arrived."""
    frames = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            message = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        except TimeoutError:
            break
        if "seq" in message and "html" in message:
            frames.append(message)
            if message["seq"] >= until_seq:
                break
    return frames
