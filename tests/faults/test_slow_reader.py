"""Phones that stop reading cost the server a bounded amount of memory, and catch up later.

Daphne has no back-pressure: for a socket that stops reading, the server
would keep every frame. LiveConsumer stops writing to a socket past
SOCKET_QUEUE_LIMIT KiB of unsent data and, once it has drained, tells it to
resync (workshops/live/consumer.py). Measured on a real Daphne, by its RSS
(/proc), while whole-board redraws (~260 KB each) go to three kinds of
sockets that never read:

- stalled: said hello, then stopped reading (a frozen phone);
- silent: never says hello (its frames wait for the hello);
- chatty: says hello again and again, never reading the answers (each one
  a snapshot rendered for it alone).

The stalled, silent and chatty phones have written post-its, so their frames
carry their own ids: copies of their own, not bytes shared with the room.
"""

import json
import secrets
import time

import pytest

from tests.faults.model import LivePage, wait_until
from tests.scaleout.cluster import Browser

from .rawsocket import RawSocket
from .servers import FACILITATOR, make_room

pytestmark = pytest.mark.faults

PER_KIND = 6
REDRAWS = 18
POSTITS = 200  # each redraw of the board is then ~260 KB per socket
CAP_KB = 1000  # SOCKET_QUEUE_LIMIT


def mb(kb):
    return round(kb / 1024, 1)


@pytest.fixture
def big_room(tmp_path):
    room = make_room(tmp_path, postits=POSTITS, filler="Un long post-it. " * 25)
    yield room
    room.stop_workers()


def test_it_bounds_what_sockets_that_stop_reading_cost_and_lets_them_catch_up(big_room):
    room = big_room
    # A small, fixed send buffer per connection (see Worker): without it, the
    # kernel would hold ~8 MB per loopback socket before Daphne kept anything.
    server = room.worker(send_buffer=64 * 1024)
    facilitator = Browser()
    facilitator.log_in(server.url, *FACILITATOR)
    rename_url = f"{server.url}/workshops/{room.workshop}/themes/{room.theme}/rename/"

    def redraw(i):
        # Renaming a theme redraws the whole board on every screen.
        status, _body, _url = facilitator.post(
            rename_url, {"name": f"Thème {i}", "op_id": secrets.token_hex(16)}
        )
        assert status == 200

    def author_socket(name):
        phone = room.phone(server.url, name)
        phone.post_until_answered(
            room.postits_url(server.url),
            {"text": f"De {name}", "column": "b", "op_id": secrets.token_hex(16)},
        )
        return RawSocket(server.url, f"/ws/w/{room.workshop}/", phone.cookie_header())

    stalled, silent, chatty = [], [], []
    for i in range(PER_KIND):
        sock = author_socket(f"Figée {i}")
        sock.send({"type": "hello", "last_seq": room.seq()})
        assert sock.receive()["type"] == "synced"
        stalled.append(sock)
        silent.append(author_socket(f"Muette {i}"))
        chatty.append(author_socket(f"Bavarde {i}"))
    healthy = LivePage(server.url, room.workshop, room.phone(server.url, "Vive"), "healthy")
    healthy.start()
    try:
        redraw(0)  # warm up: templates, buffers, the allocator
        time.sleep(0.3)
        rss = [server.rss_kb()]
        for i in range(REDRAWS):  # none of these sockets reads any of it
            redraw(100 + i)
            for sock in chatty:
                sock.send({"type": "hello", "last_seq": 0})
            rss.append(server.rss_kb())
        frame_kb = len(json.dumps({"html": "x" * 260_000})) // 1024
        half = REDRAWS // 2
        sockets = 3 * PER_KIND
        late_offered_kb = sockets * (REDRAWS - half) * frame_kb
        growth, late_growth = max(rss) - rss[0], max(rss[half:]) - rss[half]
        print(
            f"\nRSS {mb(rss[0])} MB -> {mb(rss[half])} MB halfway -> peak {mb(max(rss))} MB, "
            f"while {mb(sockets * REDRAWS * frame_kb)} MB went to {sockets} sockets that "
            f"never read"
        )
        # Kept, the frames would grow the server all along; shed, each socket
        # costs at most its cap and a frame or two: a plateau.
        assert late_growth < late_offered_kb / 5, f"still growing: +{mb(late_growth)} MB"
        assert growth < sockets * (CAP_KB + 2 * frame_kb) + 10 * 1024, f"+{mb(growth)} MB"

        # The others never noticed.
        assert wait_until(lambda: healthy.state()[0] == room.seq(), 20)

        # A stalled phone reads again: it gets what was already on its way,
        # then "resync", says hello, and catches up with the log.
        sock = stalled[0]
        last = None
        told_to_resync = False
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                message = sock.receive(timeout=1)
            except TimeoutError:
                redraw(1000)  # a push finds it drained, and tells it to resync
                continue
            if message.get("type") == "resync":
                told_to_resync = True
                sock.send({"type": "hello", "last_seq": last})
            elif message.get("type") in ("synced", "snapshot"):
                if told_to_resync and message["seq"] == room.seq():
                    break
            elif "seq" in message:
                last = message["seq"] if last is None else max(last, message["seq"])
        else:
            pytest.fail(f"the stalled socket never caught up (resync: {told_to_resync})")
    finally:
        healthy.stop()
        for sock in stalled + silent + chatty:
            sock.close()


