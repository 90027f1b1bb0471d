"""The live-sync spine, in one room.

- `write`: the one action path. Every accepted write goes through
  `room_write()` and `emit()`, which append to the event log.
- `regions`: what a page's regions look like, drawn the same way for a push
  and for a snapshot.
- `hub`: one per process; it fans each committed event out to the sockets of
  its workshop and watches that none is missed.
- `wire`: Daphne and Twisted details, fenced here: finished websocket frames
  written to the connection, and the net that makes a stopped server exit.
- `consumer`: a page's websocket. It only joins, replays and relays.
- `asgi`, `routing`: Django's HTTP handler for Daphne and the websocket URL.
- `presence`: who is connected, across processes.

Arrows point inward: stage apps import `workshops.live.write`; nothing here
imports a stage app. Importing this package loads nothing (Daphne imports the
ASGI handler before Django is set up).
"""
