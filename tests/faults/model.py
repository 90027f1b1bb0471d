"""What a live page shows, modelled: a small DOM and htmx's out-of-band swaps.

Shared by the sync fuzz (tests/sync_fuzz/), the fault tests against
real servers (tests/faults/, tests/scaleout/) and their soaks. `Board` is a
page's DOM as htmx 2's `swap(document.body, html, {swapStyle: "none"})` and
live.js's `htmx:oobBeforeSwap` handler leave it; `LivePage` is live.js's
socket algorithm over a real websocket, with a `Board`.
"""

import contextlib
import json
import random
import threading
import time
from collections import defaultdict
from html.parser import HTMLParser

VOID = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    ]
)
LIVE_IDS = ("live", "stage-list", "controls", "done-button", "toast")


class Node:
    __slots__ = ("tag", "attrs", "children", "parent")

    def __init__(self, tag, attrs):
        self.tag = tag
        self.attrs = attrs
        self.children = []
        self.parent = None

    def append(self, child):
        if isinstance(child, Node):
            child.parent = self
        self.children.append(child)

    def elements(self):
        """Descendant elements, in document order."""
        stack = [c for c in reversed(self.children) if isinstance(c, Node)]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(c for c in reversed(node.children) if isinstance(c, Node))

    def text(self):
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def classes(self):
        return self.attrs.get("class", "").split()

    def clone(self):
        # The sync fuzz clones every frame it applies: this is its hottest loop.
        copy = Node.__new__(Node)
        copy.tag = self.tag
        copy.attrs = dict(self.attrs)
        copy.parent = None
        children = copy.children = []
        for child in self.children:
            if child.__class__ is not str:
                child = child.clone()
                child.parent = copy
            children.append(child)
        return copy

    def detach(self):
        if self.parent is not None:
            siblings = self.parent.children
            siblings.pop(next(i for i, c in enumerate(siblings) if c is self))
            self.parent = None

    def replace_with(self, nodes):
        parent = self.parent
        siblings = parent.children
        index = next(i for i, c in enumerate(siblings) if c is self)
        for node in nodes:
            if isinstance(node, Node):
                node.parent = parent
        siblings[index : index + 1] = nodes
        self.parent = None

    def ancestors(self):
        node = self.parent
        while node is not None:
            yield node
            node = node.parent


class _Parser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#fragment", {})
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: v if v is not None else "" for k, v in attrs})
        self.stack[-1].append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1].append(Node(tag, {k: v if v is not None else "" for k, v in attrs}))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        self.stack[-1].append(data)


# Frames are shared by the pages of a run; older ones are not seen again, and a
# board's worth of parsed nodes is large: the cache is kept small.
PARSED_LIMIT = 300
_parsed = {}
_parsed_lock = threading.Lock()


def _shared(html):
    """(tree, its out-of-band elements) for `html`, parsed once and shared: never change them."""
    with _parsed_lock:
        parsed = _parsed.get(html)
        if parsed is None:
            if len(_parsed) > PARSED_LIMIT:
                _parsed.clear()
            parser = _Parser()
            parser.feed(html)
            parser.close()
            parsed = _parsed[html] = (parser.root, list(oob_elements(parser.root)))
        return parsed


def parse(html):
    """A fresh fragment for `html` (each distinct text is parsed once, then copied)."""
    return _shared(html)[0].clone()


def oob_elements(fragment):
    """Out-of-band elements, outermost only: a nested one re-swaps what its parent put in."""
    stack = [c for c in reversed(fragment.children) if isinstance(c, Node)]
    while stack:
        node = stack.pop()
        if "hx-swap-oob" in node.attrs:
            yield node
        else:
            stack.extend(c for c in reversed(node.children) if isinstance(c, Node))


def _postit_key(node):
    ident = node.attrs.get("id", "")
    number = ident.removeprefix("postit-")
    return int(number) if ident.startswith("postit-") and number.isdigit() else None


def attached(node, root):
    return node is root or any(a is root for a in node.ancestors())


