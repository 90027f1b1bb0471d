"""`make run-cluster`: the scale-out setup on one machine, for trying it and measuring it.

WORKERS Daphne processes (default 2) on consecutive ports after PORT, all on
the DATABASE_URL (PostgreSQL) and REDIS_URL of the environment, behind a small
TCP balancer on PORT that hands each new connection to the next live worker.

The balancer works at the TCP level, so HTTP keep-alive and websocket
upgrades pass through untouched, and it needs no stickiness: any worker can
serve any socket, because events cross between workers through Redis and
every page catches up from the shared event log. It is a stand-in for nginx
on a development machine (docs/deploy.md has the production configuration);
it does not add X-Forwarded-For, so every client looks like 127.0.0.1.

Usage: python bench/cluster.py [--port 8000] [--workers 2] [--bind 0.0.0.0]
"""

import argparse
import asyncio
import contextlib
import itertools
import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DAPHNE = str(Path(sys.executable).with_name("daphne"))


def ensure_database(url):
    """Create the PostgreSQL database named in `url` if it does not exist yet."""
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as db:
        exists = db.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            db.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")


async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


class Balancer:
    def __init__(self, ports):
        self.ports = ports
        self.turn = itertools.cycle(range(len(ports)))

    async def handle(self, client_reader, client_writer):
        for _ in self.ports:  # a worker that refuses is skipped
            port = self.ports[next(self.turn)]
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                break
            except OSError:
                continue
        else:
            client_writer.close()
            return
        await asyncio.gather(pipe(client_reader, writer), pipe(reader, client_writer))


async def serve(bind, port, worker_ports):
    balancer = Balancer(worker_ports)
    server = await asyncio.start_server(balancer.handle, bind, port)
    async with server:
        await server.serve_forever()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WORKERS", 2)))
    parser.add_argument("--bind", default=os.environ.get("BIND", "0.0.0.0"))
    args = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres") or not os.environ.get("REDIS_URL"):
        sys.exit("run-cluster needs DATABASE_URL (PostgreSQL) and REDIS_URL (Redis)")
    ensure_database(database_url)
    env = dict(os.environ)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env,
                   check=True)
    # The workers serve collectstatic's output and refuse to start without it.
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
                   cwd=ROOT, env=env, check=True)
    ports = [args.port + 1 + i for i in range(args.workers)]
    workers = [
        subprocess.Popen(
            # No 24-hour cut-off of live sockets (docs/deploy.md).
            [DAPHNE, "-b", "127.0.0.1", "-p", str(port), "--access-log", os.devnull,
             "--websocket_timeout", "-1", "config.asgi:application"],
            cwd=ROOT,
            env=env,
        )
        for port in ports
    ]
    print(f"{args.workers} workers on 127.0.0.1:{ports[0]}..{ports[-1]}, "
          f"balanced on {args.bind}:{args.port}", flush=True)
    try:
        asyncio.run(serve(args.bind, args.port, ports))
    except KeyboardInterrupt:
        pass
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()


if __name__ == "__main__":
    main()
