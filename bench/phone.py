"""A simulated phone that costs the server what a real one costs (issue 15).

One `PhonePage` is one participant's browser tab on the live page, doing
what a phone does and nothing the server does not see:

- **It scans the QR code**: GET of the join page `/j/<token>/` with an empty
  cache (and, when asked, every stylesheet, script and image the page
  references, with the phone's Accept-Encoding), POST of the join form with
  the form's own CSRF field and the csrftoken cookie, Origin and Referer,
  then the redirect followed: GET of the stage page (and its assets).
- **Its own participant, its own session cookie**: nothing is shared
  between pages.
- **The page's websocket** (`data-ws` of the page), with Origin and the
  session cookie; on open it says hello with the page's `data-seq`, as
  static/js/live.js does, then sends `{"type": "ping"}` every 15 s.
- **Frames are applied as live.js applies them**: every frame is parsed,
  applied in sequence order, early ones kept until their turn; a gap is asked
  for (hello) after 1 s; `synced` with a later seq, `resync` → hello;
  `snapshot` replaces the board. The board is modelled as the post-its on it
  (id → text), so that a page can be compared with a fresh render.
- **On a drop** it reconnects with live.js's full-jitter backoff
  (250 ms + random × min(30 s, 1 s × 2^retries)); retries reset on open.
- **A writer** posts the compose form's action exactly as live.js's queue
  does (`fetch`, not htmx: `op_id`, `text`, `column` [, `colour`], headers
  `X-CSRFToken` from the body's hx-headers and `HX-Request: true`, the
  session cookie, Origin, Referer), one request at a time, and reads the
  reply fragment. A reply of 429 or ≥ 500, or a dropped connection, is
  retried with the same op_id, as the queue retries it.
"""

import asyncio
import gzip
import html
import json
import random
import re
import secrets
import time
import urllib.parse
from html.parser import HTMLParser

from bench.wsclient import HttpConnection, WebSocket

PING_SECONDS = 15.0
GAP_SECONDS = 1.0
ACCEPT_ENCODING = "gzip, deflate"  # a phone on the LAN's plain http://
ARTICLE_RE = re.compile(
    r'<article id="postit-(\d+)"[^>]*>\s*<p class="postit-text">(.*?)</p>', re.S
)
DELETE_RE = re.compile(r'<div id="postit-(\d+)" hx-swap-oob="delete">')
PHONE_UA = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36"
)


def decoded(headers, body):
    if headers.get("content-encoding") == "gzip":
        return gzip.decompress(body)
    return body


def board_of(fragment, board=None):
    """Apply a fragment's post-its (added, changed, deleted) to `board` {id: text}."""
    board = {} if board is None else board
    for pid, text in ARTICLE_RE.findall(fragment):
        board[int(pid)] = text
    for pid in DELETE_RE.findall(fragment):
        board.pop(int(pid), None)
    return board


class _Page(HTMLParser):
    """What a loaded page tells the browser: assets, body attributes, forms."""

    def __init__(self):
        super().__init__()
        self.assets = []
        self.body = {}
        self.forms = []  # [{"action":…, "attrs":…, "fields": {…}}]
        self._form = None

    def handle_starttag(self, tag, attrs):
        attrs = {k: (v or "") for k, v in attrs}
        if tag == "link" and attrs.get("href"):
            rel = set(attrs.get("rel", "").lower().split())
            if rel & {"stylesheet", "icon", "preload", "modulepreload", "apple-touch-icon"}:
                self.assets.append(attrs["href"])
        elif tag in ("script", "img") and attrs.get("src"):
            self.assets.append(attrs["src"])
        elif tag == "body":
            self.body = attrs
        elif tag == "form":
            self._form = {"action": attrs.get("action", ""), "attrs": attrs, "fields": {}}
            self.forms.append(self._form)
        elif tag == "input" and self._form is not None and attrs.get("name"):
            kind = attrs.get("type", "text")
            if kind == "radio":
                if "checked" in attrs or attrs["name"] not in self._form["fields"]:
                    self._form["fields"][attrs["name"]] = attrs.get("value", "")
            elif kind != "checkbox":
                self._form["fields"][attrs["name"]] = attrs.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None


