"""A websocket client on a plain socket, so that a test can make it stop reading.

Client libraries read in the background; a phone whose app froze does not.
With a small receive buffer, what the server sends piles up on the server.
"""

import base64
import json
import os
import socket
import struct
import time


class RawSocket:
    def __init__(self, base, path, cookie, receive_buffer=4096):
        host, port = base.removeprefix("http://").split(":")
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.connect((host, int(port)))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                f"Sec-WebSocket-Version: 13\r\nOrigin: {base}\r\nCookie: {cookie}\r\n\r\n"
            ).encode()
        )
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self._fill(10)
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise ConnectionError(head.decode(errors="replace"))

    def _fill(self, timeout):
        self.sock.settimeout(timeout)
        data = self.sock.recv(1 << 20)
        if not data:
            raise ConnectionError("closed by the server")
        self.buffer += data

    def send(self, message):
        """One masked text frame, as a browser sends it."""
        data = json.dumps(message).encode()
        mask = os.urandom(4)
        length = len(data)
        if length < 126:
            head = struct.pack("!BB", 0x81, 0x80 | length)
        else:
            head = struct.pack("!BBH", 0x81, 0x80 | 126, length)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.sock.sendall(head + mask + masked)

    def receive(self, timeout=10):
        """The next text message (pings are answered, as browsers do)."""
        deadline = time.monotonic() + timeout
        while True:
            frame = self._frame()
            if frame is not None:
                opcode, payload = frame
                if opcode == 0x1:
                    return json.loads(payload)
                if opcode == 0x8:
                    raise ConnectionError("closed by the server")
                if opcode == 0x9:  # ping
                    self._pong(payload)
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            self._fill(left)

    def _frame(self):
        buffer = self.buffer
        if len(buffer) < 2:
            return None
        opcode, length = buffer[0] & 0x0F, buffer[1] & 0x7F
        offset = 2
        if length == 126:
            if len(buffer) < 4:
                return None
            (length,) = struct.unpack("!H", buffer[2:4])
            offset = 4
        elif length == 127:
            if len(buffer) < 10:
                return None
            (length,) = struct.unpack("!Q", buffer[2:10])
            offset = 10
        if len(buffer) < offset + length:
            return None
        payload = buffer[offset : offset + length]
        self.buffer = buffer[offset + length :]
        return opcode, payload

    def _pong(self, payload):
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(struct.pack("!BB", 0x8A, 0x80 | len(payload)) + mask + masked)

    def close(self):
        self.sock.close()
