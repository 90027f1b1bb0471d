"""Two workers on PostgreSQL, and the Redis between them restarts mid-session.

The test runs a redis-server of its own on a free port (never the shared
one: restarting that would hit everyone else on the machine) and kills and
restarts it while phones write through both workers and pages, split across
the two workers, follow over their sockets (`LivePage`: live.js's algorithm).
Events published while Redis is down do not cross between the workers; the
pages must notice (resync from the relay's recovery or the watchdog, or a
gap) and converge on the database. Skipped without `redis-server` on PATH,
except under CI=true.
"""

import os
import secrets
import shutil
import socket
import subprocess
import threading
import time

import psycopg
import pytest

from tests.faults.model import LivePage, wait_until, wall_truth_rows

from .cluster import Browser, free_port, two_workers

pytestmark = pytest.mark.scaleout

REDIS_SERVER = shutil.which("redis-server")


class RedisServer:
    """A throwaway redis-server: no persistence, so a restart forgets everything."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), 0.5) as probe:
                    probe.sendall(b"PING\r\n")
                    if probe.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def crash(self):
        self.process.kill()
        self.process.wait(timeout=10)


@pytest.fixture
def redis_server():
    if REDIS_SERVER is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true: redis-server must be on PATH for this test")
        pytest.skip("redis-server is not on PATH: this test restarts a Redis of its own")
    server = RedisServer()
    server.start()
    yield server
    if server.process.poll() is None:
        server.crash()


@pytest.fixture
def cluster(redis_server):
    with two_workers(
        "reciproque_redis_restart",
        redis_server.url,
        # High enough for writers that post without pause, but on: the limits
        # count in Redis, and what an outage does to them is part of the test.
        RATE_LIMIT_PER_PARTICIPANT="100000",
        RATE_LIMIT_PER_ADDRESS="100000",
        LOG_LEVEL="ERROR",
    ) as cluster:
        yield cluster


def test_it_brings_pages_on_both_workers_back_in_step_after_redis_restarts(cluster, redis_server):
    (one, two), (workshop_id, token, stage_id), database_url = cluster

    def truth():
        with psycopg.connect(database_url) as db:
            seq = db.execute(
                "SELECT seq FROM workshops_workshop WHERE id = %s", (workshop_id,)
            ).fetchone()[0]
            rows = db.execute(
                'SELECT id, text, "column", cluster_id FROM journeys_postit WHERE stage_id = %s',
                (stage_id,),
            ).fetchall()
        return seq, wall_truth_rows(rows, stage_id)

    def joined(base, name):
        browser = Browser()
        assert browser.join(base, token, name) == f"/w/{workshop_id}/"
        return browser

    pages = [
        LivePage(worker.url, workshop_id, joined(worker.url, name), name)
        for worker, name in ((one, "Page 1a"), (one, "Page 1b"), (two, "Page 2a"), (two, "Page 2b"))
    ]
    for page in pages:
        page.start()
    assert wait_until(lambda: all(page.opened for page in pages), 10)

    answers, failures = {}, []
    lock = threading.Lock()

    def writer(name, workers):
        browser = joined(workers[0].url, name)
        for i in range(24):
            worker = workers[i % 2]  # both workers, in turn
            op = secrets.token_hex(16)
            status, _body = browser.post_until_answered(
                f"{worker.url}/w/{workshop_id}/stages/{stage_id}/postits/",
                {"text": f"{name} {i}", "column": "expectations", "op_id": op},
                on_error=lambda status: failures.append(status),
            )
            with lock:
                answers[op] = (status, f"{name} {i}")
            time.sleep(0.15)

    threads = [
        threading.Thread(target=writer, args=(name, order), daemon=True)
        for name, order in (("Alice", (one, two)), ("Bruno", (two, one)))
    ]
    for thread in threads:
        thread.start()
    try:
        assert wait_until(lambda: len(answers) >= 10, 30)
        redis_server.crash()  # groups, queued relays, counters: all gone
        time.sleep(2)
        redis_server.start()
        for thread in threads:
            thread.join(120)
        assert not any(t.is_alive() for t in threads)
        print(
            f"\n{len(failures)} attempts got no answer or a 5xx while Redis was down: "
            f"{sorted(set(map(str, failures)))}"
        )

        assert {status for status, _text in answers.values()} == {200}
        seq, wall = truth()
        texts = sorted(text for text, _place in wall.values())
        assert texts == sorted(text for _status, text in answers.values())

        # Every page, on either worker, catches up: same seq, same board as the database.
        def converged():
            seq, wall = truth()
            return all(page.state() == (seq, wall) for page in pages)

        assert wait_until(converged, 40), [
            (page.name, page.state()[0], page.resyncs, page.gap_hellos) for page in pages
        ]
        print(
            "resyncs",
            [page.resyncs for page in pages],
            "gap hellos",
            [page.gap_hellos for page in pages],
        )

        # The relay is back, not just the watchdog: a write on one worker reaches
        # the pages on the other live, well within a watchdog round (5 s).
        browser = joined(one.url, "Chloé")
        for worker in (one, two):
            browser.post_until_answered(
                f"{worker.url}/w/{workshop_id}/stages/{stage_id}/postits/",
                {
                    "text": f"Après la panne, via {worker.port}",
                    "column": "expectations",
                    "op_id": secrets.token_hex(16),
                },
            )
            assert wait_until(converged, 2.0), [(p.name, p.state()[0]) for p in pages]

        # The last write of all is made while Redis is down: nothing comes after it
        # to show the other worker's pages a gap. They must still be told.
        redis_server.crash()
        browser.post_until_answered(
            f"{one.url}/w/{workshop_id}/stages/{stage_id}/postits/",
            {
                "text": "Le dernier, pendant la panne",
                "column": "expectations",
                "op_id": secrets.token_hex(16),
            },
        )
        redis_server.start()
        assert wait_until(converged, 30), [(p.name, p.state()[0]) for p in pages]
        print(
            "after the second outage: resyncs",
            [page.resyncs for page in pages],
            "gap hellos",
            [page.gap_hellos for page in pages],
        )
    finally:
        for page in pages:
            page.stop()
