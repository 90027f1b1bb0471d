"""`make bench`: the fan-out benchmark, three servers under the same load in one run.

(a) floor:    a minimal raw `websockets` broadcast server (bench/floor.py);
(b) channels: a bare Channels consumer echoing to its group with group_send,
              on Daphne, with the default in-memory layer (bench/baseline/);
(c) app:      Réciproque itself on one Daphne process (SQLite, the embedded
              default): N participants who joined through the real join flow
              hold the live page's websocket (/ws/w/<id>/, Origin + session
              cookie, hello/resync/snapshot as static/js/live.js speaks it);
              W of them post post-its through the real HTTP write path (CSRF
              header, session, op_id) at an aggregate rate of R writes/s.

Plus a burst of 500 writes as fast as W writers can send them, and, when
PostgreSQL and Redis answer, N=1,000 phones split across two Daphne workers.
First of all, a participant's first load in bytes (bench/page_weight.py).

Each server runs pinned to one core, the load generator (this process) to the
other. Latency is from the moment a write was due (open loop: a slow server
does not slow the schedule down) to the moment each receiver got it. A
delivery counts by sequence number: a page told to resync that catches up
from the log, or gets a snapshot, has not lost what it caught up on.

Results: a table on stdout and bench/results/latest.json (see docs/performance.md).
"""

import argparse
import asyncio
import contextlib
import gc
import json
import os
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import page_weight  # noqa: E402
from bench.wsclient import Phone, open_socket  # noqa: E402

PYTHON = sys.executable
DAPHNE = str(Path(sys.executable).with_name("daphne"))
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_SIZE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
TAG_RE = re.compile(r"\[b(\d+):(\d+)\]")
POSTIT_TEXT = "Mieux nous coordonner avec le service achats avant chaque commande"


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def reachable(url, default_port):
    parts = urlsplit(url)
    try:
        address = (parts.hostname or "127.0.0.1", parts.port or default_port)
        with socket.create_connection(address, 2):
            return True, ""
    except OSError as error:
        return False, f"{parts.scheme} at {parts.hostname}:{parts.port or default_port}: {error}"


# Server processes -------------------------------------------------------------------