class Board:
    """A page's DOM, indexed by id, changed only the way htmx and live.js change it."""

    def __init__(self, html=None):
        self.dom = Node("body", {})
        self.ids = defaultdict(list)
        self.missed_targets = 0
        if html is None:
            for ident in LIVE_IDS:
                self.insert(self.dom, Node("div", {"id": ident}))
        else:  # a whole page, as loaded
            fragment = parse(html)
            body = next((n for n in fragment.elements() if n.tag == "body"), fragment)
            self.body_attrs = dict(body.attrs)
            for child in list(body.children):
                self.insert(self.dom, child)

    # the index

    def index(self, node, add):
        for n in (node, *node.elements()):
            ident = n.attrs.get("id")
            if ident:
                if add:
                    self.ids[ident].append(n)
                else:
                    self.ids[ident].remove(n)

    def by_id(self, ident):
        found = self.ids.get(ident)
        return found[0] if found else None

    def insert(self, parent, child):
        parent.append(child)
        if isinstance(child, Node) and attached(parent, self.dom):
            self.index(child, True)

    def remove(self, node):
        if attached(node, self.dom):
            self.index(node, False)
        node.detach()

    def replace(self, node, nodes):
        if attached(node, self.dom):
            self.index(node, False)
            node.replace_with(nodes)
            for new in nodes:
                if isinstance(new, Node):
                    self.index(new, True)
        else:
            node.replace_with(nodes)

    # htmx

    def apply(self, html):
        """htmx.swap(document.body, html, {swapStyle: 'none'}): out-of-band swaps only."""
        # Shared, parsed once for every page that applies the same frame: oob_swap
        # copies what it puts on the page and leaves `element` as it is.
        for element in _shared(html)[1]:
            self.oob_swap(element)
        self.after_change()

    def oob_swap(self, element):
        value = element.attrs["hx-swap-oob"]
        style, ident = "outerHTML", element.attrs.get("id")
        if value == "true":
            pass
        elif ":" in value:
            style, selector = value.split(":", 1)
            assert selector.startswith("#"), selector
            ident = selector[1:]
        else:
            style = value
        targets = list(self.ids.get(ident, ()))
        if not targets:
            self.missed_targets += 1
        for target in targets:
            if style == "outerHTML":
                copy = element.clone()
                del copy.attrs["hx-swap-oob"]
                fragment = [copy]
            else:
                fragment = [c.clone() if isinstance(c, Node) else c for c in element.children]
            # live.js's htmx:oobBeforeSwap: an added post-it replaces any copy already
            # on the page, and the "not sent yet" card of its operation.
            for child in fragment:
                if isinstance(child, Node):
                    existing = self.by_id(child.attrs["id"]) if "id" in child.attrs else None
                    if existing is not None and existing is not target:
                        self.remove(existing)
                    if "data-op" in child.attrs:
                        self.remove_pending(child.attrs["data-op"])
            if style == "outerHTML":
                if target.parent is not None:
                    self.replace(target, fragment)
            elif style == "beforeend":
                for child in fragment:
                    self.insert(target, child)
                if "postits" in target.classes():
                    self.order_postits(target)
            elif style == "innerHTML":
                for child in list(target.children):
                    if isinstance(child, Node):
                        self.remove(child)
                target.children = []
                for child in fragment:
                    self.insert(target, child)
            elif style == "delete":
                self.remove(target)
            else:
                raise AssertionError(f"swap style not modelled: {style}")

    def swap_into(self, target, html):
        """A reply's main swap (hx-swap="outerHTML" on its target), after its OOB parts.

        htmx cannot swap into a target that has left the page (a push replaced it).
        """
        fragment = parse(html)
        for element in list(oob_elements(fragment)):
            element.detach()
            self.oob_swap(element)
        if attached(target, self.dom):
            self.replace(target, list(fragment.children))
        self.after_change()

    def after_change(self):
        pass

    @staticmethod
    def order_postits(container):
        """live.js's orderPostits() for one container: each post-it by its id, as the
        server draws them; only those out of place move, other children stay put.
        (live.js goes over every container after a change; only a beforeend swap can
        put one out of place, so the model orders just its target.)"""
        placed = []  # (key, node) of the keyed children seen so far, in key order
        for child in [c for c in container.children if isinstance(c, Node)]:
            key = _postit_key(child)
            if key is None:
                continue
            at = len(placed)
            while at > 0 and placed[at - 1][0] > key:
                at -= 1
            if at < len(placed):
                siblings = container.children
                siblings.pop(next(i for i, c in enumerate(siblings) if c is child))
                after = placed[at][1]
                siblings.insert(next(i for i, c in enumerate(siblings) if c is after), child)
            placed.insert(at, (key, child))

    def remove_pending(self, op):
        card = self.by_id(f"pending-{op}")
        if card is not None:
            self.remove(card)

    # what the person sees

    def postits(self):
        return [
            n
            for n in self.dom.elements()
            if n.tag == "article" and "postit" in n.classes() and "is-pending" not in n.classes()
        ]

    def wall(self):
        """{post-it id: (text, id of the column or theme it sits in)}, plus what is wrong."""
        board = {}
        for node in self.dom.elements():
            classes = node.classes()
            if node.tag == "form" and "postit-editing" in classes:
                board[("open form", node.attrs["id"])] = None
            if node.tag != "article" or "postit" not in classes or "is-pending" in classes:
                continue
            pid = int(node.attrs["data-pid"])
            text = next(n for n in node.elements() if "postit-text" in n.classes()).text()
            place = next(a.attrs.get("id") for a in node.ancestors() if "postits" in a.classes())
            if pid in board:
                board[("twice", pid)] = (text.strip(), place)
            board[pid] = (text.strip(), place)
        return board

    def pending(self):
        return [n for n in self.dom.elements() if "is-pending" in n.classes()]


def wall_truth(stage):
    """The same shape as Board.wall(), from the database."""
    from journeys.models import PostIt

    truth = {}
    for pk, text, column, cluster in PostIt.objects.filter(stage=stage).values_list(
        "pk", "text", "column", "cluster_id"
    ):
        place = f"cluster-{cluster}-postits" if cluster else f"postits-{stage.pk}-{column}"
        truth[pk] = (text, place)
    return truth


