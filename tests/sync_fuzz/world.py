"""The world of one fuzz run: pages (live.js, step by step), the requests between them
and the server, the network's faults, the run and what must hold at its end.

The stage kind's own operations and checks are not here: `World.ops` is the kind
module's `KIND` (see the package's docstring).
"""

import contextlib
import json
import random
from collections import defaultdict, deque

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404
from django.test import RequestFactory
from django.urls import resolve
from django_htmx.middleware import HtmxDetails

from tests.faults.model import Board, Node, attached, oob_elements, parse
from tests.regions import region_diff, regions
from tests.sync_fuzz.kinds import KINDS, kind_of
from tests.sync_fuzz.sim import STATS, Conn, SimHub, SimLoop, StatusOnly
from workshops import actions
from workshops.access import SESSION_KEY
from workshops.live.consumer import LiveConsumer
from workshops.models import Event, Profile, Workshop

# A page: static/js/live.js, step by step ---------------------------------------------------


class Page(Board):
    def __init__(self, world, name, audience, participant, user, initial):
        super().__init__()
        self.world = world
        self.name = name
        self.audience = audience
        self.participant = participant
        self.participant_id = participant.pk if participant else None
        self.user = user
        html, seq, own = initial
        self.last = seq
        self.early = {}
        self.own = set(own)
        self.socket = None
        self.gap_timer = False
        self.reconnect_due = False
        self.queue = []  # the offline queue: entries {op, data, target}
        self.flushing = False
        self.flush_timer = False
        self.slow_replies = world.rng.random() < 0.3
        self.loading = {}  # id(node) -> node: load-triggered elements already asked for
        self.apply(html)

    def log(self, *what):
        self.world.log(self.name, *what)

    # socket

    def send(self, message):
        if self.socket is not None and self.socket.page_open:
            self.socket.to_server.append(json.dumps(message))

    def hello(self):
        self.send({"type": "hello", "last_seq": self.last})

    def connect(self):
        self.reconnect_due = False
        conn = Conn(self.world, self)
        self.world.conns.append(conn)
        self.world.hub.rooms[self.world.workshop_id].add(conn.consumer)
        self.socket = conn
        self.log("open")
        # onopen
        self.hello()
        self.flush_queue()

    def on_close(self):
        self.socket = None
        self.reconnect_due = True
        self.log("closed")

    def reconnect_now(self):
        """The heartbeat heard nothing: drop the socket and open another at once."""
        old = self.socket
        self.socket = None
        if old is not None:
            old.page_open = False
            self.world.close_server_side(old)
        self.connect()

    def handle(self, message):
        kind = message.get("type")
        if kind == "pong":
            return
        if kind == "synced":
            if message["seq"] > self.last:
                self.hello()
                return
            self.drop_early()
            return
        if kind == "snapshot":
            self.own = set(message.get("own") or [])
            self.apply(message["html"])
            self.last = message["seq"]
            self.drop_early()
            self.drain()
            return
        if kind == "resync":
            self.hello()
            return
        if kind in ("removed", "error"):
            raise AssertionError(f"{self.name} got {message}")
        seq = message.get("seq")
        if not isinstance(seq, int) or seq <= self.last:
            return
        self.early[seq] = message
        self.drain()
        if self.early and not self.gap_timer:
            self.gap_timer = True

    def drain(self):
        while self.last + 1 in self.early:
            message = self.early.pop(self.last + 1)
            if message.get("whole"):  # a stage change: the new stage's own ids, all of them
                self.own = set()
            self.own.update(message.get("own") or [])
            if message["html"]:
                self.apply(message["html"])
            self.last = message["seq"]
        if not self.early:
            self.gap_timer = False

    def drop_early(self):
        for seq in [s for s in self.early if s <= self.last]:
            del self.early[seq]
        self.drain()

    def fire_gap_timer(self):
        self.gap_timer = False
        if self.early:
            STATS["gap hello"] += 1
            self.hello()

    # htmx (Board), plus live.js's afterChange: "not sent yet" cards come back

    def after_change(self):
        self.show_pendings()
        self.fire_loads()

    def fire_loads(self):
        """htmx's hx-trigger="load": an element that arrives asks the server for its
        content (a phone's own ballot or journey panel); live.js asks again when the
        request fails (`retryLoad`)."""
        for node in list(self.dom.elements()):
            loads = node.attrs.get("hx-trigger") == "load" and "hx-get" in node.attrs
            if loads and id(node) not in self.loading:
                self.loading[id(node)] = node
                self.load(node)

    def load(self, node):
        match = resolve(node.attrs["hx-get"].split("?")[0])
        kwargs = {k: v for k, v in match.kwargs.items() if k != "pk"}
        self.world.send_request(
            Request(self, "load", match.func, {}, target=node, method="get", **kwargs)
        )

    def load_outcome(self, request, response):
        node = request.target
        if not attached(node, self.dom):
            return  # a push replaced it; its successor asks for itself
        if response is None or response.status_code >= 500:
            self.load(node)  # live.js: a load that failed is asked again
            return
        if response.status_code >= 300:
            return
        if not self.fresh(response):
            STATS["stale reply skipped"] += 1
            return
        swap_load(self, node, response.content.decode())
        self.after_change()

    def show_pendings(self):
        for entry in self.queue:
            if self.by_id(f"pending-{entry['op']}") is not None:
                continue
            if any(n.attrs.get("data-op") == entry["op"] for n in self.postits()):
                continue  # its push came before its answer
            container = self.by_id(entry["target"])
            if container is None:
                continue
            card = Node("article", {"id": f"pending-{entry['op']}", "class": "postit is-pending"})
            text = Node("p", {"class": "postit-text"})
            text.append(entry["data"]["text"])
            card.append(text)
            self.insert(container, card)

    # the offline queue

    def queue_write(self, view, data, target, **kwargs):
        """live.js's offline queue: `data` goes out with a fresh op id, shown as a
        "not sent yet" card in the element `target` until its answer comes."""
        op = self.world.new_op()
        data = {**data, "op_id": op}
        self.queue.append({"op": op, "data": data, "target": target, "view": (view, kwargs)})
        self.world.queued_ops.add(op)
        self.show_pendings()
        self.flush_queue()
        return op

    def flush_queue(self):
        if self.flushing or not self.queue:
            return
        self.flushing = True
        self.flush_timer = False
        entry = self.queue[0]
        view, kwargs = entry["view"]
        self.world.send_request(Request(self, "queue", view, entry["data"], entry=entry, **kwargs))

    def queue_outcome(self, request, response):
        """postEntry()'s outcome, then flushQueue()'s."""
        self.flushing = False
        entry = request.entry
        if response is None or response.status_code == 429 or response.status_code >= 500:
            self.flush_timer = True  # retried after a backoff
            return
        html = response.content.decode()
        if 200 <= response.status_code < 300:
            own = response.get("X-Own")
            if own:
                self.own.update(int(i) for i in own.split(","))
            if html and self.fresh(response):
                self.apply(html)
            elif html:
                STATS["stale reply skipped"] += 1
            self.remove_pending(entry["op"])
            self.world.accepted.add(entry["op"])
        else:
            self.remove_pending(entry["op"])
            if html:
                self.apply(html)
            self.world.refused.append((self.name, entry["op"], response.status_code, html[:200]))
        self.queue.remove(entry)
        self.flush_queue()

    def fresh(self, response):
        """A reply's fragment is applied only if the page has not already gone past it."""
        seq = response.get("X-Seq")
        return not (seq and int(seq) <= self.last)

    def htmx_outcome(self, request, response):
        if response is None or response.status_code >= 500:
            return  # htmx shows "offline"; the person may try again
        if 200 <= response.status_code < 300 and request.data.get("op_id"):
            self.world.accepted.add(request.data["op_id"])
        if response.status_code < 300 and not self.fresh(response):
            return  # htmx:beforeSwap in live.js: shouldSwap = false
        html = response.content.decode()
        if request.target is not None:
            self.swap_into(request.target, html)
        elif html:
            self.apply(html)


