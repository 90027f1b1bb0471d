"""The live page's websocket: it joins, replays and relays. No business logic."""

import asyncio
import json
import logging
import time
from collections import deque
from urllib.parse import parse_qs, urlsplit

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from ..access import participant_id_in_session
from ..models import Event, Participant, Workshop
from . import presence
from .hub import Encoded, hub, now_ms
from .regions import render_snapshot
from .wire import DaphneWire, wire_frame

logger = logging.getLogger("reciproque.live")

MAX_FRAME = 4096  # a page only ever sends small control messages
CLOSE_FORBIDDEN = 4403
CLOSE_REMOVED = 4001
# At most one replay or snapshot per socket per this many seconds.
HELLO_INTERVAL = 1.0
RESYNC = json.dumps({"type": "resync"})
RESYNC_WIRE = wire_frame(RESYNC)


def same_origin(scope):
    """Cross-site websocket hijacking guard: Origin must be this very host."""
    headers = dict(scope.get("headers") or [])
    origin = headers.get(b"origin", b"").decode("latin-1")
    host = headers.get(b"host", b"").decode("latin-1")
    if not origin or not host:
        return False
    parsed = urlsplit(origin)
    if parsed.scheme not in ("http", "https"):
        return False
    if parsed.netloc.lower() == host.lower():
        return True
    return origin in settings.CSRF_TRUSTED_ORIGINS