class Server:
    """A server process pinned to `cpus`, with its own CPU and memory accounting."""

    def __init__(self, name, argv, env, port, cpus, log_dir):
        self.name = name
        self.port = port
        self.log_path = Path(log_dir) / f"{name}-{port}.log"
        self.argv, self.env, self.cpus = argv, env, cpus
        self.start()

    def start(self):
        cpus = self.cpus
        pin = (lambda: os.sched_setaffinity(0, cpus)) if cpus else None
        self.process = subprocess.Popen(
            self.argv,
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=self.log_path.open("a"),
            preexec_fn=pin,
        )
        self._wait_listening()

    def _wait_listening(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.log()[-3000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), 0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not start:\n{self.log()[-3000:]}")

    def log(self):
        return self.log_path.read_text() if self.log_path.exists() else ""

    def cpu_seconds(self):
        """utime + stime of the process, all its threads, from the kernel."""
        with open(f"/proc/{self.process.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def rss_kb(self):
        with open(f"/proc/{self.process.pid}/statm") as f:
            return int(f.read().split()[1]) * PAGE_SIZE_KB

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def daphne(name, module, env, cpus, log_dir):
    port = free_port()
    argv = [DAPHNE, "-b", "127.0.0.1", "-p", str(port), module]
    return Server(name, argv, env, port, cpus, log_dir)


# Targets: how each server is written to and read from -------------------------------


class PlainTarget:
    """The floor and the Channels baseline: writers are websockets, writes are acked."""

    kind = "plain"

    def __init__(self, servers, html_size):
        self.servers = servers
        self.html = ("<article class='postit'>" + "x" * max(0, html_size - 34) + "</article>")
        self.writers = []
        self.acks = {}

    async def open_receivers(self, n):
        port = self.servers[0].port
        return await gather_limited(
            [lambda: open_socket("127.0.0.1", port, "/") for _ in range(n)], 50
        )

    async def open_writers(self, w):
        for socket_ in self.writers:
            socket_.close()
        port = self.servers[0].port
        self.writers = [
            await open_socket("127.0.0.1", port, "/?role=writer") for _ in range(w)
        ]
        for socket_ in self.writers:
            socket_.on_text = self._ack

    def _ack(self, message):
        future = self.acks.pop(message["w"], None)
        if future is not None and not future.done():
            future.set_result(message["ack"])

    async def write(self, writer, write_id, tag):
        future = asyncio.get_running_loop().create_future()
        self.acks[write_id] = future
        self.writers[writer].send_text(json.dumps({"w": write_id, "html": self.html}))
        seq = await asyncio.wait_for(future, 30)
        return True, seq

    async def start_seq(self):
        return None

    async def seqs_to_writes(self, start, acked, tag):
        return {seq: write_id for write_id, seq in acked.items()}

    def close(self):
        for socket_ in self.writers:
            socket_.close()


class AppTarget:
    """Réciproque: phones that joined over HTTP, the live socket, the real write path."""

    kind = "app"

    def __init__(self, servers, database, workshop_id, token, stage_id, column):
        self.servers = servers
        self.database = database
        self.workshop_id = workshop_id
        self.token = token
        self.stage_id = stage_id
        self.column = column
        self.phones = []
        self.writers = []

    async def join(self, count):
        """`count` phones join, spread over the servers, through the join page."""

        async def one(i):
            server = self.servers[i % len(self.servers)]
            phone = Phone("127.0.0.1", server.port)
            landed = await phone.join(self.token, f"Participant {i + 1}", "agent")
            if not landed.endswith(f"/w/{self.workshop_id}/"):
                raise RuntimeError(f"joined to {landed}")
            return phone

        start = len(self.phones)
        self.phones += await gather_limited(
            [lambda i=i: one(i) for i in range(start, count)], 10
        )

    async def open_receivers(self, n):
        seq = await self.start_seq()
        path = f"/ws/w/{self.workshop_id}/"

        async def one(phone):
            socket_ = await open_socket(
                "127.0.0.1", phone.port, path, phone.socket_headers(), mode="app"
            )
            socket_.last = seq
            socket_.hello()
            await asyncio.wait_for(socket_.synced.wait(), 30)
            return socket_

        return await gather_limited([lambda p=p: one(p) for p in self.phones[:n]], 20)

    async def open_writers(self, w):
        self.writers = self.phones[:w]

    async def write(self, writer, write_id, tag):
        phone = self.writers[writer]
        status, _headers, body = await phone.request(
            "POST",
            f"/w/{self.workshop_id}/stages/{self.stage_id}/postits/",
            {
                "text": f"[b{tag}:{write_id}] {POSTIT_TEXT}",
                "column": self.column,
                "op_id": secrets.token_hex(16),
            },
        )
        if status != 200:
            log(f"  write {write_id} refused: {status} {body[:200]!r}")
        return status == 200, None

    async def start_seq(self):
        return await asyncio.to_thread(self.database.seq, self.workshop_id)

    async def seqs_to_writes(self, start, acked, tag):
        events = await asyncio.to_thread(self.database.events, self.workshop_id, start)
        mapping = {}
        for seq, text in events:
            match = TAG_RE.search(text or "")
            if match and int(match.group(1)) == tag:
                mapping[seq] = int(match.group(2))
            else:
                mapping[seq] = None  # someone else's event: delivered, not timed
        return mapping

    def close(self):
        for phone in self.phones:
            phone.http.close()


class SqliteDatabase:
    def __init__(self, path):
        self.path = path

    def _query(self, sql, args):
        with contextlib.closing(sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)) as db:
            return db.execute(sql, args).fetchall()

    def seq(self, workshop_id):
        return self._query("SELECT seq FROM workshops_workshop WHERE id = ?", (workshop_id,))[0][0]

    def events(self, workshop_id, after):
        rows = self._query(
            "SELECT seq, payload FROM workshops_event WHERE workshop_id = ? AND seq > ?",
            (workshop_id, after),
        )
        return [(seq, json.loads(payload).get("text")) for seq, payload in rows]


class PostgresDatabase:
    def __init__(self, url):
        self.url = url

    def _query(self, sql, args):
        import psycopg

        with psycopg.connect(self.url) as db:
            return db.execute(sql, args).fetchall()

    def seq(self, workshop_id):
        return self._query("SELECT seq FROM workshops_workshop WHERE id = %s", (workshop_id,))[0][0]

    def events(self, workshop_id, after):
        rows = self._query(
            "SELECT seq, payload FROM workshops_event WHERE workshop_id = %s AND seq > %s",
            (workshop_id, after),
        )
        return [(seq, (payload or {}).get("text")) for seq, payload in rows]


async def gather_limited(factories, limit):
    semaphore = asyncio.Semaphore(limit)

    async def run(factory):
        async with semaphore:
            return await factory()

    return await asyncio.gather(*(run(f) for f in factories))


# One case ---------------------------------------------------------------------------


_tags = iter(range(1, 1_000_000))


async def run_case(target, receivers, writers, rate, duration, burst=0, drain_timeout=20.0):
    """Writes at `rate`/s for `duration` s (or `burst` writes flat out); what arrived."""
    tag = next(_tags)
    count = burst or max(1, round(rate * duration))
    start_seq = await target.start_seq()
    due = {}
    acked = {}
    accepted = 0
    queue = asyncio.Queue()
    cpu_before = sum(s.cpu_seconds() for s in target.servers)
    t0 = time.perf_counter()

    async def feed():
        for write_id in range(count):
            if not burst:
                delay = t0 + write_id / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            queue.put_nowait((write_id, t0 + write_id / rate if not burst else None))
        for _ in range(writers):
            queue.put_nowait(None)

    async def write(writer):
        nonlocal accepted
        while (item := await queue.get()) is not None:
            write_id, when = item
            due[write_id] = when if when is not None else time.perf_counter()
            ok, seq = await target.write(writer, write_id, tag)
            if ok:
                accepted += 1
                if seq is not None:
                    acked[write_id] = seq

    await asyncio.gather(feed(), *(write(w) for w in range(writers)))
    writes_done = time.perf_counter()

    if target.kind == "app":
        end_seq = await target.start_seq()
        expected = range(start_seq + 1, end_seq + 1)
    else:
        expected = sorted(acked.values())

    # Wait until every receiver has everything, or nothing arrives for a while.
    deadline = writes_done + drain_timeout
    quiet_since = time.perf_counter()
    last_total = -1
    pending = list(receivers)
    while pending and time.perf_counter() < deadline:
        if target.kind == "app":
            top = expected[-1] if expected else 0
            pending = [r for r in pending if r.last < top]
        else:
            pending = [r for r in pending if any(s not in r.received for s in expected)]
        if not pending:
            break
        total = sum(r.frames for r in receivers)
        if total != last_total:
            last_total, quiet_since = total, time.perf_counter()
        elif time.perf_counter() - quiet_since > (3.0 if target.kind == "plain" else 8.0):
            break  # nothing more is coming
        await asyncio.sleep(0.1)
    cpu_after = sum(s.cpu_seconds() for s in target.servers)

    seq_to_write = await target.seqs_to_writes(start_seq, acked, tag)
    latencies = []
    delivered = 0
    last_arrival = t0
    for r in receivers:
        received = r.received
        for seq in expected:
            arrived = received.get(seq)
            if arrived is None:
                continue
            delivered += 1
            if arrived > last_arrival:
                last_arrival = arrived
            write_id = seq_to_write.get(seq)
            if write_id is not None:
                latencies.append(arrived - due[write_id])
    lost = len(expected) * len(receivers) - delivered
    latencies.sort()

    def pct(p):
        if not latencies:
            return None
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 1)

    span = max(last_arrival - t0, 1e-6)
    cpu = cpu_after - cpu_before
    return {
        "writes": count,
        "accepted": accepted,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "max_ms": round(latencies[-1] * 1000, 1) if latencies else None,
        "lost": lost,
        "deliveries": delivered,
        "deliveries_per_s": round(delivered / span),
        "cpu_s": round(cpu, 2),
        "cpu_us_per_delivery": round(cpu / delivered * 1e6, 1) if delivered else None,
        "writes_per_s": round(accepted / max(writes_done - t0, 1e-6), 1),
        "resyncs": sum(getattr(r, "resyncs", 0) for r in receivers),
        "snapshots": sum(getattr(r, "snapshots", 0) for r in receivers),
        "frame_bytes": round(
            sum(r.bytes for r in receivers) / max(1, sum(r.frames for r in receivers))
        ),
    }


