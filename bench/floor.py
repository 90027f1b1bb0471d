"""The floor: a minimal raw `websockets` broadcast server.

Receivers connect to /; writers connect to /?role=writer and send
{"w": id, "html": ...}. Each write gets the next sequence number and is
encoded once, broadcast to every receiver with `websockets.broadcast`, and
acknowledged to its writer. No framework, no database: what a broadcast costs
in Python when nothing else happens.

Usage: python bench/floor.py PORT
"""

import asyncio
import json
import sys
import time

from websockets.asyncio.server import broadcast, serve

receivers = set()
seq = 0


async def handler(connection):
    global seq
    if connection.request.path.endswith("role=writer"):
        async for text in connection:
            write = json.loads(text)
            seq += 1
            frame = json.dumps(
                {"seq": seq, "html": write["html"], "now": int(time.time() * 1000)}
            )
            broadcast(receivers, frame)
            await connection.send(json.dumps({"ack": seq, "w": write["w"]}))
        return
    receivers.add(connection)
    try:
        await connection.wait_closed()
    finally:
        receivers.discard(connection)


async def main(port):
    # No permessage-deflate: the other two servers do not compress either.
    async with serve(handler, "127.0.0.1", port, compression=None, max_queue=None):
        await asyncio.get_running_loop().create_future()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
