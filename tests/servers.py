"""The one way tests start Daphne: `Worker` (a real Daphne process on the embedded or the
scale-out setup, which a test may stop, kill and restart) and `daphne_server()` (a fresh
var dir, migrated, a setup script, one Worker, its log kept), with `free_port`,
`manage` and `server_env`. Used by the browser tests, the fault tests, the scale-out
tests and tests/test_tokens.py.
"""

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
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


def server_env(var_dir, **extra):
    """The environment of a server of the embedded setup on `var_dir` (SQLite, its own
    secret key): what the test process has, minus what would point elsewhere."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "SQLITE_PATH", "SECRET_KEY")
    }
    env.update(
        RECIPROQUE_VAR_DIR=str(var_dir),
        DEBUG="0",
        DJANGO_SETTINGS_MODULE="config.settings",
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


class Worker:
    """A real Daphne process; `args` are extra Daphne options (e.g. a websocket timeout).

    With `send_buffer`, Daphne adopts a listening socket made here with that
    SO_SNDBUF, which its connections inherit (no kernel autotuning): what a
    socket that stops reading holds is then the server's own memory, not the
    kernel's several megabytes per socket.
    """

    def __init__(self, env, port=None, args=(), send_buffer=None, access_log=os.devnull):
        self.env = env
        self.args = list(args)
        # None: Daphne's access log goes to stdout, into the log (tests read what was served).
        self.access_log = access_log
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
            command = [
                "bash",
                "-c",
                'exec 3<&"$ADOPT_FD"; export LISTEN_PID=$$; exec "$0" "$@"',
                DAPHNE,
                "-e",
                "systemd:domain=INET:index=0",
            ]
            env = {**env, "ADOPT_FD": str(fd), "LISTEN_FDS": "1", "LISTEN_FDNAMES": "http"}
            pass_fds = (fd,)
        # Both streams in one log (Django's logging goes to stderr, a print to stdout).
        log = self.log_path.open("a")
        self.process = subprocess.Popen(
            [
                *command,
                *(["--access-log", self.access_log] if self.access_log else []),
                *self.args,
                "config.asgi:application",
            ],
            cwd=ROOT,
            env=env,
            pass_fds=pass_fds,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()  # the child has its own copy
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


RESULTS = ROOT / "test-results" / "browser"


@dataclass
class Running:
    """A Daphne of the embedded setup, on its own SQLite file: see `daphne_server`."""

    url: str
    env: dict
    room: dict | None
    log: Path
    worker: Worker


@contextlib.contextmanager
def daphne_server(prefix, setup_script=None, keep_log="daphne.log", args=(), **env):
    """A fresh var dir (SQLite, secret key), migrated; `setup_script` runs in
    `manage.py shell` (in the same Django start) and may print a `ROOM=<json>` line,
    returned as `room`. The server stops at the end and its log is kept in
    test-results/browser/`keep_log` for whoever reads a failure."""
    var_dir = Path(tempfile.mkdtemp(prefix=prefix))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    environment = server_env(var_dir, PUBLIC_URL=url, **env)
    worker = None
    try:
        # One Django start for both (each costs seconds on a busy machine).
        setup = "from django.core.management import call_command\n"
        setup += "call_command('migrate', interactive=False, verbosity=0)\n"
        out = manage(environment, "shell", "-c", setup + (setup_script or ""))
        room = None
        if found := re.search(r"^ROOM=(.*)$", out, re.M):
            room = json.loads(found.group(1))
        # The access log stays in the log: the static-weight test reads what was served.
        worker = Worker(environment, port=port, args=args, access_log=None)
        yield Running(url=url, env=environment, room=room, log=worker.log_path, worker=worker)
    finally:
        if worker is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                worker.stop()
            if worker.process.poll() is None:
                worker.stop(kill=True)
            if worker.log_path.exists():
                RESULTS.mkdir(parents=True, exist_ok=True)
                shutil.copy(worker.log_path, RESULTS / keep_log)
        shutil.rmtree(var_dir, ignore_errors=True)
