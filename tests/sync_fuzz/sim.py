"""The simulated server side: the real consumer and hub, minus ASGI, Daphne and asyncio.

`SimConsumer` is `LiveConsumer` with its state set by the same `start()` as
connect(), writing to a `FakeWire`; `Later` and `Driven` run its coroutines by
hand, one step at a time, so that pushes land in the middle of a catch-up;
`SimLoop` and `SimLock` are what the consumer and the hub ask of asyncio and
time, on the world's clock; `SimHub` is the real hub's delivery with publish()
caught by the simulated network; a `Conn` is one websocket.
"""

import struct
from collections import Counter, deque

from workshops.live.consumer import LiveConsumer
from workshops.live.hub import Hub

STATS = Counter()  # what the runs exercised, printed at the end


def decode_wire(data):
    """The texts of server-to-client websocket frames written back to back
    (wire.wire_frame's inverse; a coalesced flush writes several at once)."""
    while data:
        length, start = data[1] & 0x7F, 2
        if length == 126:
            (length,), start = struct.unpack("!H", data[2:4]), 4
        elif length == 127:
            (length,), start = struct.unpack("!Q", data[2:10]), 10
        yield data[start : start + length].decode()
        data = data[start + length :]


class FakeWire:
    """Stands in for DaphneWire: frames go to the connection; `backlog` plays the kernel."""

    def __init__(self, conn):
        self.conn = conn

    def usable(self):
        return True

    def write(self, frames):
        for text in decode_wire(frames):
            self.conn.deliver(text)

    def buffered(self):
        return self.conn.backlog


class SimConsumer(LiveConsumer):
    """LiveConsumer as Daphne runs it, its state set by the same `start()` as connect()."""

    def __init__(self, conn, workshop_id, audience, participant_id, queue_limit):
        self.conn = conn
        self.workshop_id = workshop_id
        self.start(audience, participant_id, "fr", queue_limit, wire=FakeWire(conn))

    async def send(self, text_data=None, bytes_data=None, close=False):
        self.conn.deliver(text_data)


class Later:
    """database_sync_to_async's stand-in.

    As with the real thing, three moments can be apart: the coroutine awaits;
    the work runs (in Channels, in a thread: the log is read now); the
    coroutine resumes on the loop, after whatever the loop ran meanwhile.
    """

    __slots__ = ("fn", "args", "done", "result")

    def __init__(self, fn, args):
        self.fn, self.args = fn, args
        self.done = False
        self.result = None

    def run(self):
        self.result = self.fn(*self.args)
        self.done = True

    def __await__(self):
        return (yield self)


class Driven:
    """A coroutine run by hand, one step at a time."""

    def __init__(self, coro):
        self.coro = coro
        self.awaiting = None
        self.finished = False

    def step(self):
        awaiting = self.awaiting
        if isinstance(awaiting, Later) and not awaiting.done:
            awaiting.run()
            return
        try:
            self.awaiting = self.coro.send(awaiting.result if isinstance(awaiting, Later) else None)
        except StopIteration:
            self.finished = True


def later(fn):
    return lambda *args: Later(fn, args)


class Pause:
    def __await__(self):
        yield self


class SimLock:
    """asyncio.Lock for coroutines driven by hand: waiting is being resumed later."""

    def __init__(self):
        self.held = False

    async def __aenter__(self):
        while self.held:
            await Pause()
        self.held = True

    async def __aexit__(self, *exc):
        self.held = False


class SimLoop:
    """What consumers.py asks of asyncio and time, on the world's clock."""

    Lock = SimLock

    def __init__(self, world):
        self.world = world

    def get_running_loop(self):
        return self

    def call_later(self, delay, callback):
        self.world.timers.append((self.world.clock + delay, callback))

    # What the hub asks of its loop to coalesce flushes.
    def time(self):
        return self.world.clock

    def call_at(self, when, callback, *args):
        self.world.timers.append((when, lambda: callback(*args)))

    def ensure_future(self, coro):
        self.world.tasks.append(Driven(coro))

    create_task = ensure_future

    def monotonic(self):
        return self.world.clock


class SimHub(Hub):
    """The real hub's delivery, with publish() caught by the simulated network."""

    def __init__(self, world):
        super().__init__()
        self.world = world

    def publish(self, workshop_id, message):
        self.world.inbox.append((workshop_id, message))

    def _deliver_batch(self, workshop_id, batch):
        if len(batch) > 1:
            STATS["coalesced flush"] += 1
        super()._deliver_batch(workshop_id, batch)


class Conn:
    """One websocket: what the server wrote and the page has not read yet, and back."""

    def __init__(self, world, page):
        self.world = world
        self.page = page
        self.to_page = deque()
        self.to_server = deque()
        self.server_alive = True  # the server still has it in its room
        self.page_open = True  # the page thinks it is open
        self.closing = False  # a clean close: what was sent arrives, then the close
        self.coro = None  # a receive() under way (hello: a catch-up)
        self.backlog = 0
        self.high = None  # highest seq this socket has brought its page to, once caught up
        self.consumer = SimConsumer(
            self, world.workshop_id, page.audience, page.participant_id, world.queue_limit
        )

    def deliver(self, text):
        if self.server_alive:
            self.to_page.append(text)

    def step(self):
        """One step of the receive() under way (a hello: a catch-up)."""
        self.coro.step()
        if self.coro.finished:
            self.coro = None

    def receive_next(self):
        text = self.to_server.popleft()
        if self.server_alive:
            self.coro = Driven(self.consumer.receive(text_data=text))
            self.step()


class StatusOnly:
    """What a view's Http404 / PermissionDenied becomes on the wire."""

    def __init__(self, status):
        self.status_code = status
        self.content = b""

    def get(self, _header, default=None):
        return default
