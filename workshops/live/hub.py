"""Fan-out: deliver each event to the sockets of its workshop.

Each process keeps its own sockets per workshop and delivers to them
directly, with frames encoded once per audience. Between processes (Redis
configured) one message per event crosses the channel layer to each process
that has sockets for the workshop, never one per socket.

A watchdog compares, every few seconds, the sequence number in the database
with the last one this process delivered; if an event went missing between
processes, the workshop's pages are told to resync. Loss is never silent.
"""

import asyncio
import json
import logging
import os
import socket
import sys
import time
import uuid
from collections import defaultdict

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.utils import timezone

from ..models import Audience, group_name
from . import presence
from .wire import wire_frame

logger = logging.getLogger("reciproque.hub")

AUDIENCES = tuple(Audience.values)
WATCHDOG_SECONDS = 5
# A fan-out makes one send() per socket, and each lets go of the GIL. While a
# view renders in its thread, CPython's default 5 ms switch interval makes the
# event loop wait up to that long to get the GIL back after each send: 200
# sockets, up to a second per event (measured: docs/performance.md). At 1 ms
# the loop gets back quickly; the views hardly notice.
SWITCH_INTERVAL = 0.001
# Under load, a room's events are written to each socket together: one
# send() per socket per flush rather than one per event, which is most of
# what a delivery costs. A flush comes at most this long after the room's
# previous one; an event in a quiet room goes out at once.
COALESCE_SECONDS = 0.02


def now_ms():
    return int(time.time() * 1000)


# The key of an event's owners that says they are the current stage's whole owners.
WHOLE_OWNERS = "*"


class Encoded:
    """An event's frames, serialised once per audience.

    `text_for()` gives the JSON text for the ASGI path; `wire_for()` the same
    as a finished websocket frame, built once per audience and shared by every
    socket of that audience (only a post-it's author gets a frame of its own).
    """

    __slots__ = ("seq", "texts", "author", "author_text", "owners", "wires")

    def __init__(self, message):
        self.seq = message["seq"]
        frames = message["frames"]
        stamp = now_ms()

        dumped = {}
        owners = message.get("owners") or {}
        # A whole-region redraw (a stage change) carries the current stage's whole owners
        # (WHOLE_OWNERS): the page replaces what it held as its own, ids of other stages'
        # objects included, rather than adding to it.
        head = {"seq": self.seq, "whole": True} if WHOLE_OWNERS in owners else {"seq": self.seq}

        def dump(html):
            # Audiences often share one fragment (a post-it's is the same for all).
            text = dumped.get(html)
            if text is None:
                text = dumped[html] = json.dumps({**head, "html": html, "now": stamp})
            return text

        self.texts = {aud: dump(frames.get(aud, "")) for aud in AUDIENCES}
        self.author = message.get("author")
        author_html = frames.get("author")
        self.author_text = dump(author_html) if author_html is not None else None
        self.owners = owners
        self.wires = {}

    def text_for(self, audience, participant_id=None):
        if participant_id is None:
            return self.texts[audience]
        if participant_id == self.author and self.author_text is not None:
            text = self.author_text
        else:
            text = self.texts["participant"]
        own = self.owners.get(str(participant_id))
        if own:
            # Splice rather than re-serialise the whole frame per socket.
            text = text[:-1] + ',"own":' + json.dumps(own) + "}"
        return text

    def wire_for(self, audience, participant_id=None):
        if participant_id is not None and (
            participant_id == self.author or str(participant_id) in self.owners
        ):
            return wire_frame(self.text_for(audience, participant_id))
        # Keyed by text: audiences that share a fragment share one frame.
        text = self.texts[audience]
        wire = self.wires.get(text)
        if wire is None:
            wire = self.wires[text] = wire_frame(text)
        return wire


