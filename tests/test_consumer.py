"""The live page's websocket: who may connect, catching up, pushes, bad frames.

Writes go through the real actions in a worker thread, as a view would make
them; their broadcast reaches the sockets through the hub after the commit.

Also run against PostgreSQL and Redis (`make test-scaleout`).
"""

import json

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connections
from django.test import Client

from config.asgi import application
from journeys import actions as journeys
from workshops import actions
from workshops.live.consumer import CLOSE_FORBIDDEN, CLOSE_REMOVED, MAX_FRAME
from workshops.live.hub import hub
from workshops.models import Connection, Event, Workshop

from .base import log_in_participant

pytestmark = pytest.mark.django_db(transaction=True)

SAME_ORIGIN = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
WAIT = 3  # seconds: pushes cross a thread and the event loop


@pytest.fixture(autouse=True)
def _empty_hub():
    # The hub is process-wide; each test starts with no sockets in it.
    hub.rooms.clear()
    hub.delivered.clear()
    yield
    hub.rooms.clear()
    hub.delivered.clear()


def _session_cookie(client):
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


@pytest.fixture
def cookies(room):
    """A session cookie for each persona, made by logging in with the test client."""

    def participant(person):
        return _session_cookie(log_in_participant(Client(), person))

    def facilitator(user):
        client = Client()
        client.force_login(user)
        return _session_cookie(client)

    logged_out = Client()
    logged_out.force_login(room.facilitator)
    stale = _session_cookie(logged_out)
    logged_out.logout()
    return {
        "camille": facilitator(room.facilitator),
        "camille logged out": stale,
        "oscar": facilitator(room.other_facilitator),
        "alice": participant(room.alice),
        "bruno": participant(room.bruno),
        "olga": participant(room.olga),
    }


@pytest.fixture
async def open_socket():
    """Opens sockets to the real ASGI application; closes them all afterwards."""
    opened = []

    async def _open(workshop, cookie=None, role=None, headers=SAME_ORIGIN):
        path = f"/ws/w/{workshop.pk}/" + (f"?role={role}" if role else "")
        headers = list(headers) + ([(b"cookie", cookie.encode())] if cookie else [])
        socket = WebsocketCommunicator(application, path, headers=headers)
        opened.append(socket)
        connected, code = await socket.connect(timeout=WAIT)
        return socket, connected, code

    yield _open
    for socket in opened:
        await socket.disconnect(timeout=WAIT)
    # The consumers' database thread keeps its connection; let the test database go.
    await sync_to_async(connections.close_all)()


async def was_refused(socket, connected, code):
    """Refused at the handshake (foreign Origin) or right after it, with 4403."""
    if not connected:
        return code == CLOSE_FORBIDDEN
    message = await socket.receive_output(timeout=WAIT)
    return message == {"type": "websocket.close", "code": CLOSE_FORBIDDEN}


async def hello(socket, last_seq):
    await socket.send_json_to({"type": "hello", "last_seq": last_seq})


async def receive(socket):
    return await socket.receive_json_from(timeout=WAIT)


async def ping(socket):
    await socket.send_json_to({"type": "ping"})
    assert (await receive(socket))["type"] == "pong"


async def synced_socket(open_socket, workshop, cookie, role=None):
    """A socket that has said hello and is caught up."""
    socket, connected, _code = await open_socket(workshop, cookie, role)
    assert connected
    await hello(socket, await current_seq(workshop))
    assert (await receive(socket))["type"] == "synced"
    return socket


@database_sync_to_async
def current_seq(workshop):
    return Workshop.objects.values_list("seq", flat=True).get(pk=workshop.pk)


@database_sync_to_async
def post(room, participant, text, stage=None):
    stage = stage or room.stage
    return journeys.add_postit(
        stage,
        participant=participant,
        text=text,
        column=stage.config["columns"][0]["key"],
        colour=(stage.config.get("colours") or [None])[0],
    )


write = database_sync_to_async


# Who may connect -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        [(b"origin", b"http://evil.example"), (b"host", b"testserver")],
        [(b"origin", b"https://testserver.evil.example"), (b"host", b"testserver")],
        [(b"origin", b"null"), (b"host", b"testserver")],
        [(b"host", b"testserver")],
        [(b"origin", b"http://testserver")],
    ],
    ids=["foreign", "look-alike", "null", "missing origin", "missing host"],
)
async def test_it_refuses_a_socket_from_another_origin(room, cookies, open_socket, headers):
    _socket, connected, code = await open_socket(room.workshop, cookies["alice"], headers=headers)
    assert not connected
    assert code == CLOSE_FORBIDDEN