def swap_load(board, node, html):
    """What htmx does with a load-triggered element's answer: its hx-target (or the
    element itself), by its hx-swap, after the answer's out-of-band parts."""
    selector = node.attrs.get("hx-target")
    target = board.by_id(selector[1:]) if selector else node
    if target is None:
        return
    swap = node.attrs.get("hx-swap", "innerHTML")
    fragment = parse(html)
    for element in list(oob_elements(fragment)):
        element.detach()
        board.oob_swap(element)
    if swap == "outerHTML":
        board.replace(target, list(fragment.children))
    else:
        assert swap == "innerHTML", swap
        for child in list(target.children):
            if isinstance(child, Node):
                board.remove(child)
        target.children = []
        for child in fragment.children:
            board.insert(target, child)


class Request:
    def __init__(self, page, mode, view, data, target=None, entry=None, method="post", **kwargs):
        self.page = page
        self.mode = mode  # "queue" (live.js's offline queue) or "htmx"
        self.view = view
        self.data = data
        self.kwargs = kwargs
        self.target = target
        self.entry = entry
        self.method = method
        self.duplicate = False

    def copy(self):
        twin = Request(
            self.page,
            self.mode,
            self.view,
            self.data,
            self.target,
            self.entry,
            self.method,
            **self.kwargs,
        )
        twin.duplicate = True
        return twin


