"""The server dies mid-session: nothing it accepted is lost, and pages come back by themselves.

Real Daphne processes on the embedded setup (SQLite file in a temp dir),
phones writing over HTTP in threads, and pages running live.js's socket
algorithm (`LivePage`) over real websockets. The real-browser versions are
in tests/browser/test_faults.py; the minutes-long loops in test_soak.py.
"""

import http.client
import secrets
import subprocess
import time
import urllib.parse

import pytest

from tests.faults.model import LivePage, wait_until

from .servers import Writers

pytestmark = pytest.mark.faults


def converged(room, pages):
    seq, wall = room.seq(), room.wall()
    return all(page.state() == (seq, wall) for page in pages)


def live_pages(room, base, names):
    pages = [LivePage(base, room.workshop, room.phone(base, name), name) for name in names]
    for page in pages:
        page.start()
    assert wait_until(lambda: all(page.opened for page in pages), 10)
    return pages


def test_it_keeps_every_accepted_write_through_a_kill_9(room):
    server = room.worker()
    pages = live_pages(room, server.url, ["Dora", "Émile"])
    writers = Writers(room, server.url, ["Alice", "Bruno", "Chloé"], per_writer=20)
    try:
        writers.start()
        assert wait_until(lambda: len(writers.answers) >= 12, 30)
        server.restart(kill=True, down_for=0.3)  # kill -9, in the middle of the writes
        writers.join()

        # Every write was answered in the end, and each was applied once.
        assert len(writers.answers) == 60
        assert {status for status, _text in writers.answers.values()} == {200}
        assert room.events_by_op(writers.answers) == dict.fromkeys(writers.answers, 1)
        texts = sorted(text for text, _place in room.wall().values())
        assert texts == sorted(text for _status, text in writers.answers.values())
        # Some writes found the server gone (no answer) and were sent again.
        assert writers.unanswered_attempts > 0

        # The pages noticed, reconnected by themselves, and caught up with the log.
        assert wait_until(lambda: converged(room, pages), 30), [p.state()[0] for p in pages]
        assert all(len(page.opened) >= 2 for page in pages)
    finally:
        for page in pages:
            page.stop()


def test_it_applies_once_a_write_whose_answer_died_with_the_server(room):
    """Committed, then kill -9 before the answer left: the retry finds it and adds nothing."""
    server = room.worker()
    phone = room.phone(server.url, "Fanny")
    op = secrets.token_hex(16)
    body = urllib.parse.urlencode({"text": "Sans réponse", "column": "a", "op_id": op})
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request(
        "POST",
        urllib.parse.urlsplit(room.postits_url(server.url)).path,
        body=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": phone.cookie_header(),
            "X-CSRFToken": phone.cookie("csrftoken"),
            "HX-Request": "true",
        },
    )
    # The write is in the database; its answer was never read.
    assert wait_until(lambda: room.events_by_op([op])[op] == 1, 10)
    server.restart(kill=True)
    connection.close()

    status, reply = phone.post_until_answered(
        room.postits_url(server.url), {"text": "Sans réponse", "column": "a", "op_id": op}
    )
    assert status == 200
    assert "Sans réponse" in reply  # the same post-it, as if the first answer had arrived
    assert room.events_by_op([op]) == {op: 1}
    assert [t for t, _p in room.wall().values()].count("Sans réponse") == 1


def test_it_stops_on_sigterm_under_writes_and_brings_the_pages_back(room):
    """A graceful stop with writes in flight. Requests caught mid-way wait on an event
    loop that has stopped; the process exits anyway (wire.exit_soon_after_shutdown):
    those writes were not answered, and the phones send them again."""
    server = room.worker()
    pages = live_pages(room, server.url, ["Gaël", "Hugo", "Inès"])
    writers = Writers(room, server.url, [f"Pressé {i}" for i in range(6)], per_writer=None)
    try:
        writers.start()
        time.sleep(1.0)
        stopping = time.monotonic()
        server.process.terminate()  # SIGTERM
        try:
            server.process.wait(timeout=12)
        except subprocess.TimeoutExpired:
            server.process.kill()
            pytest.fail("Daphne was still running 12 s after SIGTERM")
        # Every page heard the close, rather than waiting on a dead socket.
        assert all(p.closes and p.closes[-1][0] >= stopping for p in pages)
        server.start()
        time.sleep(1.0)
        writers.stop()
        writers.join()
        assert {status for status, _text in writers.answers.values()} == {200}
        assert room.events_by_op(writers.answers) == dict.fromkeys(writers.answers, 1)
        assert wait_until(lambda: converged(room, pages), 30)
        assert all(len(page.opened) >= 2 for page in pages)
    finally:
        writers.stop()
        for page in pages:
            page.stop()


def test_it_reconnects_and_catches_up_when_the_server_ends_the_socket(room):
    """Daphne closes every socket after --websocket_timeout (make run passes -1: never);
    whoever sets one anyway, or a proxy's timeout, costs the page nothing."""
    server = room.worker(args=["--websocket_timeout", "1"])
    pages = live_pages(room, server.url, ["Karim"])
    writer = room.phone(server.url, "Léa")
    try:
        for i in range(3):  # written across the server's closes
            writer.post_until_answered(
                room.postits_url(server.url),
                {
                    "text": f"Pendant les coupures {i}",
                    "column": "a",
                    "op_id": secrets.token_hex(16),
                },
            )
            time.sleep(0.8)
        # Closed by the server at least twice, back each time, and up to date.
        assert wait_until(lambda: len(pages[0].opened) >= 3 and converged(room, pages), 20)
        assert len(pages[0].closes) >= 2
    finally:
        for page in pages:
            page.stop()