class Hub:
    def __init__(self):
        self.rooms = defaultdict(set)
        self.delivered = {}  # workshop id -> last seq delivered in this process
        self.loop = None
        self.name = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"[:40]
        self.channel = None
        self.tasks = []
        self.relay = bool(getattr(settings, "REDIS_URL", ""))
        self.pending = {}  # workshop id -> [(message, encoded)] waiting for its flush
        self.flushed_at = {}  # workshop id -> loop time of its last delivery

    # Sockets ---------------------------------------------------------------

    async def attach(self, consumer):
        self._bind_loop()
        room = self.rooms[consumer.workshop_id]
        first = not room
        room.add(consumer)
        if self.relay:
            await self._ensure_channel()
            if first:
                await self._group_add(consumer.workshop_id)

    async def detach(self, consumer):
        room = self.rooms.get(consumer.workshop_id)
        if room is None:
            return
        room.discard(consumer)
        if not room:
            del self.rooms[consumer.workshop_id]
            self.delivered.pop(consumer.workshop_id, None)
            self.flushed_at.pop(consumer.workshop_id, None)
            if self.relay and self.channel:
                try:
                    await get_channel_layer().group_discard(
                        group_name(consumer.workshop_id), self.channel
                    )
                except Exception:  # the relay being down must not break a disconnect
                    logger.warning("group_discard failed", exc_info=True)

    def _bind_loop(self):
        loop = asyncio.get_running_loop()
        if sys.getswitchinterval() == 0.005:  # CPython's default, not an operator's choice
            sys.setswitchinterval(SWITCH_INTERVAL)
        if self.loop is not loop:
            self.loop = loop
            self.channel = None
            self.tasks = [loop.create_task(self._watchdog())]

    # Publishing ------------------------------------------------------------

    def publish(self, workshop_id, message):
        """Deliver a committed event; callable from any thread."""
        loop = self.loop
        if loop is not None and not loop.is_closed():
            # Serialise here, in the writer's thread, rather than on the loop
            # that serves every socket.
            encoded = None if "notice" in message else Encoded(message)
            loop.call_soon_threadsafe(self._arrive, workshop_id, message, encoded)
            if self.relay:
                asyncio.run_coroutine_threadsafe(self._send_relay(workshop_id, message), loop)
        elif self.relay:
            # No socket in this process (a management command, say).
            from asgiref.sync import async_to_sync

            async_to_sync(self._send_relay)(workshop_id, message)

    def _arrive(self, workshop_id, message, encoded=None):
        """Deliver now if the room is quiet, else with the room's next flush."""
        pending = self.pending.get(workshop_id)
        if pending is not None:
            pending.append((message, encoded))
            return
        now = self.loop.time()
        due = self.flushed_at.get(workshop_id, 0) + COALESCE_SECONDS
        if now >= due or workshop_id not in self.rooms:
            self.flushed_at[workshop_id] = now
            self._deliver(workshop_id, message, encoded)
            return
        self.pending[workshop_id] = [(message, encoded)]
        self.loop.call_at(due, self._flush, workshop_id)

    def _flush(self, workshop_id):
        items = self.pending.pop(workshop_id, None)
        if not items:
            return
        self.flushed_at[workshop_id] = self.loop.time()
        batch = []
        for message, encoded in items:
            if "notice" in message:  # in order with the events around it
                self._deliver_batch(workshop_id, batch)
                batch = []
                self._deliver(workshop_id, message)
            else:
                batch.append((message, encoded))
        self._deliver_batch(workshop_id, batch)

    def _deliver_batch(self, workshop_id, batch):
        if len(batch) == 1:
            self._deliver(workshop_id, *batch[0])
            return
        room = self.rooms.get(workshop_id)
        if not batch or not room:
            return
        encodeds = [encoded or Encoded(message) for message, encoded in batch]
        last = encodeds[-1].seq
        if last > self.delivered.get(workshop_id, 0):
            self.delivered[workshop_id] = last
        for consumer in list(room):
            consumer.push_many(encodeds)

    def _deliver(self, workshop_id, message, encoded=None):
        """Hand one event to every socket of its workshop in this process.

        One pass, on the event loop, with no task, thread hop or database
        work per socket: each consumer writes the frame shared by its
        audience (see LiveConsumer.push).
        """
        room = self.rooms.get(workshop_id)
        if not room:
            return
        if "notice" in message:
            for consumer in list(room):
                consumer.notice(message)
            return
        seq = message["seq"]
        if seq > self.delivered.get(workshop_id, 0):
            self.delivered[workshop_id] = seq
        if encoded is None:
            encoded = Encoded(message)
        for consumer in list(room):
            consumer.push(encoded)

    # Between processes -----------------------------------------------------

    async def _ensure_channel(self):
        if self.channel is None:
            layer = get_channel_layer()
            self.channel = await layer.new_channel(prefix="hub.")
            self.tasks.append(asyncio.get_running_loop().create_task(self._listen()))

    async def _group_add(self, workshop_id):
        await get_channel_layer().group_add(group_name(workshop_id), self.channel)

    async def _send_relay(self, workshop_id, message):
        try:
            await get_channel_layer().group_send(
                group_name(workshop_id),
                {"type": "hub.relay", "origin": self.name, "workshop": workshop_id, "m": message},
            )
        except Exception:
            # The other processes' watchdogs will see the gap and resync.
            logger.warning("relay send failed for workshop %s", workshop_id, exc_info=True)

    async def _listen(self):
        layer = get_channel_layer()
        failed = False
        while True:
            try:
                msg = await layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if isinstance(error, TimeoutError) or type(error).__name__ == "TimeoutError":
                    # (redis-py's own TimeoutError too.) A busy event loop read
                    # the blocking pop's answer late: not an outage. Resyncing
                    # every page here turned a slow moment into a storm of
                    # snapshots; an event lost that way is the watchdog's.
                    continue
                if not failed:
                    logger.warning("relay receive failed; retrying", exc_info=True)
                failed = True
                await asyncio.sleep(1)
                # A restarted Redis has forgotten the groups, and the blocking pop
                # that reconnects to it answers only when a message comes, which
                # none will until this process is back in its groups: re-join as
                # soon as Redis answers, not at the watchdog's next round.
                if await self._rejoin_and_resync():
                    failed = False
                continue
            if failed:
                # Back after an outage: re-join groups, and have pages catch up.
                failed = False
                await self._rejoin_and_resync()
            if msg.get("origin") != self.name:
                self._arrive(msg["workshop"], msg["m"])

    async def _rejoin_and_resync(self):
        """Re-join every room's group and have its pages catch up; False if Redis is still down."""
        if not self.rooms:
            return False  # nothing to re-join; a room that opens joins its group itself
        for workshop_id in list(self.rooms):
            try:
                await self._group_add(workshop_id)
            except Exception:
                logger.debug("group_add failed on rejoin", exc_info=True)
                return False
        for workshop_id in list(self.rooms):
            self.resync_room(workshop_id)
        return True

    def resync_room(self, workshop_id):
        for consumer in list(self.rooms.get(workshop_id, ())):
            consumer.ask_resync()

    # Watchdog: presence beat and missed events -------------------------------

    async def _watchdog(self):
        behind_since = {}
        while True:
            await asyncio.sleep(WATCHDOG_SECONDS)
            # Sockets that fell behind and were cut off: resync those that drained.
            for room in list(self.rooms.values()):
                for consumer in list(room):
                    consumer.resync_if_caught_up()
            try:
                seqs = await database_sync_to_async(self._beat_and_read)(list(self.rooms))
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("watchdog failed", exc_info=True)
                continue
            for workshop_id, seq in seqs.items():
                if seq > self.delivered.get(workshop_id, 0):
                    # Give in-flight events one round to arrive before resyncing.
                    if behind_since.get(workshop_id) == seq:
                        self.delivered[workshop_id] = seq
                        self.resync_room(workshop_id)
                        behind_since.pop(workshop_id, None)
                    else:
                        behind_since[workshop_id] = seq
                else:
                    behind_since.pop(workshop_id, None)
            if self.relay and self.channel and self.rooms:
                # Refresh group membership before the layer's group expiry.
                for workshop_id in list(self.rooms):
                    try:
                        await self._group_add(workshop_id)
                    except Exception:
                        break

    def _beat_and_read(self, workshop_ids):
        from ..models import ServerProcess, Workshop

        ServerProcess.objects.update_or_create(name=self.name, defaults={"beat_at": timezone.now()})
        # Sockets of processes that died without closing them are not present.
        presence.forget_dead_processes()
        if not workshop_ids:
            return {}
        return dict(Workshop.objects.filter(pk__in=workshop_ids).values_list("pk", "seq"))

    def note_seq(self, workshop_id, seq):
        """A socket caught up to `seq` from the database: the watchdog's start."""
        self.delivered.setdefault(workshop_id, seq)


hub = Hub()