# The world: pages, the network between them and the server, and its faults -----------------


class World:
    def __init__(self, seed, fixture, people=None):
        self.seed = seed
        self.rng = random.Random(seed)
        self.fixture = fixture
        self.ops = kind_of(seed)
        self.kind = self.ops.name
        self.workshop_id = fixture.workshop.pk
        self.stage = fixture.stages[self.kind]
        self.queue_limit = self.rng.choice([3, 1000, 1000])
        # Sometimes a page that missed more than a few events gets a snapshot.
        self.replay_limit = self.rng.choice([2, 200, 200])
        # Strict runs lose, reorder and shed no push: then a socket, once caught
        # up, must never skip a seq (a page would heal, but only if more came).
        self.strict = self.rng.random() < 0.4
        self.hub = SimHub(self)
        # Half the runs deliver through the hub's coalescing (hub._arrive: at
        # once in a quiet moment, else batched on a timer), half directly.
        self.coalesce = self.rng.random() < 0.5
        # Windows longer than the server's 20 ms, so that more events wait together.
        self.coalesce_seconds = self.rng.choice([0.02, 0.1, 0.5])
        if self.coalesce:
            self.hub.loop = SimLoop(self)
        self.clock = 1000.0  # seconds, for the consumer's hello throttle
        self.timers = []  # (due, callback) from call_later
        self.tasks = []  # coroutines started with ensure_future
        self.inbox = []  # published, not yet delivered to this process
        self.conns = []
        self.requests = []  # on their way to the server: [due step, request]
        self.replies = []  # on their way back: [due step, (request, response or None)]
        self.step_no = 0
        self.history = []  # requests the server has seen, for late re-sends
        self.accepted = set()  # op ids answered 200
        self.queued_ops = set()
        self.texts = 0
        self.written = {}  # text -> "added" / "edited", for the post-its
        self.refused = []
        self.ops_sent = set()
        self.faults = True
        self.behind_since = None
        self.trace = deque(maxlen=80)
        self.factory = RequestFactory()
        self.pages = self.make_pages(people)

    def log(self, *what):
        self.trace.append(" ".join(str(w) for w in what))

    def new_op(self):
        op = f"fz{self.rng.getrandbits(64):016x}"
        self.ops_sent.add(op)
        return op

    def make_pages(self, chosen=None):
        """The console and 2 to 4 others (or, scripted, the console and `chosen` people)."""
        fx = self.fixture
        people = list(fx.participants)
        self.rng.shuffle(people)
        count = self.rng.randint(3, 5)
        if chosen is not None:
            people = [p for name in chosen for p in fx.participants if p.display_name == name]
            count = len(people) + 1
        pages = [
            Page(
                self,
                "console",
                "facilitator",
                None,
                fx.facilitator,
                fx.initial[self.kind, "facilitator", None],
            )
        ]
        if chosen is None and self.rng.random() < 0.3:
            pages.append(
                Page(
                    self,
                    "projector",
                    "projector",
                    None,
                    fx.facilitator,
                    fx.initial[self.kind, "projector", None],
                )
            )
        for person in people[: count - len(pages)]:
            pages.append(
                Page(
                    self,
                    person.display_name,
                    "participant",
                    person,
                    None,
                    fx.initial[self.kind, "participant", person.pk],
                )
            )
        for page in pages:
            page.connect()
        return pages

    def chance(self, p):
        return self.faults and self.rng.random() < p

    # HTTP

    def send_request(self, request):
        if request.data.get("op_id"):
            self.ops_sent.add(request.data["op_id"])
        if self.chance(0.08):
            request.page.log("request lost", request.view.__name__)
            self.replies.append([self.later(request.page), (request, None)])  # network error
            return
        self.requests.append([self.later(request.page), request])
        if self.chance(0.08):
            self.requests.append([self.later(request.page), request.copy()])

    def later(self, page, reply=False):
        """When something sent now may arrive: at once, or (slow lane) much later.

        Some phones get their replies late while their socket is fine (a weak
        radio, a busy proxy): there a reply crosses the pushes that follow it.
        """
        if self.chance(0.6 if reply and page.slow_replies else 0.1):
            return self.step_no + self.rng.randint(5, 60)
        return self.step_no

    def serve(self, request):
        """The request reaches the server: the real view, in its own transaction."""
        page = request.page
        data = request.data
        if request.method == "get":
            http = self.factory.get("/", HTTP_HX_REQUEST="true")
        else:
            http = self.factory.post("/", data, HTTP_HX_REQUEST="true")
        http.user = page.user or AnonymousUser()
        http.session = {}
        if page.participant is not None:
            http.session = {SESSION_KEY: {str(self.workshop_id): page.participant.pk}}
        http.htmx = HtmxDetails(http)
        before = len(connection.run_on_commit)
        try:
            response = request.view(http, pk=self.workshop_id, **request.kwargs)
        except Http404:
            response = StatusOnly(404)
        except PermissionDenied:
            response = StatusOnly(403)
        # The test's own transaction never commits: run what the commit would have run.
        callbacks = connection.run_on_commit[before:]
        del connection.run_on_commit[before:]
        for _sids, callback, _robust in callbacks:
            callback()
        self.history.append(request)
        STATS["request served (dup)" if request.duplicate else "request served"] += 1
        page.log(
            "served",
            request.view.__name__,
            data.get("op_id"),
            response.status_code,
            response.get("X-Seq"),
            "dup" if request.duplicate else "",
        )
        if request.duplicate:
            return
        if self.chance(0.1):
            page.log("reply lost")
            STATS["reply lost"] += 1
            response = None
        self.replies.append([self.later(page, reply=True), (request, response)])

    def serve_next(self):
        self.serve(self.requests.pop(self.pick(self.requests))[1])

    def reply(self, index):
        _due, (request, response) = self.replies.pop(index)
        page = request.page
        if request.mode == "queue":
            page.queue_outcome(request, response)
        elif request.mode == "load":
            page.load_outcome(request, response)
        else:
            page.htmx_outcome(request, response)

    # pushes

    def deliver_publish(self, index):
        workshop_id, message = self.inbox.pop(index)
        self.log("deliver", message.get("seq"))
        if self.coalesce:
            self.hub._arrive(workshop_id, message)
        else:
            self.hub._deliver(workshop_id, message)

    def close_server_side(self, conn, keep_in_flight=False):
        conn.to_server.clear()
        if not keep_in_flight:
            conn.to_page.clear()
        if conn.server_alive:
            conn.server_alive = False
            with contextlib.suppress(StopIteration):  # no relay: it finishes at once
                self.hub.detach(conn.consumer).send(None)

    def drop_socket(self, page):
        """The server or the network ends a socket: cleanly (the page hears the close
        after what was already sent), or silently (the page finds out by its heartbeat)."""
        conn = page.socket
        conn.closing = self.rng.random() < 0.5
        page.log("socket closed cleanly" if conn.closing else "socket died silently")
        STATS["socket closed" if conn.closing else "socket died"] += 1
        self.close_server_side(conn, keep_in_flight=conn.closing)

    def watchdog(self):
        """One round of Hub._watchdog (its loop body, without the database beat)."""
        for room in list(self.hub.rooms.values()):
            for consumer in list(room):
                consumer.resync_if_caught_up()
        seq = Workshop.objects.values_list("seq", flat=True).get(pk=self.workshop_id)
        if self.workshop_id not in self.hub.rooms:
            return
        if seq > self.hub.delivered.get(self.workshop_id, 0):
            if self.behind_since == seq:
                self.hub.delivered[self.workshop_id] = seq
                self.hub.resync_room(self.workshop_id)
                self.behind_since = None
                self.log("watchdog resync", seq)
                STATS["watchdog resync"] += 1
            else:
                self.behind_since = seq
        else:
            self.behind_since = None

    def deliver_to_page(self, conn):
        text = conn.to_page.popleft()
        page = conn.page
        if page.socket is not conn or not conn.page_open:
            return
        message = json.loads(text)
        page.log("got", message.get("type", "frame"), message.get("seq"))
        STATS[message.get("type", "frame")] += 1
        if message.get("type") in ("synced", "snapshot"):
            conn.high = message["seq"]
        elif "type" not in message and conn.high is not None:
            if self.strict:
                assert message["seq"] <= conn.high + 1, (
                    f"{page.name}'s socket skipped from {conn.high} to {message['seq']}"
                )
            conn.high = max(conn.high, message["seq"])
        page.handle(message)

    # the people

    def write(self, page):
        """Someone does something on the board (the stage kind's operations)."""
        self.ops.write(self, page)

    def send(self, page, view, data, target=None, method="post", **kwargs):
        """An htmx request from `page` to `view` (its URL's arguments in kwargs)."""
        self.send_request(Request(page, "htmx", view, data, target, method=method, **kwargs))

    def serve_now(self, page, view, data, target=None, method="post", **kwargs):
        """Serve a request from `page` at once and hand it its reply (while settling)."""
        self.serve(Request(page, "htmx", view, data, target, method=method, **kwargs))
        self.reply(len(self.replies) - 1)

    def text(self):
        """Unique within the run, so that what was applied can be counted by its text."""
        words = ["délai", "ticket", "relance", "<b>", "R&D", '"urgent"', "O'Neil", "SLA"]
        self.texts += 1
        return f"{self.rng.choice(words)} {self.texts}"

    # the run

    def steps(self):
        return self.choose(self.options())

    def choose(self, options):
        """One of the (weight, action) options, at random by weight."""
        roll = self.rng.random() * sum(weight for weight, _ in options)
        for weight, action in options:
            roll -= weight
            if roll <= 0:
                return action
        return options[-1][1]

    def options(self, settling=False):
        """Everything that could happen next, with its weight."""
        rng = self.rng
        options = []
        pages = self.pages
        if not settling:
            options.append((6.0, lambda: self.write(rng.choice(pages))))
        if self.due(self.requests):
            options.append((4.0, lambda: self.serve_next()))
        if self.due(self.replies):
            options.append((4.0, lambda: self.reply(self.pick(self.replies))))
        if self.inbox:
            options.append((6.0, lambda: self.deliver_publish(self.pick(self.inbox))))
            options.append((0.3, self.lose_publish))
        readable = [c for c in self.conns if c.to_page]
        if readable:
            options.append((8.0, lambda: self.deliver_to_page(rng.choice(readable))))
        hearing = [c for c in self.conns if c.to_server and c.coro is None]
        if hearing:
            options.append((4.0, lambda: rng.choice(hearing).receive_next()))
        working = [c for c in self.conns if c.coro is not None]
        if working:
            options.append((3.0, lambda: rng.choice(working).step()))
        if self.tasks:
            options.append((3.0, lambda: self.run_task(rng.randrange(len(self.tasks)))))
        if any(due <= self.clock for due, _ in self.timers):
            options.append((3.0, self.fire_timer))
        closed = [c for c in self.conns if c.closing and not c.to_page and c.page_open]
        if closed:
            options.append((3.0, lambda: self.finish_close(rng.choice(closed))))
        online = [p for p in pages if p.socket is not None and p.socket.server_alive]
        if online and not settling:
            options.append((0.5, lambda: self.drop_socket(rng.choice(online))))
            options.append((0.2, lambda: self.lag(rng.choice(online))))
        due = [p for p in pages if p.reconnect_due]
        if due:
            options.append((2.0, lambda: rng.choice(due).connect()))
        dead = [
            p
            for p in pages
            if p.socket is not None and not p.socket.server_alive and not p.socket.closing
        ]
        if dead:
            options.append((1.0, lambda: rng.choice(dead).reconnect_now()))
        gaps = [p for p in pages if p.gap_timer]
        if gaps:
            options.append((1.0, lambda: rng.choice(gaps).fire_gap_timer()))
        retrying = [p for p in pages if p.flush_timer]
        if retrying:
            options.append((1.5, lambda: rng.choice(retrying).flush_queue()))
        lagging = [c for c in self.conns if c.backlog]
        if lagging:
            options.append((1.0, lambda: self.unlag(rng.choice(lagging))))
        if self.history and not settling:
            options.append((0.3, self.resend_late))
        if not settling:
            options.append((0.5, self.watchdog))
        return options

    def run_task(self, index):
        task = self.tasks[index]
        task.step()
        if task.finished:
            self.tasks.pop(index)

    def fire_timer(self):
        due = [t for t in self.timers if t[0] <= self.clock]
        timer = self.rng.choice(due) if self.faults else min(due, key=lambda t: t[0])
        self.timers.remove(timer)
        timer[1]()

    def due(self, items):
        return [i for i, (due, _item) in enumerate(items) if due <= self.step_no]

    def pick(self, items):
        """Mostly the oldest first; sometimes one overtakes the others."""
        if items is self.inbox:
            if self.strict or not self.chance(0.25):
                return 0
            return self.rng.randrange(len(items))
        ready = self.due(items)
        if len(ready) > 1 and self.chance(0.25):
            return self.rng.choice(ready)
        return ready[0]

    def lose_publish(self):
        if self.faults and not self.strict:
            _workshop_id, message = self.inbox.pop(self.rng.randrange(len(self.inbox)))
            self.log("publish lost", message.get("seq"))
            STATS["publish lost"] += 1

    def lag(self, page):
        if self.faults and not self.strict:
            page.log("stops reading")
            page.socket.backlog = page.socket.consumer.lag_bytes + 1

    def unlag(self, conn):
        conn.page.log("reads again")
        conn.backlog = 0

    def resend_late(self):
        if self.faults:
            request = self.rng.choice(self.history).copy()
            request.page.log("late re-send", request.view.__name__, request.data.get("op_id"))
            self.requests.append([self.later(request.page), request])

    def finish_close(self, conn):
        conn.page_open = False
        self.close_server_side(conn)
        if conn.page.socket is conn:
            conn.page.on_close()

    def run(self):
        ops = self.rng.randint(20, 40)
        for _ in range(ops * 4):
            self.clock += self.rng.random() * 0.05
            self.step_no += 1
            self.steps()()
        self.settle()

    def settle(self):
        """The network heals; everything in flight arrives; timers fire; the watchdog runs."""
        self.faults = False
        for conn in self.conns:
            conn.backlog = 0
        self.step_no += 10_000  # the slow lane arrives too
        # First in random order, as the healed network delivers it...
        for _ in range(5000):
            options = self.options(settling=True)
            if not options:
                break
            self.clock += self.rng.random() * 0.05
            self.choose(options)()
        # ...then whatever waits on a timer or on the watchdog.
        quiet = 0
        for _ in range(500):
            moved = self.settle_once()
            self.watchdog()
            quiet = 0 if moved else quiet + 1
            if quiet >= 3:
                break
        else:
            raise AssertionError("the pages never settled")
        # What the people still have open they close (an edit whose request was lost).
        for page in self.pages:
            self.ops.settle(self, page)

    def settle_once(self):
        moved = False
        while self.requests:
            self.serve(self.requests.pop(0)[1])
            moved = True
        while self.replies:
            self.reply(0)
            moved = True
        while self.inbox:
            self.deliver_publish(0)
            moved = True
        # Coroutines take turns, as on the event loop (one may wait for another's lock).
        for _ in range(10_000):
            busy = [c for c in self.conns if c.coro is not None or (c.to_server and c.server_alive)]
            if not busy and not self.tasks:
                break
            moved = True
            for index in reversed(range(len(self.tasks))):
                self.run_task(index)
            for conn in busy:
                if conn.coro is not None:
                    conn.step()
                else:
                    conn.receive_next()
        else:
            raise AssertionError("the consumers' coroutines never finished")
        if self.timers and not moved:
            self.clock = max(self.clock, min(due for due, _ in self.timers))
        while any(due <= self.clock for due, _ in self.timers):
            self.fire_timer()
            moved = True
        for conn in list(self.conns):
            conn.to_server.clear()
            while conn.to_page:
                self.deliver_to_page(conn)
                moved = True
            if conn.closing and conn.page_open:
                self.finish_close(conn)
                moved = True
        for page in self.pages:
            if page.socket is not None and not page.socket.server_alive and not page.socket.closing:
                page.reconnect_now()
                moved = True
            if page.reconnect_due:
                page.connect()
                moved = True
            if page.gap_timer:
                page.fire_gap_timer()
                moved = True
            if page.flush_timer or (page.queue and not page.flushing):
                page.flush_queue()
                moved = True
        return moved

    # what must hold

    def check(self):
        problems = list(self.ops.check(self))
        for page in self.pages:
            if page.queue or any("is-pending" in n.classes() for n in page.dom.elements()):
                problems.append(f"{page.name} still has post-its waiting to be sent")
            if page.early:
                problems.append(f"{page.name} still has early frames {sorted(page.early)}")
        seq = Workshop.objects.values_list("seq", flat=True).get(pk=self.workshop_id)
        for page in self.pages:
            if page.last != seq:
                problems.append(f"{page.name} is at seq {page.last}, the room at {seq}")
        problems.extend(self.check_regions())
        # Exactly once: one event per operation id, and one post-it per queued write.
        events = list(
            Event.objects.filter(
                workshop_id=self.workshop_id, seq__gt=self.fixture.seq[self.kind]
            ).values_list("op_id", flat=True)
        )
        counted = defaultdict(int)
        for op in events:
            if op:
                counted[op] += 1
        twice = {op: n for op, n in counted.items() if n > 1}
        if twice:
            problems.append(f"operations applied more than once: {twice}")
        unknown = set(counted) - self.ops_sent
        if unknown:
            problems.append(f"events with op ids nobody sent: {unknown}")
        missing = self.accepted - set(counted)
        if missing:
            problems.append(f"answered 200 but not in the log: {missing}")
        unsent = self.queued_ops - set(counted)
        if unsent:
            problems.append(f"queued post-its never applied: {unsent}")
        if self.refused:
            problems.append(f"queued post-its refused: {self.refused}")
        return problems

    def load_now(self, board, page):
        """A freshly opened page's load-triggered elements, answered at once (as `page`)."""
        done = set()
        for _ in range(10):
            pending = [
                n
                for n in board.dom.elements()
                if n.attrs.get("hx-trigger") == "load" and "hx-get" in n.attrs and id(n) not in done
            ]
            if not pending:
                return
            for node in pending:
                done.add(id(node))
                match = resolve(node.attrs["hx-get"].split("?")[0])
                kwargs = {k: v for k, v in match.kwargs.items() if k != "pk"}
                http = self.factory.get("/", HTTP_HX_REQUEST="true")
                http.user = page.user or AnonymousUser()
                http.session = {}
                if page.participant is not None:
                    http.session = {SESSION_KEY: {str(self.workshop_id): page.participant.pk}}
                http.htmx = HtmxDetails(http)
                response = match.func(http, pk=self.workshop_id, **kwargs)
                if response.status_code == 200:
                    swap_load(board, node, response.content.decode())

    def check_regions(self):
        """Each page's regions, whole, against a page freshly opened now (the snapshot's
        HTML on an empty page, as a reload draws it): same trees, same own marks."""
        workshop = Workshop.objects.select_related("current_stage").get(pk=self.workshop_id)
        problems = []
        for page in self.pages:
            snapshot = snapshot_for(workshop, page.audience, page.participant)
            fresh = Board()
            fresh.apply(snapshot["html"])
            self.load_now(fresh, page)
            diff = region_diff(regions(fresh), regions(page), "fresh", page.name)
            if diff:
                problems.append(f"{page.name}'s regions differ from a fresh render:\n{diff}")
            shown = {int(n.attrs["data-pid"]) for n in page.dom.elements() if "data-pid" in n.attrs}
            if page.audience == "participant" and (page.own & shown) != (
                set(snapshot["own"]) & shown
            ):
                problems.append(
                    f"{page.name} marks {sorted(page.own & shown)} as its own, "
                    f"a fresh page {sorted(set(snapshot['own']) & shown)}"
                )
        return problems


