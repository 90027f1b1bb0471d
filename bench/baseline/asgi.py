"""A bare Channels consumer that echoes to its group through group_send.

This is the path Channels' tutorial teaches: each receiver's consumer joins
the group; a writer's message is sent to the group with `group_send`, and the
layer hands a copy to every member's channel, whose consumer sends it on.
"""

import json
import os
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.baseline.settings")

import django  # noqa: E402

django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

GROUP = "room"
seq = 0


class EchoConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.writer = self.scope["query_string"] == b"role=writer"
        if not self.writer:
            await self.channel_layer.group_add(GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if not self.writer:
            await self.channel_layer.group_discard(GROUP, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        global seq
        write = json.loads(text_data)
        seq += 1
        frame = json.dumps({"seq": seq, "html": write["html"], "now": int(time.time() * 1000)})
        await self.channel_layer.group_send(GROUP, {"type": "room.message", "text": frame})
        await self.send(text_data=json.dumps({"ack": seq, "w": write["w"]}))

    async def room_message(self, event):
        await self.send(text_data=event["text"])


application = ProtocolTypeRouter(
    {"websocket": URLRouter([path("", EchoConsumer.as_asgi())])}
)