async def settle(receivers, quiet=0.5, timeout=10.0):
    """Let a backlog from the previous case finish arriving before the next."""
    deadline = time.perf_counter() + timeout
    last = -1
    while time.perf_counter() < deadline:
        total = sum(r.frames for r in receivers)
        if total == last:
            return
        last = total
        await asyncio.sleep(quiet)


async def run_server(name, target, plan, rows):
    """Every case of `plan` against one target; rows appended as they finish."""
    servers = target.servers
    for n in plan.ns:
        # A fresh process per N, so that memory freed by the previous group's
        # sockets does not hide what these ones cost; one socket warms it up.
        for server in servers:
            server.stop()
            server.start()
        for r in await target.open_receivers(1):
            r.close()
        await asyncio.sleep(1.0)
        rss_before = sum(s.rss_kb() for s in servers)
        receivers = await target.open_receivers(n)
        await asyncio.sleep(1.0)
        rss_per_conn = round((sum(s.rss_kb() for s in servers) - rss_before) / n, 1)
        writers = min(n, plan.writers)
        await target.open_writers(writers)
        cases = [(rate, 0) for rate in plan.rates]
        if plan.burst and n == max(plan.ns):
            cases.append((None, plan.burst))
        for rate, burst in cases:
            await settle(receivers)
            result = await run_case(target, receivers, writers, rate, plan.duration, burst)
            row = {
                "server": name,
                "n": n,
                "rate": "burst" if burst else rate,
                **({"burst": True} if burst else {}),
                "rss_kb_per_conn": rss_per_conn,
                "w": writers,
                **result,
            }
            rows.append(row)
            log("  " + format_row(row))
        for r in receivers:
            r.close()
        await asyncio.sleep(0.5)