def test_it_drops_a_socket_that_stopped_reading_altogether_and_lets_it_come_back(room):
    """A phone whose page froze neither reads nor answers pings: Daphne's keepalive
    (--ping-interval, --ping-timeout; 20 s and 30 s by default, 1 s and 2 s here) drops
    it, its presence goes, and the phone, once back, catches up on a new socket. Pages
    that do read are not touched by those pings."""
    server = room.worker(args=["--ping-interval", "1", "--ping-timeout", "2"])
    phone = room.phone(server.url, "Gelée")
    (participant,) = room.query(
        "SELECT id FROM workshops_participant WHERE workshop_id = ? AND display_name = ?",
        room.workshop,
        "Gelée",
    )[0]
    healthy = LivePage(server.url, room.workshop, room.phone(server.url, "Éveillée"), "healthy")
    healthy.start()
    assert wait_until(lambda: healthy.opened, 10)

    def sockets_of_frozen_phone():
        return room.query(
            "SELECT COUNT(*) FROM workshops_connection WHERE participant_id = ?", participant
        )[0][0]

    frozen = RawSocket(server.url, f"/ws/w/{room.workshop}/", phone.cookie_header())
    back = None
    try:
        frozen.send({"type": "hello", "last_seq": room.seq()})
        assert frozen.receive()["type"] == "synced"
        assert wait_until(lambda: sockets_of_frozen_phone() == 1, 5)
        # From now on it reads nothing, pings included.
        assert wait_until(lambda: sockets_of_frozen_phone() == 0, 20), "never dropped"
        # Meanwhile the room went on.
        seen = room.seq()
        phone.post_until_answered(
            room.postits_url(server.url),
            {"text": "Pendant le gel", "column": "a", "op_id": secrets.token_hex(16)},
        )
        assert room.seq() > seen
        # The phone wakes up, reconnects and catches up from where it was.
        back = RawSocket(server.url, f"/ws/w/{room.workshop}/", phone.cookie_header())
        back.send({"type": "hello", "last_seq": seen})
        frames = []
        while True:
            message = back.receive()
            if message.get("type") in ("synced", "snapshot"):
                break
            frames.append(message)
        assert message["seq"] == room.seq()
        assert any("Pendant le gel" in f.get("html", "") for f in frames) or (
            "Pendant le gel" in message.get("html", "")
        )
        # The reading page kept its one socket all along, and is up to date.
        assert wait_until(lambda: healthy.state()[0] == room.seq(), 10)
        assert len(healthy.opened) == 1 and not healthy.closes
    finally:
        healthy.stop()
        frozen.close()
        if back is not None:
            back.close()
