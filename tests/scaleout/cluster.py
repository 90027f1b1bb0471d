"""Real server processes for tests: Daphne workers, a phone's HTTP session, a live socket."""

import contextlib
import http.client
import http.cookiejar
import json
import os
import random
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
DAPHNE = str(Path(sys.executable).with_name("daphne"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def manage(env, *args, input=None):
    result = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        input=input,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


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


class Worker:
    """A real Daphne process; `args` are extra Daphne options (e.g. a websocket timeout).

    With `send_buffer`, Daphne adopts a listening socket made here with that
    SO_SNDBUF, which its connections inherit (no kernel autotuning): what a
    socket that stops reading holds is then the server's own memory, not the
    kernel's several megabytes per socket.
    """

    def __init__(self, env, port=None, args=(), send_buffer=None):
        self.env = env
        self.args = list(args)
        self.process = None
        self.listener = None
        if send_buffer:
            self.listener = socket.socket()
            self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
            self.listener.bind(("127.0.0.1", port or 0))
            self.listener.listen(256)
            port = self.listener.getsockname()[1]
        self.port = port or free_port()
        self.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self):
        return Path(self.env["RECIPROQUE_VAR_DIR"]) / f"daphne-{self.port}.log"

    def log(self):
        return self.log_path.read_text() if self.log_path.exists() else ""

    def start(self):
        command = [DAPHNE, "-b", "127.0.0.1", "-p", str(self.port)]
        env, pass_fds = self.env, ()
        if self.listener is not None:
            # Twisted's systemd endpoint adopts fd 3 when LISTEN_PID is its own pid.
            fd = self.listener.fileno()
            command = ["bash", "-c", 'exec 3<&"$ADOPT_FD"; export LISTEN_PID=$$; exec "$0" "$@"',
                       DAPHNE, "-e", "systemd:domain=INET:index=0"]
            env = {**env, "ADOPT_FD": str(fd), "LISTEN_FDS": "1", "LISTEN_FDNAMES": "http"}
            pass_fds = (fd,)
        self.process = subprocess.Popen(
            [*command, "--access-log", os.devnull, *self.args, "config.asgi:application"],
            cwd=ROOT,
            env=env,
            pass_fds=pass_fds,
            stdout=subprocess.DEVNULL,
            stderr=self.log_path.open("a"),
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"daphne exited: {self.log()}")
            try:
                urllib.request.urlopen(self.url + "/join/", timeout=1)
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("daphne did not start")

    def stop(self, kill=False, restarting=False):
        """SIGTERM (a graceful stop), or SIGKILL (`kill -9`: nothing gets to clean up)."""
        if self.process and self.process.poll() is None:
            if kill:
                self.process.kill()
            else:
                self.process.terminate()
            self.process.wait(timeout=15)
        if self.listener is not None and self.process.poll() is not None and not restarting:
            self.listener.close()

    def restart(self, kill=False, down_for=0.0):
        """Stop, stay down a moment, start again on the same port and database."""
        self.stop(kill=kill, restarting=True)
        time.sleep(down_for)
        self.start()

    @property
    def pid(self):
        return self.process.pid

    def rss_kb(self):
        """The server's resident memory, from /proc."""
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise RuntimeError("no VmRSS")


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