class LiveConsumer(AsyncWebsocketConsumer):
    # No channel-layer channel per socket: the hub fans out in-process and
    # uses the layer once per process (a per-socket BLPOP would not scale).
    channel_layer_alias = None

    workshop_id = None
    participant_id = None
    audience = None

    # websocket events ------------------------------------------------------

    async def connect(self):
        if not same_origin(self.scope):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.workshop_id = int(self.scope["url_route"]["kwargs"]["workshop_id"])
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        requested = (query.get("role") or ["participant"])[0]
        resolved = await database_sync_to_async(self._resolve_role)(requested)
        if resolved is None:
            # Accept, then close: a refused handshake reaches the page as a
            # bare 1006, while 4403 tells it to stop and say why.
            await self.accept()
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.start(*resolved, settings.RECIPROQUE["SOCKET_QUEUE_LIMIT"])
        self.wire = DaphneWire.under(self.base_send)
        await self.accept()
        await hub.attach(self)
        self.connection_id = await database_sync_to_async(presence.opened)(
            self.workshop_id, self.participant_id, self.audience, hub.name
        )

    def start(self, audience, participant_id, language, queue_limit, wire=None):
        """The socket's state once it is known who it is: the one place it is set.

        `connect()` calls it; so does the sync fuzz, which drives the consumer
        without a server.
        """
        self.audience, self.participant_id, self.language = audience, participant_id, language
        # Until the page says where it is (hello), live frames wait here.
        self.catching_up = True
        self.waiting = deque()
        self.waiting_bytes = 0
        self.outbox = deque()
        self.draining = False
        self.connection_id = None
        self.queue_limit = queue_limit
        # A phone that stops reading must not make the server hold its frames
        # without bound: past this much unsent data it is told to resync.
        self.lag_bytes = queue_limit * 1024
        self.lagging = False
        self.wire = wire

    async def disconnect(self, code):
        if self.workshop_id is None or self.audience is None:
            return
        await hub.detach(self)
        if self.connection_id:
            await database_sync_to_async(presence.closed)(self.connection_id)

    async def receive(self, text_data=None, bytes_data=None):
        if text_data is None or len(text_data) > MAX_FRAME:
            await self._error("frame")
            return
        try:
            data = json.loads(text_data)
        except (ValueError, RecursionError):  # [[[[…]]]] is a RecursionError
            await self._error("json")
            return
        if not isinstance(data, dict):
            await self._error("json")
            return
        kind = data.get("type")
        if kind == "hello":
            last_seq = data.get("last_seq")
            if not isinstance(last_seq, int) or isinstance(last_seq, bool):
                last_seq = -1
            await self._hello(last_seq)
        elif kind == "ping":
            await self.send(text_data=json.dumps({"type": "pong", "now": now_ms()}))
        else:
            await self._error("type")

    # layer events (called by the hub, on the event loop) -----------------------

    def push(self, encoded: Encoded):
        if self.catching_up:
            text = encoded.text_for(self.audience, self.participant_id)
            self.waiting.append((encoded.seq, text))
            self.waiting_bytes += len(text)
            # Bounded in bytes too: an author's frames are its own copies, and a
            # socket that never says hello would keep them all.
            if len(self.waiting) > self.queue_limit or self.waiting_bytes > self.lag_bytes:
                # Too far behind: drop what waits, the page gets a snapshot.
                self.waiting.clear()
                self.waiting.append((None, None))
                self.waiting_bytes = 0
            return
        wire = self._open_wire()
        if wire is not None:
            self._write(wire, encoded.wire_for(self.audience, self.participant_id))
        else:
            self._send_soon(encoded.text_for(self.audience, self.participant_id))

    def push_many(self, encodeds):
        """Several events at once (the hub's flush): one write if it keeps up."""
        wire = self._open_wire()
        if self.catching_up or wire is None:
            for encoded in encodeds:
                self.push(encoded)
            return
        audience, participant_id = self.audience, self.participant_id
        self._write(wire, b"".join([e.wire_for(audience, participant_id) for e in encodeds]))

    def notice(self, message):
        if message.get("notice") == "removed" and message.get("participant") == self.participant_id:
            self._send_soon(json.dumps({"type": "removed"}))
            self._send_soon(CLOSE_REMOVED)

    def ask_resync(self):
        self._send_soon(RESYNC)

    def resync_if_caught_up(self):
        """A socket that was lagging and has drained is told to catch up (watchdog)."""
        if self.lagging and self.wire is not None and not self.catching_up:
            self._write(self.wire, None)

    # helpers -----------------------------------------------------------------

    def _open_wire(self):
        """The Daphne connection, if a finished frame may go straight to it now
        (nothing queued through ASGI that it would overtake), else None."""
        wire = self.wire
        if wire is not None and not self.outbox and wire.usable():
            return wire
        return None

    def _write(self, wire, frame):
        """Write a finished frame, unless the phone has stopped reading."""
        backlog = wire.buffered()
        if self.lagging:
            if backlog > self.lag_bytes // 4:
                return  # still behind; what it misses now it catches up on
            self.lagging = False
            wire.write(RESYNC_WIRE)
        elif backlog > self.lag_bytes:
            # Shed load by telling the page to resync once it has drained,
            # never by losing frames silently.
            self.lagging = True
            return
        if frame is not None:
            wire.write(frame)

    def _send_soon(self, item):
        """Queue a frame (or a close code) for this socket, in order."""
        wire = self._open_wire() if isinstance(item, str) else None
        if wire is not None:
            self._write(wire, wire_frame(item))
            return
        outbox = self.outbox
        outbox.append(item)
        if len(outbox) > self.queue_limit:
            # The socket is not keeping up: rather than grow without bound,
            # drop what waits and have the page catch up from the log.
            outbox.clear()
            outbox.append(RESYNC)
        if not self.draining:
            self.draining = True
            asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self):
        try:
            while self.outbox:
                item = self.outbox.popleft()
                if isinstance(item, int):
                    self.outbox.clear()
                    await self.close(code=item)
                    return
                await self.send(text_data=item)
        except Exception:
            # The socket went away mid-send: nothing to deliver to any more;
            # the page catches up from the log when it reconnects.
            self.outbox.clear()
        finally:
            self.draining = False

    async def _error(self, code):
        await self.send(text_data=json.dumps({"type": "error", "code": code}))

    async def _hello(self, last_seq):
        """Catch up now, or fold hellos that come faster than HELLO_INTERVAL into one.

        A replay or a snapshot costs the server real work; a page that says
        hello in a loop must not be able to keep a core busy.
        """
        wait = getattr(self, "next_catch_up", 0) - time.monotonic()
        if wait <= 0:
            await self._catch_up(last_seq)
            return
        self.deferred_seq = last_seq
        if not getattr(self, "deferred", False):
            self.deferred = True
            asyncio.get_running_loop().call_later(
                wait, lambda: asyncio.ensure_future(self._deferred_catch_up())
            )

    async def _deferred_catch_up(self):
        self.deferred = False
        try:
            await self._catch_up(self.deferred_seq)
        except Exception:  # the socket closed meanwhile: it will say hello again
            logger.debug("deferred catch-up failed", exc_info=True)

    async def _catch_up(self, last_seq):
        async with self._catch_up_lock():
            await self._catch_up_locked(last_seq)
        self.next_catch_up = time.monotonic() + HELLO_INTERVAL

    def _catch_up_lock(self):
        if getattr(self, "catch_up_lock", None) is None:
            self.catch_up_lock = asyncio.Lock()
        return self.catch_up_lock

    async def _catch_up_locked(self, last_seq):
        self.catching_up = True
        if self.wire is not None and self.wire.buffered() > self.lag_bytes:
            # It has not read what it was already sent: a catch-up (a snapshot
            # rendered for it alone) would pile up too. It is told to resync
            # once it has drained (see _write), and says hello then.
            self.waiting.clear()
            self.waiting_bytes = 0
            self.catching_up = False
            self.lagging = True
            return
        frames, seq = await database_sync_to_async(self._missed)(last_seq)
        for text in frames:
            await self._send_catch_up(text)
        hub.note_seq(self.workshop_id, seq)
        waiting, self.waiting = self.waiting, deque()
        self.waiting_bytes = 0
        self.catching_up = False
        if any(s is None for s, _ in waiting):
            await self._catch_up_locked(seq)
            return
        for s, text in waiting:
            if s > seq:
                await self._send_catch_up(text)

    async def _send_catch_up(self, text):
        """A catch-up frame: on Daphne, a finished frame on the connection, as live ones go.

        Through ASGI, autobahn refuses a message larger than Daphne's
        --websocket-max-message-size (1 MiB by default, also the limit on what
        pages send): the snapshot of a big board crashed the consumer (1011),
        and the page, reconnecting, never caught up (tests/faults/test_big_snapshot.py).
        """
        wire = self._open_wire()
        if wire is not None:
            wire.write(wire_frame(text))
        else:
            await self.send(text_data=text)

    # database work (never on the relay path) -----------------------------------

    def _resolve_role(self, requested):
        workshop = Workshop.objects.filter(pk=self.workshop_id).first()
        if workshop is None:
            return None
        user = self.scope.get("user")
        if requested in ("facilitator", "projector"):
            if user is not None and user.is_authenticated and user.pk == workshop.facilitator_id:
                return requested, None, workshop.language
            return None
        participant_id = participant_id_in_session(self.scope["session"], workshop.pk)
        if participant_id is None:
            return None
        if not Participant.objects.active().filter(pk=participant_id, workshop=workshop).exists():
            return None
        return "participant", participant_id, workshop.language

    def _missed(self, last_seq):
        """Frames to bring a page from `last_seq` to now: a replay or a snapshot."""
        workshop = Workshop.objects.select_related("current_stage").get(pk=self.workshop_id)
        seq = workshop.seq
        if last_seq == seq:
            return [json.dumps({"type": "synced", "seq": seq, "now": now_ms()})], seq
        gap = seq - last_seq
        if 0 < last_seq < seq and gap <= settings.RECIPROQUE["REPLAY_LIMIT"]:
            events = list(
                Event.objects.filter(workshop_id=workshop.pk, seq__gt=last_seq)
                .order_by("seq")
                .values("seq", "frames", "participant_id", "owners")
            )
            if len(events) == gap:
                synced = json.dumps({"type": "synced", "seq": seq, "now": now_ms()})
                return [
                    Encoded(
                        {
                            "seq": e["seq"],
                            "frames": e["frames"],
                            "author": e["participant_id"],
                            "owners": e["owners"],
                        }
                    ).text_for(self.audience, self.participant_id)
                    for e in events
                ] + [synced], seq
        return [self._snapshot(workshop)], seq

    def _snapshot(self, workshop):
        participant = None
        if self.participant_id is not None:
            participant = Participant.objects.filter(pk=self.participant_id).first()
        html, own = render_snapshot(workshop, self.audience, participant)
        return json.dumps(
            {"type": "snapshot", "seq": workshop.seq, "html": html, "own": own, "now": now_ms()}
        )