# The room every run starts from -----------------------------------------------------------


class Fixture:
    """One workshop, four phones and a console; one stage of each kind, each at rest."""

    def __init__(self, room):
        self.room = room
        self.workshop = room.workshop
        self.facilitator = room.facilitator
        self.participants = [room.alice, room.bruno] + [
            actions.join(room.workshop, display_name=name, profile=Profile.PARTNER)
            for name in ("Chloé", "David")
        ]
        # The wall runs play on a public, named wall with several columns. The Diagnostic's
        # one (step 5) is now its action sheets, so the room gets the same wall back.
        actions.add_stage(
            room.workshop,
            kind="wall",
            title="Co-construction d’actions",
            config={
                "columns": [
                    {
                        "key": "contribution",
                        "label": "Améliorer notre contribution",
                        "colour": "yellow",
                    },
                    {
                        "key": "clarify",
                        "label": "Clarifier offre, attentes, indicateurs",
                        "colour": "blue",
                    },
                    {"key": "action_sheets", "label": "Fiches-actions", "colour": "green"},
                ]
            },
        )
        stages = list(room.workshop.stages.order_by("position"))
        self.stages = {name: kind.pick_stage(stages) for name, kind in KINDS.items()}
        self.initial = {}
        self.seq = {}

    def prepare(self, kind):
        """Move the room to the stage of `kind` and give it something on the board."""
        stage = self.stages[kind]
        actions.go_to_stage(self.workshop, stage)
        KINDS[kind].prepare(self, stage)
        workshop = Workshop.objects.select_related("current_stage").get(pk=self.workshop.pk)
        self.seq[kind] = workshop.seq
        for audience, participant in self.audiences():
            snapshot = snapshot_for(workshop, audience, participant)
            self.initial[kind, audience, participant.pk if participant else None] = (
                snapshot["html"],
                snapshot["seq"],
                snapshot["own"],
            )

    def audiences(self):
        """Every (audience, participant) a page of the run may be."""
        return [("facilitator", None), ("projector", None)] + [
            ("participant", p) for p in self.participants
        ]


def snapshot_for(workshop, audience, participant):
    """What the consumer's snapshot gives this audience now (the page's fresh render)."""
    page = LiveConsumer.__new__(LiveConsumer)
    page.workshop_id = workshop.pk
    page.audience = audience
    page.participant_id = participant.pk if participant else None
    return json.loads(page._snapshot(workshop))