@pytest.mark.parametrize(
    ("who", "role"),
    [
        (None, None),
        (None, "facilitator"),
        ("olga", None),
        ("oscar", "facilitator"),
        ("oscar", "projector"),
        ("camille logged out", "facilitator"),
        ("camille logged out", "projector"),
        ("alice", "facilitator"),
        ("alice", "projector"),
    ],
    ids=[
        "stranger",
        "stranger as facilitator",
        "participant of another workshop",
        "facilitator of another workshop",
        "facilitator of another workshop as projector",
        "logged-out facilitator",
        "logged-out facilitator as projector",
        "participant as facilitator",
        "participant as projector",
    ],
)
async def test_it_refuses_whoever_is_not_in_the_room(room, cookies, open_socket, who, role):
    cookie = cookies[who] if who else None
    socket, connected, code = await open_socket(room.workshop, cookie, role)
    assert await was_refused(socket, connected, code)


@pytest.mark.parametrize(
    ("who", "role"),
    [("alice", None), ("bruno", None), ("camille", "facilitator"), ("camille", "projector")],
)
async def test_it_lets_the_room_in(room, cookies, open_socket, who, role):
    socket, connected, _code = await open_socket(room.workshop, cookies[who], role)
    assert connected
    await ping(socket)  # the connect handler has finished
    assert (
        await database_sync_to_async(
            Connection.objects.filter(workshop=room.workshop, role=role or "participant").count
        )()
        == 1
    )


async def test_it_lets_the_outsider_into_her_own_workshop_only(room, cookies, open_socket):
    _socket, connected, _code = await open_socket(room.other_workshop, cookies["olga"])
    assert connected
    socket, connected, code = await open_socket(room.workshop, cookies["olga"])
    assert await was_refused(socket, connected, code)


async def test_it_refuses_a_socket_for_a_workshop_that_does_not_exist(room, cookies, open_socket):
    gone = Workshop(pk=room.workshop.pk + room.other_workshop.pk + 1000)
    socket, connected, code = await open_socket(gone, cookies["camille"], "facilitator")
    assert await was_refused(socket, connected, code)


async def test_it_refuses_a_removed_participant(room, cookies, open_socket):
    await write(actions.remove_participant)(room.workshop, room.bruno)
    socket, connected, code = await open_socket(room.workshop, cookies["bruno"])
    assert await was_refused(socket, connected, code)


async def test_it_forgets_the_socket_when_it_closes(room, cookies, open_socket):
    socket, connected, _code = await open_socket(room.workshop, cookies["alice"])
    assert connected
    await ping(socket)
    count = database_sync_to_async(Connection.objects.filter(participant=room.alice).count)
    assert await count() == 1
    await socket.disconnect(timeout=WAIT)
    assert await count() == 0


# Catching up -----------------------------------------------------------------------------


async def test_it_says_synced_to_a_page_that_is_up_to_date(room, cookies, open_socket):
    await post(room, room.alice, "Un")
    socket, connected, _code = await open_socket(room.workshop, cookies["bruno"])
    assert connected
    await hello(socket, 1)
    reply = await receive(socket)
    assert reply["type"] == "synced"
    assert reply["seq"] == 1
    assert await socket.receive_nothing(timeout=0.2)


async def test_it_replays_what_a_page_missed_in_order_then_says_synced(room, cookies, open_socket):
    for text in ("Premier", "Deuxième", "Troisième", "Quatrième"):
        await post(room, room.alice, text)
    socket, connected, _code = await open_socket(room.workshop, cookies["bruno"])
    assert connected
    await hello(socket, 1)
    replayed = [await receive(socket) for _ in range(3)]
    assert [frame["seq"] for frame in replayed] == [2, 3, 4]
    for frame, text in zip(replayed, ("Deuxième", "Troisième", "Quatrième"), strict=True):
        assert text in frame["html"]
        assert "Premier" not in frame["html"]
    synced = await receive(socket)
    assert synced == {"type": "synced", "seq": 4, "now": synced["now"]}
    assert await socket.receive_nothing(timeout=0.2)


async def test_it_replays_each_audience_its_own_frames(room, cookies, open_socket):
    await write(actions.control_timer)(room.workshop, "start", minutes=5)
    console, connected, _code = await open_socket(room.workshop, cookies["camille"], "facilitator")
    assert connected
    projector, connected, _code = await open_socket(room.workshop, cookies["camille"], "projector")
    assert connected
    await write(actions.control_timer)(room.workshop, "pause")
    for socket in (console, projector):
        await hello(socket, 1)
    console_frame, projector_frame = await receive(console), await receive(projector)
    assert console_frame["seq"] == projector_frame["seq"] == 2
    assert 'id="controls"' in console_frame["html"]
    assert 'id="timer"' in projector_frame["html"]
    assert 'id="controls"' not in projector_frame["html"]