# The three servers --------------------------------------------------------------------


SETUP_WORKSHOP = """
from django.contrib.auth import get_user_model
from journeys.kinds import columns_of
from workshops import actions
user = get_user_model().objects.create_user("bench", password="bench-pw-123456")
w = actions.create_workshop(facilitator=user, method_key="diagnostic", title="Banc", language="fr")
column = columns_of(w.current_stage)[0]["key"]
print("WORKSHOP", w.pk, w.join_token, w.current_stage_id, column)
"""


def manage(env, *args):
    result = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=300,
    )
    if result.returncode:
        raise RuntimeError(f"manage.py {args[0]} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def app_env(var_dir, **extra):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        RECIPROQUE_VAR_DIR=str(var_dir),
        SECRET_KEY=secrets.token_urlsafe(40),
        DEBUG="0",
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="config.settings",
        # Hundreds of phones, all from 127.0.0.1, each writing faster than a person:
        # the write rate limits (workshops/ratelimit.py) would throttle the load itself.
        RATE_LIMIT_PER_ADDRESS="1000000",
        RATE_LIMIT_PER_PARTICIPANT="1000000",
        **extra,
    )
    return env


def prepare_app(env):
    manage(env, "migrate", "--noinput")
    out = manage(env, "shell", "-c", SETUP_WORKSHOP)
    _, pk, token, stage, column = re.search(r"WORKSHOP \d+ \S+ \d+ \S+", out).group(0).split()
    return int(pk), token, int(stage), column