def parse_page(text):
    parser = _Page()
    parser.feed(text)
    return parser


class PageSocket(WebSocket):
    """The live page's websocket, bytes in and out; its page does the rest."""

    def __init__(self, page, path, headers):
        super().__init__(path, f"{page.host}:{page.port}", (("User-Agent", PHONE_UA), *headers))
        self.page = page

    def connection_lost(self, exc):
        was_open = self.open
        super().connection_lost(exc)
        self.page._closed(self, was_open)

    def abort(self):
        """The access point went away: no closing handshake."""
        if self.transport is not None:
            self.transport.abort()

    def _message(self, payload, now):
        self.page._message(payload, now)

    def _close_frame(self, payload):
        self.page.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
        self.close()


class PhonePage:
    """One participant's phone on the live page (see the module's docstring)."""

    def __init__(self, host, port, name, profile="agent"):
        self.host, self.port = host, port
        self.name, self.profile = name, profile
        self.cookies = {}
        self.http = HttpConnection(host, port)
        self.page_url = None
        self.csrf = ""
        self.ws_path = None
        self.compose = None  # (action, fields) of the compose form
        # The page's live state, as live.js keeps it.
        self.last = 0
        self.early = {}
        self.board = {}
        self.own = set()
        self.received = {}  # seq -> perf_counter() it became known to this page
        self.frames = 0
        self.bytes = 0
        self.resyncs = 0
        self.snapshots = 0
        self.pongs = 0
        self.socket = None
        self.retries = 0
        self.reconnect = True
        self.close_code = None
        self.synced = asyncio.Event()
        self.synced_at = None
        self.opened_at = None
        self.catch_up_bytes = 0  # bytes received since the last open, until synced
        self._counting = False
        self.drops = 0
        self.asset_bytes = 0
        self._gap = None
        self._ping = None
        self._reconnect = None
        self._queue = None  # live.js's queue sends one entry at a time (asyncio.Lock)

    # HTTP ------------------------------------------------------------------

    @property
    def origin(self):
        return f"http://{self.host}:{self.port}"

    def _cookie(self):
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    async def request(self, method, path, headers=(), body=b""):
        headers = [
            ("User-Agent", PHONE_UA),
            ("Accept-Encoding", ACCEPT_ENCODING),
            *headers,
        ]
        if self.cookies:
            headers.append(("Cookie", self._cookie()))
        status, response_headers, response_body = await self.http.request(
            method, path, headers, body
        )
        for name, value in response_headers:
            if name == "set-cookie":
                key, _, val = value.split(";", 1)[0].partition("=")
                self.cookies[key.strip()] = val.strip()
        return status, dict(response_headers), response_body

    async def navigate(self, path, assets=False):
        """A page load: the HTML, then (empty cache) every asset it references."""
        status, headers, body = await self.request(
            "GET", path, [("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")]
        )
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}")
        body = decoded(headers, body)
        page = parse_page(body.decode())
        if assets:
            for asset in dict.fromkeys(page.assets):
                got, _, data = await self.request("GET", asset, [("Referer", self.origin + path)])
                if got != 200:
                    raise RuntimeError(f"GET {asset} answered {got}")
                self.asset_bytes += len(data)
        return page, body.decode()

    async def post_form(self, path, fields, headers=()):
        body = urllib.parse.urlencode(fields).encode()
        return await self.request(
            "POST",
            path,
            [
                ("Content-Type", "application/x-www-form-urlencoded;charset=UTF-8"),
                ("Origin", self.origin),
                ("Referer", self.page_url or self.origin + path),
                *headers,
            ],
            body,
        )

    async def scan(self, token, assets=False):
        """Scan the QR code: join page, join form, the stage page it leads to."""
        join_path = f"/j/{token}/"
        self.page_url = self.origin + join_path
        page, _ = await self.navigate(join_path, assets)
        form = next((f for f in page.forms if "display_name" in f["fields"]), None)
        if form is None:
            raise RuntimeError("the join page has no form")
        fields = {
            **form["fields"],
            "display_name": self.name,
            "profile": self.profile,
            "organisation": "",
        }
        status, headers, body = await self.post_form(form["action"] or join_path, fields)
        if status not in (302, 303):
            raise RuntimeError(f"join answered {status}: {body[:300]!r}")
        location = urllib.parse.urlsplit(headers["location"]).path
        await self.load_stage(location, assets)
        return location

    async def load_stage(self, path, assets=False):
        self.page_url = self.origin + path
        page, text = await self.navigate(path, assets)
        self.ws_path = page.body.get("data-ws")
        self.last = int(page.body.get("data-seq") or 0)
        self.own = set(json.loads(html.unescape(page.body.get("data-own") or "[]")))
        self.csrf = json.loads(page.body.get("hx-headers") or "{}").get("X-CSRFToken", "")
        for form in page.forms:
            if "data-queue" in form["attrs"]:
                self.compose = (form["action"], form["fields"])
        self.board = board_of(text)

    async def write(self, text):
        """One post-it, as live.js's queue posts it; (status, seconds, op_id, reply)."""
        action, fields = self.compose
        fields = {k: v for k, v in fields.items() if k != "csrfmiddlewaretoken"}
        fields.update(op_id=secrets.token_hex(16), text=text)
        return await self.post(action, fields)

    async def post(self, action, fields, retries=30):
        """POST like live.js's queue: one at a time, retried on 429/5xx or a broken
        connection. The time counts from the tap, so it includes the wait in the queue."""
        started = time.perf_counter()
        if self._queue is None:
            self._queue = asyncio.Lock()
        async with self._queue:
            return await self._post(action, fields, retries, started)

    async def _post(self, action, fields, retries, started):
        headers = [("X-CSRFToken", self.csrf), ("HX-Request", "true"), ("Accept", "*/*")]
        for attempt in range(retries):
            try:
                status, reply_headers, body = await self.post_form(action, fields, headers)
            except (TimeoutError, OSError, asyncio.IncompleteReadError):
                self.http.close()
                status, reply_headers, body = 599, {}, b""
            if status != 429 and status < 500:
                for pid in (reply_headers.get("x-own") or "").split(","):
                    if pid.strip():
                        self.own.add(int(pid))
                body = decoded(reply_headers, body)
                if status == 200 and body and not self._stale(reply_headers.get("x-seq")):
                    board_of(body.decode(), self.board)
                return status, time.perf_counter() - started, fields.get("op_id"), body
            await asyncio.sleep(min(15.0, 0.5 * 2 ** (attempt + 1)) * (0.5 + random.random()))
        return status, time.perf_counter() - started, fields.get("op_id"), body

    def _stale(self, seq_header):
        try:
            seq = int(seq_header)
        except (TypeError, ValueError):
            return False
        return 0 < seq <= self.last

    # The websocket -----------------------------------------------------------

    async def connect(self, timeout=20):
        loop = asyncio.get_running_loop()
        headers = [("Origin", self.origin), ("Cookie", self._cookie())]
        self.synced.clear()
        _, sock = await asyncio.wait_for(
            loop.create_connection(
                lambda: PageSocket(self, self.ws_path, headers), self.host, self.port
            ),
            timeout,
        )
        self.socket = sock
        await asyncio.wait_for(sock.opened, timeout)
        self._opened()
        return self

    def _opened(self):
        self.retries = 0
        self.opened_at = time.perf_counter()
        self.catch_up_bytes = 0
        self._counting = True
        self.hello()
        self._stop_ping()
        self._ping = asyncio.get_running_loop().call_later(PING_SECONDS, self._send_ping)

    def _send_ping(self):
        if self.socket is not None and self.socket.open:
            self.socket.send_text(json.dumps({"type": "ping"}))
            self._ping = asyncio.get_running_loop().call_later(PING_SECONDS, self._send_ping)

    def _stop_ping(self):
        if self._ping is not None:
            self._ping.cancel()
            self._ping = None

    def _closed(self, sock, was_open):
        if sock is not self.socket:
            return
        self.socket = None
        self._stop_ping()
        if was_open:
            self.drops += 1
        if self.reconnect and self.close_code != 4001:
            self._schedule_reconnect(30.0 if self.close_code == 4403 else 0.0)

    def _schedule_reconnect(self, floor=0.0):
        ceiling = min(30.0, 1.0 * 2 ** min(self.retries, 5))
        delay = max(floor, 0.25 + random.random() * ceiling)
        self.retries += 1
        loop = asyncio.get_running_loop()
        if self._reconnect is not None:
            self._reconnect.cancel()
        self._reconnect = loop.call_later(delay, lambda: loop.create_task(self._try_connect()))

    async def _try_connect(self):
        self._reconnect = None
        if not self.reconnect or self.socket is not None:
            return
        try:
            await self.connect()
        except (TimeoutError, OSError, ConnectionError):
            self.socket = None
            if self.reconnect:
                self._schedule_reconnect()

    def drop(self):
        """The venue's access point restarts: the socket dies, the page stays offline."""
        self.reconnect = False
        if self._reconnect is not None:
            self._reconnect.cancel()
            self._reconnect = None
        sock, self.socket = self.socket, None
        self._stop_ping()
        if sock is not None:
            sock.abort()

    def come_back(self):
        """Back online: the page's scheduled reconnect, with its jittered backoff."""
        self.reconnect = True
        self.close_code = None
        self._schedule_reconnect()

    def close(self):
        self.reconnect = False
        if self._reconnect is not None:
            self._reconnect.cancel()
        self._stop_ping()
        if self.socket is not None:
            self.socket.close()
        self.http.close()

    def send(self, message):
        if self.socket is not None and self.socket.open:
            self.socket.send_text(json.dumps(message))

    def hello(self):
        self.send({"type": "hello", "last_seq": self.last})

    # Frames, as live.js handles them ------------------------------------------

    def _message(self, payload, now):
        self.frames += 1
        self.bytes += len(payload)
        if self._counting:
            self.catch_up_bytes += len(payload)
        try:
            message = json.loads(payload)
        except ValueError:
            return
        kind = message.get("type")
        if kind == "pong":
            self.pongs += 1
            return
        if kind == "synced":
            if message["seq"] > self.last:
                self.hello()
                return
            self._drop_early()
            self._synced(now)
            return
        if kind == "snapshot":
            self.snapshots += 1
            self.own = set(message.get("own") or [])
            self.board = board_of(message.get("html") or "")
            seq = message["seq"]
            for covered in range(self.last + 1, seq + 1):
                self.received.setdefault(covered, now)
            self.last = seq
            self._drop_early()
            self._synced(now)
            return
        if kind == "resync":
            self.resyncs += 1
            self.hello()
            return
        if kind == "removed":
            self.reconnect = False
            return
        if kind == "error":
            return
        seq = message.get("seq")
        if not isinstance(seq, int) or seq <= self.last:
            return
        self.received.setdefault(seq, now)
        self.early[seq] = message
        self._drain()
        if self.early and self._gap is None:
            self._gap = asyncio.get_running_loop().call_later(GAP_SECONDS, self._gap_check)

    def _synced(self, now):
        self._counting = False
        self.synced_at = now
        self.synced.set()

    def _drain(self):
        early = self.early
        while self.last + 1 in early:
            message = early.pop(self.last + 1)
            for pid in message.get("own") or ():
                self.own.add(pid)
            if message.get("html"):
                board_of(message["html"], self.board)
            self.last = message["seq"]
        if not early and self._gap is not None:
            self._gap.cancel()
            self._gap = None

    def _drop_early(self):
        for seq in [s for s in self.early if s <= self.last]:
            del self.early[seq]
        self._drain()

    def _gap_check(self):
        self._gap = None
        if self.early:
            self.hello()


async def fresh_board(spare):
    """The board as a fresh render shows it: a new socket of `spare`'s asks for a snapshot."""
    page = PhonePage(spare.host, spare.port, "fresh")
    page.cookies = dict(spare.cookies)
    page.ws_path = spare.ws_path
    page.reconnect = False
    page.last = -1
    await page.connect()
    await asyncio.wait_for(page.synced.wait(), 30)
    page.close()
    return page.last, page.board, page.catch_up_bytes