@pytest.mark.parametrize("last_seq", [0, 1, 99, "3"], ids=["fresh", "gap", "ahead", "not a number"])
async def test_it_sends_a_snapshot_when_the_gap_is_too_large_or_unknown(
    room, cookies, open_socket, settings, last_seq
):
    settings.RECIPROQUE["REPLAY_LIMIT"] = 1
    for text in ("Un", "Deux", "Trois"):
        await post(room, room.alice, text)
    socket, connected, _code = await open_socket(room.workshop, cookies["alice"])
    assert connected
    await hello(socket, last_seq)
    snapshot = await receive(socket)
    assert snapshot["type"] == "snapshot"
    assert snapshot["seq"] == 3
    for text in ("Un", "Deux", "Trois"):
        assert text in snapshot["html"]
    assert 'id="live"' in snapshot["html"]
    assert len(snapshot["own"]) == 3
    assert await socket.receive_nothing(timeout=0.2)


async def test_it_replays_up_to_the_limit_and_no_further(room, cookies, open_socket, settings):
    settings.RECIPROQUE["REPLAY_LIMIT"] = 2
    for text in ("Un", "Deux", "Trois"):
        await post(room, room.alice, text)
    socket, connected, _code = await open_socket(room.workshop, cookies["bruno"])
    assert connected
    await hello(socket, 1)
    assert [(await receive(socket)).get("seq") for _ in range(2)] == [2, 3]
    assert (await receive(socket))["type"] == "synced"


async def test_it_sends_a_snapshot_of_a_private_stage_without_the_others_text(
    room, cookies, open_socket
):
    stage = await write(_go_to_private_stage)(room)
    await post(room, room.alice, "Secret d'Alice", stage=stage)
    bruno, connected, _code = await open_socket(room.workshop, cookies["bruno"])
    assert connected
    alice, connected, _code = await open_socket(room.workshop, cookies["alice"])
    assert connected
    await hello(bruno, 0)
    await hello(alice, 0)
    to_bruno, to_alice = await receive(bruno), await receive(alice)
    assert to_bruno["type"] == to_alice["type"] == "snapshot"
    assert "Secret d'Alice" not in to_bruno["html"]
    assert "Secret d&#x27;Alice" not in to_bruno["html"]
    assert "Secret d&#x27;Alice" in to_alice["html"]
    assert to_bruno["own"] == []
    assert len(to_alice["own"]) == 1


def _go_to_private_stage(room):
    # A wall of its own: the method's closing stage, once the private wall, is a tree now.
    stage = actions.add_stage(room.workshop, kind="wall", title="En secret", private_writing=True)
    actions.go_to_stage(room.workshop, stage)
    return stage


async def test_it_holds_live_frames_until_the_page_says_hello(room, cookies, open_socket):
    await post(room, room.alice, "Avant")
    socket, connected, _code = await open_socket(room.workshop, cookies["bruno"])
    assert connected
    await post(room, room.alice, "Pendant")
    # No hello yet: the page has not said where it is, so nothing is pushed.
    assert await socket.receive_nothing(timeout=0.3)
    await hello(socket, 1)
    first, second = await receive(socket), await receive(socket)
    assert first["seq"] == 2 and "Pendant" in first["html"]
    assert second["type"] == "synced" and second["seq"] == 2
    # The frame that waited during the catch-up is not sent a second time.
    assert await socket.receive_nothing(timeout=0.3)


# Live pushes ---------------------------------------------------------------------------------


async def test_it_pushes_a_write_made_after_connect_with_its_seq(room, cookies, open_socket):
    bruno = await synced_socket(open_socket, room.workshop, cookies["bruno"])
    projector = await synced_socket(open_socket, room.workshop, cookies["camille"], "projector")
    await post(room, room.alice, "En direct")
    for socket in (bruno, projector):
        frame = await receive(socket)
        assert frame["seq"] == 1
        assert "En direct" in frame["html"]
        assert isinstance(frame["now"], int)
    await post(room, room.alice, "Encore")
    assert (await receive(bruno))["seq"] == 2