async def bench_app(plan, cpus, work, rows):
    var_dir = Path(work) / "app"
    env = app_env(var_dir)
    workshop_id, token, stage_id, column = prepare_app(env)
    server = daphne("app", "config.asgi:application", env, cpus, work)
    try:
        database = SqliteDatabase(var_dir / "reciproque.sqlite3")
        target = AppTarget([server], database, workshop_id, token, stage_id, column)
        log(f"app: {max(plan.ns)} phones join over HTTP")
        await target.join(max(plan.ns))
        await run_server("app", target, plan, rows)
        target.close()
    finally:
        server.stop()
        check_log(server)


async def bench_plain(name, plan, cpus, work, rows, html_size):
    if name == "floor":
        port = free_port()
        server = Server(
            "floor", [PYTHON, str(ROOT / "bench" / "floor.py"), str(port)], dict(os.environ),
            port, cpus, work,
        )
    else:
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.baseline.settings"}
        server = daphne("channels", "bench.baseline.asgi:application", env, cpus, work)
    try:
        target = PlainTarget([server], html_size)
        await run_server(name, target, plan, rows)
        target.close()
    finally:
        server.stop()


async def bench_cluster(plan, work, rows):
    """N=1,000 phones on two Daphne workers sharing PostgreSQL and Redis."""
    pg_url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/6")
    for url, port in ((pg_url, 5432), (redis_url, 6379)):
        ok, reason = reachable(url, port)
        if not ok:
            return f"SKIPPED cluster case (N={plan.cluster_n}, 2 workers): {reason}"
    try:
        import psycopg
    except ImportError:
        return "SKIPPED cluster case: psycopg is not installed"
    name = f"reciproque_bench_{secrets.token_hex(4)}"
    parts = urlsplit(pg_url)
    database_url = urlunsplit(parts._replace(path=f"/{name}"))
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    workers = []
    try:
        env = app_env(Path(work) / "cluster", DATABASE_URL=database_url, REDIS_URL=redis_url)
        workshop_id, token, stage_id, column = prepare_app(env)
        cores = sorted(os.sched_getaffinity(0))
        for i in range(2):
            pin = {cores[i % len(cores)]} if len(cores) > 1 else None
            workers.append(daphne(f"worker{i + 1}", "config.asgi:application", env, pin, work))
        target = AppTarget(
            workers, PostgresDatabase(database_url), workshop_id, token, stage_id, column
        )
        log(f"cluster: {plan.cluster_n} phones join over HTTP, alternating workers")
        await target.join(plan.cluster_n)
        cluster_plan = argparse.Namespace(
            ns=[plan.cluster_n], rates=[plan.cluster_rate], duration=plan.duration, burst=0,
            writers=plan.writers,
        )
        before = len(rows)
        await run_server("app", target, cluster_plan, rows)
        for row in rows[before:]:
            row.update(workers=2, database="postgresql", layer="redis")
        target.close()
    finally:
        for worker in workers:
            worker.stop()
            check_log(worker)
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return None


def check_log(server):
    text = server.log()
    if "Traceback" in text or "ERROR" in text:
        log(f"--- {server.name} log (errors) ---\n{text[-4000:]}")


# Output -------------------------------------------------------------------------------


COLUMNS = (
    ("server", 8, "server"),
    ("n", 5, "N"),
    ("rate", 6, "R/s"),
    ("p50_ms", 8, "p50 ms"),
    ("p99_ms", 8, "p99 ms"),
    ("max_ms", 8, "max ms"),
    ("lost", 7, "lost"),
    ("deliveries_per_s", 8, "deliv/s"),
    ("cpu_us_per_delivery", 8, "cpu µs"),
    ("rss_kb_per_conn", 8, "KB/conn"),
)


