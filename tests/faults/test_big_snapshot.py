"""A board whose snapshot is larger than Daphne's websocket message limit still reaches the page.

Daphne refuses to send, through ASGI, a message larger than
`--websocket-max-message-size` (1 MiB by default; the same option limits what
clients may send). A snapshot sent that way crashed the consumer: the socket
closed with 1011, the page reconnected, asked again, and never caught up
(found by `make soak`, once the soak's board passed ~800 post-its). Catch-up
frames now go out like live ones, as finished frames on the connection.
"""

import json

import pytest

from .servers import make_room

pytestmark = pytest.mark.faults

POSTITS = 1000
FILLER = "Un long post-it, écrit pour remplir le mur. " * 10


@pytest.fixture
def big_room(tmp_path):
    room = make_room(tmp_path, postits=POSTITS, filler=FILLER)
    yield room
    room.stop_workers()


def test_it_sends_a_snapshot_larger_than_daphnes_message_limit(big_room):
    room = big_room
    server = room.worker()
    phone = room.phone(server.url, "Patiente")
    from websockets.sync.client import connect

    with connect(
        f"ws://127.0.0.1:{server.port}/ws/w/{room.workshop}/",
        additional_headers={"Origin": server.url, "Cookie": phone.cookie_header()},
        max_size=None,  # a browser takes messages of any size
    ) as ws:
        # Behind by everything: a snapshot of the whole board.
        ws.send(json.dumps({"type": "hello", "last_seq": 0}))
        while True:
            message = json.loads(ws.recv(timeout=30))
            if message.get("type") == "snapshot":
                break
        assert len(message["html"].encode()) > 1024 * 1024  # above Daphne's limit
        assert message["seq"] == room.seq()
        assert message["html"].count('class="postit') >= POSTITS
        # The socket is still open and in use.
        ws.send(json.dumps({"type": "ping"}))
        assert json.loads(ws.recv(timeout=10))["type"] == "pong"