async def test_it_pushes_each_write_once_in_seq_order(room, cookies, open_socket):
    bruno = await synced_socket(open_socket, room.workshop, cookies["bruno"])
    for text in ("Un", "Deux", "Trois"):
        await post(room, room.alice, text)
    await write(actions.set_writing_locked)(room.workshop, True)
    assert [(await receive(bruno))["seq"] for _ in range(4)] == [1, 2, 3, 4]
    assert await bruno.receive_nothing(timeout=0.3)


async def test_it_tells_the_author_which_post_its_are_theirs(room, cookies, open_socket):
    alice = await synced_socket(open_socket, room.workshop, cookies["alice"])
    bruno = await synced_socket(open_socket, room.workshop, cookies["bruno"])
    postit = await post(room, room.alice, "À moi")
    to_alice, to_bruno = await receive(alice), await receive(bruno)
    assert to_alice["own"] == [postit.pk]
    assert "own" not in to_bruno
    assert "À moi" in to_bruno["html"]


async def test_it_pushes_a_private_post_it_to_its_author_only(room, cookies, open_socket):
    stage = await write(_go_to_private_stage)(room)
    alice = await synced_socket(open_socket, room.workshop, cookies["alice"])
    bruno = await synced_socket(open_socket, room.workshop, cookies["bruno"])
    console = await synced_socket(open_socket, room.workshop, cookies["camille"], "facilitator")
    await post(room, room.alice, "Mon engagement secret", stage=stage)
    to_alice, to_bruno, to_console = (
        await receive(alice),
        await receive(bruno),
        await receive(console),
    )
    assert "Mon engagement secret" in to_alice["html"]
    assert "Mon engagement secret" not in to_bruno["html"]
    assert "Mon engagement secret" not in to_console["html"]
    assert to_alice["seq"] == to_bruno["seq"] == to_console["seq"]


async def test_it_pushes_nothing_to_another_workshop(room, cookies, open_socket):
    olga = await synced_socket(open_socket, room.other_workshop, cookies["olga"])
    await post(room, room.alice, "Chez nous")
    assert await olga.receive_nothing(timeout=0.3)


# Removing a participant -----------------------------------------------------------------------


async def test_it_tells_a_removed_participant_and_closes_their_socket(room, cookies, open_socket):
    bruno = await synced_socket(open_socket, room.workshop, cookies["bruno"])
    alice = await synced_socket(open_socket, room.workshop, cookies["alice"])
    await write(actions.remove_participant)(room.workshop, room.bruno)
    removed = await receive(bruno)
    assert removed == {"type": "removed"}
    closing = await bruno.receive_output(timeout=WAIT)
    assert closing == {"type": "websocket.close", "code": CLOSE_REMOVED}
    # Alice stays, and sees the event.
    assert (await receive(alice))["seq"] == 1
    await ping(alice)


# Bad frames ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json {", "json"),
        ("[1, 2, 3]", "json"),
        ('"hello"', "json"),
        (json.dumps({"type": "hello", "pad": "x" * MAX_FRAME}), "frame"),
        (json.dumps({"type": "shout"}), "type"),
        (json.dumps({"last_seq": 1}), "type"),
    ],
    ids=["not json", "a list", "a string", "oversize", "unknown type", "no type"],
)
async def test_it_answers_a_malformed_frame_with_an_error_and_stays_open(
    room, cookies, open_socket, frame, code
):
    socket = await synced_socket(open_socket, room.workshop, cookies["alice"])
    await socket.send_to(text_data=frame)
    assert await receive(socket) == {"type": "error", "code": code}
    await ping(socket)
    await post(room, room.bruno, "Toujours là")
    assert "Toujours là" in (await receive(socket))["html"]


async def test_it_refuses_binary_frames(room, cookies, open_socket):
    socket = await synced_socket(open_socket, room.workshop, cookies["alice"])
    await socket.send_to(bytes_data=b"\x00\x01")
    assert await receive(socket) == {"type": "error", "code": "frame"}


async def test_it_answers_ping_with_pong_and_the_servers_time(room, cookies, open_socket):
    socket, connected, _code = await open_socket(room.workshop, cookies["bruno"])
    assert connected
    await socket.send_json_to({"type": "ping"})
    pong = await receive(socket)
    assert pong["type"] == "pong"
    assert isinstance(pong["now"], int) and pong["now"] > 1_600_000_000_000


async def test_it_never_writes_to_the_log_from_the_socket(room, cookies, open_socket):
    socket = await synced_socket(open_socket, room.workshop, cookies["alice"])
    await socket.send_json_to({"type": "postit", "text": "Par la porte de derrière"})
    assert (await receive(socket))["type"] == "error"
    assert not await database_sync_to_async(Event.objects.exists)()
