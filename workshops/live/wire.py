"""Daphne and Twisted, fenced in one module.

Everything else in the spine speaks ASGI. Two things need the server beneath
it: writing a finished websocket frame straight to the connection
(`DaphneWire`), and making sure a stopped server process exits
(`install_exit_net()`, called once by `config/asgi.py`).
"""

import functools
import logging
import os
import struct
import sys
import time

logger = logging.getLogger("reciproque.live")

EXIT_GRACE_SECONDS = 5


def wire_frame(text):
    """A complete server-to-client websocket text frame (servers never mask)."""
    data = text.encode()
    length = len(data)
    if length < 126:
        return bytes((0x81, length)) + data
    if length < 65536:
        return struct.pack("!BBH", 0x81, 126, length) + data
    return struct.pack("!BBQ", 0x81, 127, length) + data


try:
    from daphne.ws_protocol import WebSocketProtocol as DaphneProtocol
except ImportError:  # another ASGI server: every frame goes through ASGI send
    DaphneProtocol = None


class DaphneWire:
    """The Daphne connection beneath a socket's ASGI `send`, for finished frames.

    Sending one event to hundreds of sockets through ASGI `send` costs, per
    socket, a chain of coroutines, a message dict, a UTF-8 encoding and
    autobahn's framing, the same work redone for identical bytes. The hub
    builds each audience's websocket frame once (`Encoded.wire_for`); this
    writes it to the connection's transport, in order with everything sent
    through ASGI, which on Daphne also ends in a synchronous transport write.
    Catch-up frames go this way too (a snapshot may be larger than what
    autobahn lets ASGI send). Accepting and closing still go through ASGI.

    On a plain TCP connection with nothing already waiting in Twisted's
    buffer, the frame goes straight to the socket, as an asyncio transport
    would do it: handing it to Twisted instead costs two epoll updates per
    socket per event (register for writing, then unregister), which was most
    of what a delivery cost. Whatever the kernel does not take at once, and
    everything on TLS connections, goes through `transport.write`.
    """

    __slots__ = ("protocol", "socket")

    def __init__(self, protocol):
        self.protocol = protocol
        transport = protocol.transport
        plain = getattr(transport, "TLS", True) is False and all(
            hasattr(transport, name) for name in ("socket", "dataBuffer", "offset", "_tempDataLen")
        )
        self.socket = transport.socket if plain else None

    @classmethod
    def under(cls, send):
        """The wire beneath an ASGI send callable, or None if it is not Daphne's."""
        if DaphneProtocol is None:
            return None
        for _ in range(8):  # Daphne's partial, wrapped by Channels' session middleware
            if isinstance(send, functools.partial):
                for arg in send.args:
                    if isinstance(arg, DaphneProtocol):
                        return cls(arg)
                send = send.func
            else:
                send = getattr(getattr(send, "__self__", None), "real_send", None)
            if send is None:
                return None
        return None

    def usable(self):
        protocol = self.protocol
        # autobahn's own send queue is only used for chopped or synchronous
        # writes, which Daphne never asks for; if it ever holds anything,
        # go through ASGI so as not to overtake it.
        return not protocol.send_queue

    def write(self, frame):
        protocol = self.protocol
        if protocol.state != protocol.STATE_OPEN:
            return  # closing: the page catches up when it reconnects
        transport = protocol.transport
        sock = self.socket
        if (
            sock is not None
            and transport.connected
            and not transport.disconnecting
            and not transport._tempDataLen
            and len(transport.dataBuffer) == transport.offset
        ):
            try:
                sent = sock.send(frame)
            except OSError:
                sent = 0  # full, or broken: Twisted finds out and handles it
            if sent == len(frame):
                return
            frame = frame[sent:]
        transport.write(frame)

    def buffered(self):
        """Bytes written but not yet taken by the kernel (Twisted keeps them)."""
        transport = self.protocol.transport
        try:
            return len(transport.dataBuffer) - transport.offset + transport._tempDataLen
        except AttributeError:
            return 0


def exit_soon_after_shutdown(grace=EXIT_GRACE_SECONDS):
    """Make sure a stopped server process exits.

    With Django's stock ASGI handler, a request caught by the stop between a
    sync-only middleware and the async ones below it waited, in its thread, on
    an event loop that had stopped; the interpreter then waited for that
    thread forever, and SIGTERM under writes left Daphne running
    (tests/faults/test_restart.py). workshops/live/asgi.py no longer crosses back
    to the loop inside a request; this stays as the net for any thread that
    would still hold a stopped server up. Not waiting loses nothing: such a
    request has not been answered, so the page sends it again, with its op id.
    """
    import threading

    def exit_now():
        time.sleep(grace)
        logger.warning("still running %s s after the server stopped: exiting", grace)
        os._exit(0)

    threading.Thread(target=exit_now, name="exit-after-shutdown", daemon=True).start()


def install_exit_net():
    """In a Daphne process, exit soon after the reactor shuts down.

    The reactor is installed before the application is imported; elsewhere
    (tests, management commands) there is no reactor and nothing is done.
    Returns whether the net was installed.
    """
    reactor = sys.modules.get("twisted.internet.reactor")
    if reactor is None:
        return False
    reactor.addSystemEventTrigger("after", "shutdown", exit_soon_after_shutdown)
    return True
