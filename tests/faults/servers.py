"""Real servers for the fault tests: the embedded setup (SQLite, one Daphne) in a temp dir.

The test owns the Daphne process and may kill it (`kill -9`), stop it
(SIGTERM) and start it again on the same port and the same SQLite file.
Used by tests/faults/ and tests/browser/test_faults.py.
"""

import os
import re
import secrets
import sqlite3
import threading
import time

from tests.scaleout.cluster import Browser, Worker, manage

# One facilitator, a workshop on a post-it wall, and its join link.
SETUP = """
import json
from django.contrib.auth import get_user_model
from journeys import actions as journeys
from workshops import actions
user = get_user_model().objects.create_user("camille", password="pw-camille-123")
w = actions.create_workshop(facilitator=user, method_key=None, title="Pannes", language="fr")
stage = actions.add_stage(w, kind="wall", title="Mur", config={{"columns": [
    {{"key": "a", "label": "A", "colour": "yellow"}},
    {{"key": "b", "label": "B", "colour": "blue"}},
]}})
actions.go_to_stage(w, stage)
theme = journeys.add_cluster(stage, name="Thème")
# A board already full (the slow-reader test wants big redraws): test data, no events.
from journeys.models import PostIt
PostIt.objects.bulk_create(
    PostIt(workshop=w, stage=stage, column="a", colour="yellow", text="{filler}" + str(i))
    for i in range({postits})
)
print("ROOM=" + json.dumps({{"workshop": w.pk, "token": w.join_token, "stage": stage.pk,
                            "theme": theme.pk}}))
"""
FACILITATOR = ("camille", "pw-camille-123")


class Room:
    """A workshop on a server this test controls, and its SQLite file."""

    def __init__(self, env, workshop, token, stage, theme):
        self.env = env
        self.workshop = workshop
        self.token = token
        self.stage = stage
        self.theme = theme
        self.database = os.path.join(env["RECIPROQUE_VAR_DIR"], "reciproque.sqlite3")
        self.workers = []

    def stop_workers(self):
        for worker in self.workers:
            worker.stop()
        self.workers = []

    def worker(self, **options):
        worker = Worker(self.env, **options)
        self.workers.append(worker)
        return worker

    def phone(self, base, name):
        browser = Browser()
        landed = browser.join(base, self.token, name)
        assert landed == f"/w/{self.workshop}/", landed
        return browser

    def postits_url(self, base):
        return f"{base}/w/{self.workshop}/stages/{self.stage}/postits/"

    # the database, read by the test

    def query(self, sql, *params):
        with sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=20) as db:
            return db.execute(sql, params).fetchall()

    def seq(self):
        return self.query("SELECT seq FROM workshops_workshop WHERE id = ?", self.workshop)[0][0]

    def events_by_op(self, ops):
        counts = dict.fromkeys(ops, 0)
        for (op,) in self.query(
            "SELECT op_id FROM workshops_event WHERE workshop_id = ? AND op_id IS NOT NULL",
            self.workshop,
        ):
            if op in counts:
                counts[op] += 1
        return counts

    def wall(self):
        from tests.faults.model import wall_truth_rows

        rows = self.query(
            'SELECT id, text, "column", cluster_id FROM journeys_postit WHERE stage_id = ?',
            self.stage,
        )
        return wall_truth_rows(rows, self.stage)


def make_room(tmp_path, postits=0, filler="x"):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "SQLITE_PATH", "SECRET_KEY")
    }
    env.update(
        RECIPROQUE_VAR_DIR=str(tmp_path),
        SECRET_KEY=secrets.token_urlsafe(40),
        DEBUG="0",
        # Writers here post far faster than a person: the per-participant and
        # per-address limits (workshops/ratelimit.py) would answer 429.
        RATE_LIMIT_PER_PARTICIPANT="0",
        RATE_LIMIT_PER_ADDRESS="0",
    )
    manage(env, "migrate", "--noinput")
    out = manage(env, "shell", "-c", SETUP.format(postits=postits, filler=filler))
    import json

    room = json.loads(re.search(r"^ROOM=(.*)$", out, re.M).group(1))
    return Room(env, room["workshop"], room["token"], room["stage"], room["theme"])


class Writers:
    """Phones posting as fast as they can, each write retried with its op id until answered.

    Each writes `per_writer` post-its, or, with per_writer=None, until stop(), waiting
    `pause` seconds after each answer.
    """

    def __init__(self, room, base, names, per_writer, pause=0.0):
        self.room = room
        self.base = base
        self.browsers = [room.phone(base, name) for name in names]
        self.per_writer = per_writer
        self.pause = pause
        self.answers = {}  # op id -> (status, text)
        self.unanswered_attempts = 0
        self.lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self._write, args=(b, n), daemon=True)
            for b, n in zip(self.browsers, names, strict=True)
        ]
        self.started = threading.Event()
        self.stopping = threading.Event()

    def _write(self, browser, name):
        self.started.wait()
        i = 0
        while (i < self.per_writer) if self.per_writer is not None else not self.stopping.is_set():
            i += 1
            op = secrets.token_hex(16)
            text = f"{name} {i}"
            data = {"text": text, "column": "ab"[i % 2], "op_id": op}
            status, _body = browser.post_until_answered(
                self.room.postits_url(self.base), data, deadline=120, on_error=self._no_answer
            )
            with self.lock:
                self.answers[op] = (status, text)
            if self.pause:
                self.stopping.wait(self.pause)

    def _no_answer(self, _status):
        with self.lock:
            self.unanswered_attempts += 1

    def start(self):
        for thread in self.threads:
            thread.start()
        self.started.set()

    def stop(self):
        self.stopping.set()

    def join(self, timeout=90):
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.1, deadline - time.monotonic()))
        assert not any(t.is_alive() for t in self.threads), "a writer never got its answers"