def cell(value, width):
    if value is None:
        value = "-"
    return str(value).rjust(width)


def format_row(row):
    name = row["server"] + ("×2" if row.get("workers") else "")
    parts = [name.ljust(8)] + [cell(row.get(key), width) for key, width, _ in COLUMNS[1:]]
    return " ".join(parts)


def ratio(a, b):
    if a is None or not b:
        return "-"
    return f"{a / b:.1f}×"


def table(rows):
    header = " ".join(
        [COLUMNS[0][2].ljust(8)] + [label.rjust(width) for _, width, label in COLUMNS[1:]]
    )
    header += "   app cpu ÷floor ÷chan   app p99 ÷floor ÷chan"
    lines = [header, "-" * len(header)]
    by_case = {}
    for row in rows:
        if not row.get("workers"):
            by_case.setdefault((row["n"], row["rate"]), {})[row["server"]] = row
    for row in rows:
        line = format_row(row)
        if row["server"] == "app" and not row.get("workers"):
            peers = by_case.get((row["n"], row["rate"]), {})
            floor, chan = peers.get("floor", {}), peers.get("channels", {})
            cpu = row["cpu_us_per_delivery"]
            p99 = row["p99_ms"]
            line += (
                f"   {ratio(cpu, floor.get('cpu_us_per_delivery')):>13}"
                f" {ratio(cpu, chan.get('cpu_us_per_delivery')):>5}"
                f"   {ratio(p99, floor.get('p99_ms')):>13} {ratio(p99, chan.get('p99_ms')):>5}"
            )
        lines.append(line)
    return "\n".join(lines)


def goals(rows):
    """The issue's goals, checked against this run's rows."""
    out = []

    def find(server, n, rate, cluster=False):
        for row in rows:
            if (row["server"], row["n"], row["rate"]) == (server, n, rate) and bool(
                row.get("workers")
            ) == cluster:
                return row
        return None

    app = find("app", 200, 100)
    floor = find("floor", 200, 100)
    if app:
        ok = app["p99_ms"] is not None and app["p99_ms"] <= 100 and app["lost"] == 0
        out.append(
            f"[{'PASS' if ok else 'FAIL'}] app N=200 R=100, one Daphne on SQLite: "
            f"p99 {app['p99_ms']} ms (≤ 100), lost {app['lost']} (= 0)"
        )
        if floor:
            r = app["cpu_us_per_delivery"] / floor["cpu_us_per_delivery"]
            out.append(
                f"[{'PASS' if r <= 3 else 'FAIL'}] app CPU per delivery at N=200 R=100: "
                f"{app['cpu_us_per_delivery']} µs = {r:.2f}× the floor's "
                f"{floor['cpu_us_per_delivery']} µs (≤ 3×)"
            )
    burst = find("app", 200, "burst")
    if burst:
        out.append(
            f"[{'PASS' if burst['lost'] == 0 else 'FAIL'}] app burst of {burst['writes']} "
            f"writes, N=200: lost {burst['lost']}, {burst['resyncs']} resyncs, "
            f"{burst['snapshots']} snapshots, p99 {burst['p99_ms']} ms"
        )
    lost_any = [r for r in rows if r["server"] == "app" and r["lost"]]
    out.append(
        f"[{'PASS' if not lost_any else 'FAIL'}] app lost nothing in any case"
        + (f" (lost in {len(lost_any)} cases)" if lost_any else "")
    )
    cluster = find("app", 1000, 20, cluster=True)
    if cluster:
        ok = cluster["p99_ms"] is not None and cluster["p99_ms"] <= 250 and cluster["lost"] == 0
        out.append(
            f"[{'PASS' if ok else 'FAIL'}] app N=1000 R=20 on 2 workers (PostgreSQL+Redis): "
            f"p99 {cluster['p99_ms']} ms (≤ 250), lost {cluster['lost']} (= 0)"
        )
    return out