def wall_truth_rows(rows, stage_pk):
    """wall_truth from raw (pk, text, column, cluster_id) rows (another process's database)."""
    truth = {}
    for pk, text, column, cluster in rows:
        place = f"cluster-{cluster}-postits" if cluster else f"postits-{stage_pk}-{column}"
        truth[pk] = (text, place)
    return truth


# live.js over a real websocket ----------------------------------------------------------------


class LivePage(threading.Thread):
    """One page's static/js/live.js, socket side, against a real server.

    Loads the page over HTTP (its board and `data-seq`), then keeps a socket:
    hello on every open, frames applied in seq order with an early buffer, a
    gap asked for after 1 s, resync and snapshot handled, and reconnection with
    live.js's full-jitter backoff after any close. `opened` records when each
    socket opened (time.monotonic()).
    """

    def __init__(self, base, workshop_id, browser, name="page", query=""):
        super().__init__(daemon=True, name=name)
        self.base = base
        self.workshop_id = workshop_id
        self.browser = browser  # tests.scaleout.cluster.Browser: cookies
        self.query = query
        self.lock = threading.Lock()
        self.board = Board(browser.get(f"{base}/w/{workshop_id}/"))
        self.last = int(self.board.body_attrs["data-seq"])
        self.early = {}
        self.retries = 0
        self.opened = []
        self.attempts = []
        self.closes = []
        self.resyncs = 0
        self.snapshots = 0
        self.gap_hellos = 0
        self.stopping = threading.Event()
        self.ws = None

    # the thread

    def run(self):
        from websockets.exceptions import ConnectionClosed, InvalidHandshake

        while not self.stopping.is_set():
            self.attempts.append(time.monotonic())
            try:
                ws = self._connect()
            except (OSError, InvalidHandshake, TimeoutError):
                self._backoff()
                continue
            with ws:
                self.ws = ws
                self.retries = 0
                self.opened.append(time.monotonic())
                try:
                    self._listen(ws)
                except (ConnectionClosed, OSError) as closed:
                    self.closes.append((time.monotonic(), getattr(closed, "rcvd", None)))
                finally:
                    self.ws = None
            if not self.stopping.is_set():
                self._backoff()

    def _listen(self, ws):
        gap_due = None
        self._send({"type": "hello", "last_seq": self.last})
        while not self.stopping.is_set():
            try:
                text = ws.recv(timeout=0.2)
            except TimeoutError:
                text = None
            with self.lock:
                if text is not None:
                    self._handle(json.loads(text))
                # live.js: a gap still open after 1 s is asked for.
                if not self.early:
                    gap_due = None
                elif gap_due is None:
                    gap_due = time.monotonic() + 1.0
                elif time.monotonic() >= gap_due:
                    gap_due = None
                    self.gap_hellos += 1
                    self._send({"type": "hello", "last_seq": self.last})

    def _connect(self):
        from websockets.sync.client import connect

        host = self.base.removeprefix("http://")
        return connect(
            f"ws://{host}/ws/w/{self.workshop_id}/{self.query}",
            additional_headers={"Origin": self.base, "Cookie": self.browser.cookie_header()},
            open_timeout=5,
            max_size=None,
        )

    def _backoff(self):
        # live.js's scheduleReconnect: 250 ms + random(0 … min(30 s, 2^n s)).
        ceiling = min(30.0, 2.0 ** min(self.retries, 5))
        self.retries += 1
        self.stopping.wait(0.25 + random.random() * ceiling)

    def _send(self, message):
        ws = self.ws
        if ws is not None:
            ws.send(json.dumps(message))

    def _handle(self, message):
        kind = message.get("type")
        if kind == "synced":
            if message["seq"] > self.last:
                self._send({"type": "hello", "last_seq": self.last})
                return
            self._drop_early()
        elif kind == "snapshot":
            self.snapshots += 1
            self.board.apply(message["html"])
            self.last = message["seq"]
            self._drop_early()
        elif kind == "resync":
            self.resyncs += 1
            self._send({"type": "hello", "last_seq": self.last})
        elif kind in ("pong", "error", "removed"):
            return
        elif isinstance(message.get("seq"), int) and message["seq"] > self.last:
            self.early[message["seq"]] = message
            self._drain()

    def _drain(self):
        while self.last + 1 in self.early:
            message = self.early.pop(self.last + 1)
            if message["html"]:
                self.board.apply(message["html"])
            self.last = message["seq"]

    def _drop_early(self):
        for seq in [s for s in self.early if s <= self.last]:
            del self.early[seq]
        self._drain()

    # for the test

    def stop(self):
        self.stopping.set()
        ws = self.ws
        if ws is not None:
            with contextlib.suppress(Exception):
                ws.close()
        self.join(timeout=10)

    def state(self):
        with self.lock:
            return self.last, self.board.wall()


def wait_until(predicate, timeout, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
