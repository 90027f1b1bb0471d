"""A lean load generator's network side: a websocket client and an HTTP/1.1 client.

Both are real clients over real TCP sockets (an HTTP upgrade with Origin and
Cookie headers, masked client frames, keep-alive HTTP with CSRF headers), but
without a library's per-message machinery: with one core for the load
generator and 20,000 frames a second to read, the generator must cost far
less per frame than the servers it measures, or it would measure itself.
"""

import asyncio
import base64
import json
import os
import struct
import time
import urllib.parse

SEQ_PREFIX = b'{"seq": '


def mask_frame(opcode, payload):
    """A client frame (clients must mask)."""
    header = bytes([0x80 | opcode])
    length = len(payload)
    if length < 126:
        header += bytes([0x80 | length])
    elif length < 65536:
        header += bytes([0x80 | 126]) + struct.pack("!H", length)
    else:
        header += bytes([0x80 | 127]) + struct.pack("!Q", length)
    mask = os.urandom(4)
    if payload:
        repeated = (mask * (length // 4 + 1))[:length]
        masked = (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(
            length, "big"
        )
    else:
        masked = b""
    return header + mask + masked


class WebSocket(asyncio.Protocol):
    """A websocket client's bytes: the upgrade, frames in, masked frames out.

    Subclasses say what a message means (`_message`), and may read a frame in
    place before it is copied (`_quick`), and act on the server's close frame
    (`_close_frame`).
    """

    def __init__(self, path, host, headers=()):
        self.path = path
        self.host = host
        self.headers = headers
        self.transport = None
        self.buffer = bytearray()
        self.open = False
        self.opened = asyncio.get_running_loop().create_future()
        self.fragments = None

    # Connection --------------------------------------------------------------

    def connection_made(self, transport):
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {self.path} HTTP/1.1",
            f"Host: {self.host}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
            *(f"{k}: {v}" for k, v in self.headers),
        ]
        transport.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def connection_lost(self, exc):
        self.open = False
        if not self.opened.done():
            self.opened.set_exception(ConnectionError(f"closed before the upgrade: {exc}"))

    def send_text(self, text):
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(mask_frame(0x1, text.encode()))

    def close(self):
        if self.transport is not None and not self.transport.is_closing():
            try:
                self.transport.write(mask_frame(0x8, struct.pack("!H", 1000)))
            finally:
                self.transport.close()

    # Frames --------------------------------------------------------------------

    def data_received(self, data):
        now = time.perf_counter()
        buffer = self.buffer
        buffer += data
        if not self.open:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(buffer[:end]).split(b"\r\n", 1)[0]
            del buffer[: end + 4]
            if b" 101 " not in status + b" ":
                self.opened.set_exception(ConnectionError(status.decode("latin-1")))
                self.transport.close()
                return
            self.open = True
            self.opened.set_result(True)
        position = 0
        size = len(buffer)
        while size - position >= 2:
            first, second = buffer[position], buffer[position + 1]
            length = second & 0x7F
            header = 2
            if length == 126:
                if size - position < 4:
                    break
                length = struct.unpack_from("!H", buffer, position + 2)[0]
                header = 4
            elif length == 127:
                if size - position < 10:
                    break
                length = struct.unpack_from("!Q", buffer, position + 2)[0]
                header = 10
            if size - position < header + length:
                break
            start = position + header
            position = start + length
            if self._quick(first, buffer, start, length, now):
                continue
            self._frame(first & 0x80, first & 0x0F, bytes(buffer[start:position]), now)
        if position:
            del buffer[:position]

    def _quick(self, first, buffer, start, length, now):
        """Read a frame in place, without copying it; True if it was."""
        return False

    def _frame(self, fin, opcode, payload, now):
        if opcode == 0x0:
            self.fragments += payload
            if fin:
                payload, self.fragments = bytes(self.fragments), None
                self._message(payload, now)
        elif opcode in (0x1, 0x2):
            if fin:
                self._message(payload, now)
            else:
                self.fragments = bytearray(payload)
        elif opcode == 0x9:
            if self.transport is not None and not self.transport.is_closing():
                self.transport.write(mask_frame(0xA, payload))
        elif opcode == 0x8:
            self._close_frame(payload)

    def _close_frame(self, payload):
        self.close()

    def _message(self, payload, now):
        raise NotImplementedError


class Socket(WebSocket):
    """One websocket: records when each sequence number arrived.

    `mode="app"` speaks the live page's protocol (hello, resync, snapshot,
    gaps); `mode="plain"` just records {"seq": n} frames. `received` maps a
    sequence number to the perf_counter() time it first became known to this
    socket, by a frame or by a snapshot that covers it.
    """

    def __init__(self, path, host, headers=(), mode="plain"):
        super().__init__(path, host, headers)
        self.mode = mode
        self.closed = asyncio.get_running_loop().create_future()
        self.received = {}
        self.last = 0  # contiguous: every seq <= last is known (app mode)
        self.synced = asyncio.Event()
        self.frames = 0
        self.bytes = 0
        self.resyncs = 0
        self.snapshots = 0
        self.on_text = None  # plain mode: called with other (non-seq) messages
        self.last_arrival = 0.0
        self._gap_timer = None

    def connection_lost(self, exc):
        super().connection_lost(exc)
        if not self.closed.done():
            self.closed.set_result(exc)

    def data_received(self, data):
        self.last_arrival = time.perf_counter()
        super().data_received(data)

    def _quick(self, first, buffer, start, length, now):
        if first != 0x81 or not buffer.startswith(SEQ_PREFIX, start):
            return False
        # The hot path: a whole {"seq": n, ...} frame; read n in place.
        self.frames += 1
        self.bytes += length
        seq = int(buffer[start + 8 : buffer.index(b",", start + 8)])
        if seq not in self.received:
            self.received[seq] = now
        if self.mode == "app":
            self._advance(seq)
        return True

    def _message(self, payload, now):
        self.frames += 1
        self.bytes += len(payload)
        if payload.startswith(SEQ_PREFIX):
            seq = int(payload[8 : payload.index(b",", 8)])
            received = self.received
            if seq not in received:
                received[seq] = now
            if self.mode == "app":
                self._advance(seq)
            return
        message = json.loads(payload)
        if self.mode != "app":
            if self.on_text is not None:
                self.on_text(message)
            return
        kind = message.get("type")
        if kind == "synced":
            if message["seq"] > self.last:
                self.hello()  # the page heard of a later seq than it holds
            else:
                self.synced.set()
        elif kind == "snapshot":
            self.snapshots += 1
            seq = message["seq"]
            for covered in range(self.last + 1, seq + 1):
                self.received.setdefault(covered, now)
            self.last = max(self.last, seq)
            self._advance(self.last)
            self.synced.set()
        elif kind == "resync":
            self.resyncs += 1
            self.hello()
        elif kind == "removed":
            raise RuntimeError("the benchmark's participant was removed")

    def _advance(self, seq):
        received = self.received
        last = self.last
        while last + 1 in received:
            last += 1
        self.last = last
        if seq > last:
            # A page waits a moment for what is missing, then asks for it.
            if self._gap_timer is None:
                self._gap_timer = asyncio.get_running_loop().call_later(1.0, self._gap_check)
        elif self._gap_timer is not None:
            self._gap_timer.cancel()
            self._gap_timer = None

    def _gap_check(self):
        self._gap_timer = None
        if self.received and max(self.received) > self.last:
            self.hello()

    def hello(self):
        self.send_text(json.dumps({"type": "hello", "last_seq": self.last}))


async def open_socket(host, port, path, headers=(), mode="plain", timeout=20):
    loop = asyncio.get_running_loop()
    _transport, socket = await asyncio.wait_for(
        loop.create_connection(
            lambda: Socket(path, f"{host}:{port}", headers, mode), host, port
        ),
        timeout,
    )
    await asyncio.wait_for(socket.opened, timeout)
    return socket


class HttpConnection:
    """One keep-alive HTTP/1.1 connection, as a phone's browser holds one."""

    def __init__(self, host, port):
        self.host = host
        self.port = port
        self.reader = None
        self.writer = None

    async def _connect(self):
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    def close(self):
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    async def request(self, method, path, headers=(), body=b"", timeout=30):
        for attempt in (0, 1):
            if self.writer is None:
                await self._connect()
            lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
            lines += [f"{k}: {v}" for k, v in headers]
            if body or method == "POST":
                lines.append(f"Content-Length: {len(body)}")
            raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
            try:
                self.writer.write(raw)
                return await asyncio.wait_for(self._response(), timeout)
            except (ConnectionError, asyncio.IncompleteReadError):
                # The server closed an idle keep-alive connection: reconnect once.
                self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    async def _response(self):
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split()[1])
        headers = []
        for line in header_lines:
            if ":" in line:
                name, value = line.split(":", 1)
                headers.append((name.strip().lower(), value.strip()))
        names = dict(headers)
        if "content-length" in names:
            body = await self.reader.readexactly(int(names["content-length"]))
        elif names.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                parts.append(await self.reader.readexactly(size + 2))
                if size == 0:
                    break
            body = b"".join(p[:-2] for p in parts)
        else:
            body = await self.reader.read()
            self.close()
        if names.get("connection", "").lower() == "close":
            self.close()
        return status, headers, body


class Phone:
    """A participant's browser: cookies, CSRF token, keep-alive connection."""

    def __init__(self, host, port):
        self.host = host
        self.port = port
        self.cookies = {}
        self.http = HttpConnection(host, port)

    @property
    def origin(self):
        return f"http://{self.host}:{self.port}"

    def cookie_header(self):
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    async def request(self, method, path, fields=None, htmx=True):
        headers = [("Cookie", self.cookie_header())] if self.cookies else []
        body = b""
        if method == "POST":
            body = urllib.parse.urlencode(fields or {}).encode()
            headers += [
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("X-CSRFToken", self.cookies.get("csrftoken", "")),
                ("Origin", self.origin),
                ("Referer", self.origin + path),
            ]
            if htmx:
                headers.append(("HX-Request", "true"))
        status, response_headers, response_body = await self.http.request(
            method, path, headers, body
        )
        for name, value in response_headers:
            if name == "set-cookie":
                cookie = value.split(";", 1)[0]
                key, _, val = cookie.partition("=")
                self.cookies[key.strip()] = val.strip()
        return status, dict(response_headers), response_body

    async def join(self, token, name, profile="agent"):
        status, _, _ = await self.request("GET", f"/j/{token}/")
        if status != 200:
            raise RuntimeError(f"join page answered {status}")
        status, headers, body = await self.request(
            "POST", f"/j/{token}/", {"display_name": name, "profile": profile}, htmx=False
        )
        if status != 302:
            raise RuntimeError(f"join answered {status}: {body[:300]!r}")
        return headers.get("location")

    def socket_headers(self):
        return [("Origin", self.origin), ("Cookie", self.cookie_header())]
