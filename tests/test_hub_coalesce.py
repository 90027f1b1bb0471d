"""The hub's flushes: a quiet room gets each event at once, a busy one in batches.

Under load, events that reach the hub within `COALESCE_SECONDS` of the
room's last delivery wait for one flush and go to each socket together (one
write per socket, see LiveConsumer.push_many), in seq order, notices in place.
"""

import asyncio

import pytest

from workshops.live import hub as hub_module
from workshops.live.hub import Encoded, Hub

WORKSHOP = 7


class Socket:
    """What a consumer is handed by the hub, in order."""

    def __init__(self):
        self.calls = []

    def push(self, encoded):
        self.calls.append(("push", [encoded.seq]))

    def push_many(self, encodeds):
        self.calls.append(("push_many", [e.seq for e in encodeds]))

    def notice(self, message):
        self.calls.append(("notice", message["notice"]))

    def seqs(self):
        return [s for kind, seqs in self.calls if kind != "notice" for s in seqs]


def event(seq):
    message = {"seq": seq, "frames": {"participant": f"<p>{seq}</p>"}, "owners": {}}
    return message, Encoded(message)


@pytest.fixture
async def room():
    hub = Hub()
    hub.loop = asyncio.get_running_loop()
    sockets = [Socket(), Socket()]
    hub.rooms[WORKSHOP].update(sockets)
    return hub, sockets


async def test_a_quiet_room_gets_its_event_at_once(room):
    hub, sockets = room
    hub._arrive(WORKSHOP, *event(1))
    # No waiting: delivered before the loop even turns.
    assert all(s.calls == [("push", [1])] for s in sockets)
    assert hub.delivered[WORKSHOP] == 1


async def test_a_busy_room_gets_the_events_of_a_moment_in_one_batch_in_order(room):
    hub, sockets = room
    for seq in (1, 2, 3, 4):
        hub._arrive(WORKSHOP, *event(seq))
    assert all(s.calls == [("push", [1])] for s in sockets)  # the rest waits for the flush
    await asyncio.sleep(hub_module.COALESCE_SECONDS * 2)
    for socket in sockets:
        assert socket.calls == [("push", [1]), ("push_many", [2, 3, 4])]
    assert hub.delivered[WORKSHOP] == 4
    assert hub.pending == {}


async def test_a_notice_keeps_its_place_between_batched_events(room):
    hub, sockets = room
    hub._arrive(WORKSHOP, *event(1))
    hub._arrive(WORKSHOP, *event(2))
    hub._arrive(WORKSHOP, {"notice": "removed", "participant": 5})
    hub._arrive(WORKSHOP, *event(3))
    await asyncio.sleep(hub_module.COALESCE_SECONDS * 2)
    for socket in sockets:
        assert socket.calls == [
            ("push", [1]),
            ("push", [2]),
            ("notice", "removed"),
            ("push", [3]),
        ]


async def test_after_a_quiet_moment_the_next_event_goes_at_once_again(room):
    hub, sockets = room
    hub._arrive(WORKSHOP, *event(1))
    hub._arrive(WORKSHOP, *event(2))
    await asyncio.sleep(hub_module.COALESCE_SECONDS * 3)
    hub._arrive(WORKSHOP, *event(3))
    assert sockets[0].seqs() == [1, 2, 3]


async def test_relayed_events_are_encoded_when_they_are_flushed(room):
    hub, sockets = room
    hub._arrive(WORKSHOP, *event(1))
    message, _ = event(2)
    hub._arrive(WORKSHOP, message)  # from another process: not encoded yet
    hub._arrive(WORKSHOP, *event(3))
    await asyncio.sleep(hub_module.COALESCE_SECONDS * 2)
    assert sockets[1].calls[-1] == ("push_many", [2, 3])