# Main -----------------------------------------------------------------------------------


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--servers", default="app,floor,channels")
    parser.add_argument("--n", default="6,50,200", help="receivers per case")
    parser.add_argument("--rates", default="5,20,50,100", help="aggregate writes/s")
    parser.add_argument("--duration", type=float, default=4.0, help="seconds of writes per case")
    parser.add_argument("--burst", type=int, default=500, help="writes in the burst (0: none)")
    parser.add_argument("--writers", type=int, default=20, help="W: concurrent writers")
    parser.add_argument("--cluster-n", type=int, default=1000)
    parser.add_argument("--cluster-rate", type=int, default=20)
    parser.add_argument("--no-cluster", action="store_true")
    parser.add_argument("--no-page-weight", action="store_true", help="skip the first-load bytes")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "latest.json"))
    args = parser.parse_args(argv)
    args.servers = [s for s in args.servers.split(",") if s]
    args.ns = [int(x) for x in args.n.split(",")]
    args.rates = [int(x) for x in args.rates.split(",")]
    return args


async def main(argv=None):
    plan = parse_args(argv)
    started = time.monotonic()
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) > 1:
        server_cpus, load_cpus = {cores[0]}, set(cores[1:])
        os.sched_setaffinity(0, load_cpus)
        others = ",".join(map(str, cores[1:]))
        pinning = f"servers on CPU {cores[0]}, load generator on CPU {others}"
    else:
        server_cpus = None
        pinning = "one CPU only: no pinning"
    loop_name = "uvloop" if "uvloop" in type(asyncio.get_running_loop()).__module__ else "asyncio"
    pinning += f"; load generator on {loop_name}"
    log(f"bench: {pinning}")
    if "app" in plan.servers and not plan.no_page_weight:
        log("app: a participant's first load, in bytes (bench/page_weight.py)")
        with page_weight.WeighedServer() as server:
            print(page_weight.table(page_weight.measure(server.url, server.token)) + "\n")
    gc.freeze()
    rows = []
    notes = []
    work = tempfile.mkdtemp(prefix="reciproque-bench-")
    try:
        html_size = 700
        if "app" in plan.servers:
            log("app: one Daphne process, SQLite (the embedded default)")
            await bench_app(plan, server_cpus, work, rows)
            app_rows = [r for r in rows if r["server"] == "app"]
            html_size = max(100, round(statistics.mean(r["frame_bytes"] for r in app_rows)) - 40)
        for name in ("floor", "channels"):
            if name in plan.servers:
                log(f"{name}: frames of about {html_size} bytes of HTML, like the app's")
                await bench_plain(name, plan, server_cpus, work, rows, html_size)
        if "app" in plan.servers and not plan.no_cluster:
            if len(cores) > 1:
                os.sched_setaffinity(0, set(cores))  # two workers take both cores
            try:
                skipped = await bench_cluster(plan, work, rows)
            except Exception as error:  # report it with the rest, do not lose the run
                skipped = f"FAILED cluster case: {type(error).__name__}: {str(error)[:300]}"
            if skipped:
                notes.append(skipped)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    order = {"floor": 0, "channels": 1, "app": 2}
    rows.sort(
        key=lambda r: (
            bool(r.get("workers")),
            r["n"],
            r.get("burst", False),
            r["rate"] if isinstance(r["rate"], int) else 0,
            order[r["server"]],
        )
    )
    out = Path(plan.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=1) + "\n")
    print(table(rows))
    print()
    for line in [*notes, *goals(rows)]:
        print(line)
    print(f"\n{pinning}; {time.monotonic() - started:.0f} s; written to {out}")


def event_loop_runner():
    """uvloop for the load generator when installed: it reads 20,000 frames/s on one core."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run, "asyncio"
    if os.environ.get("BENCH_LOOP") == "asyncio":
        return asyncio.run, "asyncio"
    return uvloop.run, "uvloop"


if __name__ == "__main__":
    event_loop_runner()[0](main())
