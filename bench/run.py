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
import traceback
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import page_weight  # noqa: E402
from bench.phone import PhonePage  # noqa: E402
from bench.wsclient import open_socket  # noqa: E402

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

    def thread_cpu(self):
        """(main thread, every other thread) CPU seconds: the event loop apart."""
        main = other = 0.0
        pid = self.process.pid
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            return 0.0, 0.0
        for tid in tasks:
            try:
                with open(f"/proc/{pid}/task/{tid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            cpu = (int(fields[11]) + int(fields[12])) / CLK_TCK
            if int(tid) == pid:
                main += cpu
            else:
                other += cpu
        return main, other

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
        started = time.perf_counter()
        seq = await asyncio.wait_for(future, 30)
        return True, seq, time.perf_counter() - started

    async def start_seq(self):
        return None

    async def seqs_to_writes(self, start, acked, tag):
        return {seq: write_id for write_id, seq in acked.items()}

    def close_receivers(self, receivers):
        for r in receivers:
            r.close()

    def close(self):
        for socket_ in self.writers:
            socket_.close()


class AppTarget:
    """Réciproque: phone-like pages (bench/phone.py), the live socket, the real write path."""

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

    async def join(self, count, assets=False):
        """`count` phones scan the QR code, spread over the servers."""

        async def one(i):
            server = self.servers[i % len(self.servers)]
            phone = PhonePage("127.0.0.1", server.port, f"Participant {i + 1}")
            landed = await phone.scan(self.token, assets)
            if not landed.endswith(f"/w/{self.workshop_id}/"):
                raise RuntimeError(f"joined to {landed}")
            return phone

        start = len(self.phones)
        self.phones += await gather_limited(
            [lambda i=i: one(i) for i in range(start, count)], 10
        )

    async def open_receivers(self, n):
        async def one(phone):
            phone.reconnect = True
            phone.close_code = None
            await phone.connect()
            await asyncio.wait_for(phone.synced.wait(), 30)
            return phone

        return await gather_limited([lambda p=p: one(p) for p in self.phones[:n]], 20)

    async def open_writers(self, w):
        self.writers = self.phones[:w]

    async def write(self, writer, write_id, tag):
        phone = self.writers[writer]
        status, seconds, _op, body = await phone.write(f"[b{tag}:{write_id}] {POSTIT_TEXT}")
        if status != 200:
            log(f"  write {write_id} refused: {status} {body[:200]!r}")
        return status == 200, None, seconds

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

    def close_receivers(self, receivers):
        for phone in receivers:
            phone.reconnect = False
            if phone.socket is not None:
                phone.socket.close()

    def close(self):
        for phone in self.phones:
            phone.close()


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
    scheduled = {}
    post_times = []
    acked = {}
    accepted = 0
    queue = asyncio.Queue()
    cpu_before = sum(s.cpu_seconds() for s in target.servers)
    threads_before = [s.thread_cpu() for s in target.servers]
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
            # From just before the POST (what a phone's user waits for); the
            # open-loop lateness (from when the write was due) is kept apart.
            sent = time.perf_counter()
            due[write_id] = sent
            scheduled[write_id] = when if when is not None else sent
            ok, seq, seconds = await target.write(writer, write_id, tag)
            post_times.append(seconds)
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
    threads_after = [s.thread_cpu() for s in target.servers]
    # The sync thread(s): the view, the ORM, the rendering, the frames' JSON.
    sync_cpu = sum(
        (after[1] - before[1]) for before, after in zip(threads_before, threads_after, strict=True)
    )

    seq_to_write = await target.seqs_to_writes(start_seq, acked, tag)
    latencies = []
    lateness = []
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
                lateness.append(arrived - scheduled[write_id])
    lost = len(expected) * len(receivers) - delivered
    latencies.sort()
    lateness.sort()
    post_times.sort()

    def pct(p, values=latencies):
        if not values:
            return None
        return round(values[min(len(values) - 1, int(p * len(values)))] * 1000, 1)

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
        "achieved_rate": round(accepted / max(writes_done - t0, 1e-6), 1),
        "post_p50_ms": pct(0.50, post_times),
        "post_p99_ms": pct(0.99, post_times),
        "due_p99_ms": pct(0.99, lateness),
        "write_cpu_ms": (
            round(sync_cpu / accepted * 1000, 2) if accepted and target.kind == "app" else None
        ),
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
        target.close_receivers(await target.open_receivers(1))
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
        target.close_receivers(receivers)
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


def collect_static(env):
    """collectstatic, unless its output is up to date (config/staticfiles.py)."""
    stale = "from config.staticfiles import static_is_stale; print(static_is_stale())"
    if manage(env, "shell", "-c", stale).strip().endswith("True"):
        manage(env, "collectstatic", "--noinput", "-v", "0")


def prepare_app(env):
    collect_static(env)
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


def _find(rows, case, server="app", n=None, rate=None):
    for row in rows:
        if row.get("case") != case or row["server"] != server or row.get("workers"):
            continue
        if (n is None or row.get("n") == n) and (rate is None or row.get("rate") == rate):
            return row
    return None


def _verdict(ok, text):
    return f"[{'PASS' if ok else 'FAIL'}] {text}"


def _le(value, limit):
    return value is not None and value <= limit


def goals(rows, plan=None):
    """The issue's goals, checked against this run's rows, each with its reason."""
    out = []
    n_top = max(plan.ns) if plan else 200
    r_top = max(plan.rates) if plan else 100
    app = _find(rows, "fanout", "app", n_top, r_top)
    floor = _find(rows, "fanout", "floor", n_top, r_top)
    if app:
        target = app["rate"]
        checks = [
            (_le(app["p99_ms"], 100), f"write→delivery p99 {app['p99_ms']} ms (≤ 100)"),
            (_le(app["post_p99_ms"], 100), f"POST p99 {app['post_p99_ms']} ms (≤ 100)"),
            (app["lost"] == 0, f"lost {app['lost']} (= 0)"),
            (
                app["achieved_rate"] >= 0.99 * target,
                f"achieved {app['achieved_rate']} writes/s (≥ {0.99 * target:.0f})",
            ),
        ]
        if floor and floor.get("cpu_us_per_delivery"):
            ratio_ = app["cpu_us_per_delivery"] / floor["cpu_us_per_delivery"]
            checks.append(
                (
                    ratio_ <= 2,
                    f"CPU/delivery {app['cpu_us_per_delivery']} µs = {ratio_:.2f}× the floor's "
                    f"{floor['cpu_us_per_delivery']} µs, same run (≤ 2×)",
                )
            )
        for ok, text in checks:
            out.append(_verdict(ok, f"(a) N={app['n']} R={target}, one Daphne/SQLite: {text}"))
    burst = _find(rows, "fanout", "app", n_top, "burst")
    if burst:
        out.append(
            _verdict(
                burst["lost"] == 0,
                f"(a) burst of {burst['writes']} writes, N={burst['n']}: lost {burst['lost']}, "
                f"{burst['resyncs']} resyncs, {burst['snapshots']} snapshots, "
                f"p99 {burst['p99_ms']} ms",
            )
        )
    write = _find(rows, "write_path")
    if write:
        out.append(
            _verdict(
                _le(write["write_total_cpu_ms"], 2.0),
                f"(b) write path: {write['write_total_cpu_ms']} ms of server CPU per accepted "
                f"post-it, whole process at N=1 (≤ 2); of which sync thread "
                f"{write['write_cpu_ms']} ms",
            )
        )
    join = _find(rows, "join_storm")
    if join:
        out.append(
            _verdict(
                _le(join["converged_p99_ms"], 1500) and join["failed"] == 0,
                f"(c) join storm, {join['n']} phones: scan→live board p99 "
                f"{join['converged_p99_ms']} ms (≤ 1500), failed {join['failed']} (= 0)",
            )
        )
        out.append(
            _verdict(
                _le(join["p99_ms"], 150) and _le(join["post_p99_ms"], 150) and not join["lost"],
                f"(c) its {join['w']} writers at R={join['rate']}: write→delivery p99 "
                f"{join['p99_ms']} ms, POST p99 {join['post_p99_ms']} ms (≤ 150), "
                f"lost {join['lost']}",
            )
        )
    rec = _find(rows, "reconnect_storm")
    if rec:
        out.append(
            _verdict(
                _le(rec["converged_p99_ms"], 3000) and rec["failed"] == 0 and rec["lost"] == 0,
                f"(d) reconnect storm, {rec['n']} pages: converged p99 {rec['converged_p99_ms']}"
                f" ms after reconnecting (≤ 3000), not converged {rec['failed']}, "
                f"lost {rec['lost']} of {rec['changes']} changes",
            )
        )
        bound = 2 * rec["snapshot_kb"]
        out.append(
            _verdict(
                rec["catch_up_kb_max"] <= bound,
                f"(d) catch-up bytes per page: max {rec['catch_up_kb_max']} KB, median "
                f"{rec['catch_up_kb_p50']} KB (≤ 2 × a fresh snapshot, {bound:.0f} KB)",
            )
        )
        out.append(
            _verdict(
                rec["rss_after_mb"] <= rec["rss_baseline_mb"] * 1.10,
                f"(d) server RSS {rec['rss_after_mb']} MB after the storm, "
                f"{rec['rss_baseline_mb']} MB before (≤ +10 %)",
            )
        )
    res = _find(rows, "restart_storm")
    if res:
        out.append(
            _verdict(
                _le(res["converged_p99_ms"], 10_000) and res["failed"] == 0 and res["lost"] == 0,
                f"(e) restart storm, {res['n']} pages: converged p99 {res['converged_p99_ms']} ms"
                f" after the server was back (≤ 10000; it took {res['restart_s']} s to stop and "
                f"start), not converged {res['failed']}, lost {res['lost']}",
            )
        )
    pdf = _find(rows, "pdf")
    if pdf:
        out.append(
            _verdict(
                pdf["seconds"] <= 2.0,
                f"(f) PDF report of {pdf['postits']} post-its, {pdf['pages']} pages: "
                f"{pdf['seconds']:.2f} s (≤ 2)",
            )
        )
    weight = _find(rows, "page_weight")
    if weight:
        for key in ("join_kb", "stage_kb"):
            out.append(
                _verdict(
                    weight[key] <= 60,
                    f"(g) first load, {key[:-3]} page, gzip: {weight[key]} KB (≤ 60)",
                )
            )
    lost_any = [r for r in rows if r["server"] == "app" and r.get("lost")]
    out.append(
        _verdict(
            not lost_any,
            "the app lost nothing in any case"
            + (f" (lost in {len(lost_any)} cases)" if lost_any else ""),
        )
    )
    cluster = next((r for r in rows if r.get("workers")), None)
    if cluster:
        out.append(
            _verdict(
                _le(cluster["p99_ms"], 250) and cluster["lost"] == 0,
                f"app N={cluster['n']} R={cluster['rate']} on 2 workers (PostgreSQL+Redis): "
                f"p99 {cluster['p99_ms']} ms (≤ 250), lost {cluster['lost']} (= 0)",
            )
        )
    return out


CASE_COLUMNS = (
    ("case", 16, "case"),
    ("n", 5, "N"),
    ("rate", 6, "R/s"),
    ("p99_ms", 8, "p99 ms"),
    ("post_p99_ms", 9, "POST p99"),
    ("achieved_rate", 8, "achieved"),
    ("write_cpu_ms", 8, "sync ms"),
    ("converged_p99_ms", 10, "conv. p99"),
    ("failed", 6, "failed"),
    ("lost", 5, "lost"),
)


def cases_table(rows):
    header = " ".join(
        [CASE_COLUMNS[0][2].ljust(16)] + [lab.rjust(w) for _, w, lab in CASE_COLUMNS[1:]]
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        if row["server"] != "app" or row.get("case") in (None, "pdf", "page_weight"):
            continue
        lines.append(
            " ".join(
                [row["case"].ljust(16)]
                + [cell(row.get(key), width) for key, width, _ in CASE_COLUMNS[1:]]
            )
        )
    return "\n".join(lines)


# Main -----------------------------------------------------------------------------------

CASES = ("page", "fanout", "write", "join", "reconnect", "restart", "pdf")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--cases", default=",".join(CASES), help=f"which cases, of {','.join(CASES)}"
    )
    parser.add_argument("--servers", default="app,floor,channels", help="for the fan-out")
    parser.add_argument("--n", default="200", help="fan-out: receivers per case")
    parser.add_argument("--rates", default="20,100", help="fan-out: aggregate writes/s")
    parser.add_argument(
        "--duration", type=float, default=20.0, help="fan-out: seconds of writes per case"
    )
    parser.add_argument("--burst", type=int, default=500, help="writes in the burst (0: none)")
    parser.add_argument("--writers", type=int, default=20, help="W: concurrent writers")
    parser.add_argument("--write-duration", type=float, default=10.0, help="(b): seconds")
    parser.add_argument("--storm-n", type=int, default=200, help="(c, d, e): pages")
    parser.add_argument("--join-window", type=float, default=20.0, help="(c): seconds")
    parser.add_argument("--offline", type=float, default=30.0, help="(d): seconds offline")
    parser.add_argument("--changes", type=int, default=100, help="(d): changes while offline")
    parser.add_argument("--cluster-n", type=int, default=1000)
    parser.add_argument("--cluster-rate", type=int, default=20)
    parser.add_argument("--no-cluster", action="store_true")
    parser.add_argument("--no-page-weight", action="store_true", help="same as leaving out page")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "latest.json"))
    args = parser.parse_args(argv)
    args.cases = [c for c in args.cases.split(",") if c]
    unknown = set(args.cases) - set(CASES)
    if unknown:
        parser.error(f"unknown cases: {', '.join(sorted(unknown))}")
    if args.no_page_weight and "page" in args.cases:
        args.cases.remove("page")
    args.servers = [s for s in args.servers.split(",") if s]
    args.ns = [int(x) for x in args.n.split(",")]
    args.rates = [int(x) for x in args.rates.split(",")]
    return args


async def bench_write(plan, cpus, work, rows):
    """(b) The write path alone: W writers, one receiver, CPU per accepted post-it."""
    var_dir = Path(work) / "write"
    env = app_env(var_dir)
    workshop_id, token, stage_id, column = prepare_app(env)
    server = daphne("write", "config.asgi:application", env, cpus, work)
    try:
        database = SqliteDatabase(var_dir / "reciproque.sqlite3")
        target = AppTarget([server], database, workshop_id, token, stage_id, column)
        await target.join(plan.writers)
        receivers = await target.open_receivers(1)
        await target.open_writers(plan.writers)
        # Warm up (templates compiled, connections open), then measure.
        await run_case(target, receivers, plan.writers, 20, 1.0)
        await settle(receivers)
        result = await run_case(target, receivers, plan.writers, 20, plan.write_duration)
        row = {"server": "app", "case": "write_path", "n": 1, "rate": 20, "w": plan.writers}
        row.update(result)
        row["write_total_cpu_ms"] = (
            round(result["cpu_s"] / result["accepted"] * 1000, 2) if result["accepted"] else None
        )
        rows.append(row)
        target.close()
    finally:
        server.stop()
        check_log(server)


async def main(argv=None):
    from bench import storms

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
    log(f"bench: {pinning}; cases {','.join(plan.cases)}")
    rows = []
    notes = []
    if "page" in plan.cases:
        log("(g) a participant's first load, in bytes (bench/page_weight.py)")
        with page_weight.WeighedServer() as server:
            weights = page_weight.measure(server.url, server.token)
        print(page_weight.table(weights) + "\n")
        gz = weights.get("gzip") or next(iter(weights.values()))
        rows.append(
            {
                "server": "app",
                "case": "page_weight",
                "join_kb": round(gz[0].total / 1024, 1),
                "stage_kb": round(gz[1].total / 1024, 1),
                **{
                    f"{w.name.split()[0]}_{enc}_bytes": w.total
                    for enc, ws in weights.items()
                    for w in ws
                },
            }
        )
    gc.freeze()
    work = tempfile.mkdtemp(prefix="reciproque-bench-")
    try:
        html_size = 700
        if "fanout" in plan.cases:
            before = len(rows)
            if "app" in plan.servers:
                log("(a) app: one Daphne process, SQLite (the embedded default)")
                await bench_app(plan, server_cpus, work, rows)
                app_rows = [r for r in rows[before:] if r["server"] == "app"]
                html_size = max(
                    100, round(statistics.mean(r["frame_bytes"] for r in app_rows)) - 40
                )
            for name in ("floor", "channels"):
                if name in plan.servers:
                    log(f"(a) {name}: frames of about {html_size} bytes of HTML, like the app's")
                    await bench_plain(name, plan, server_cpus, work, rows, html_size)
            for row in rows[before:]:
                row["case"] = "fanout"
        if "write" in plan.cases:
            log("(b) the write path: CPU per accepted post-it")
            await bench_write(plan, server_cpus, work, rows)
        if "join" in plan.cases:
            log(f"(c) join storm: {plan.storm_n} phones scan within {plan.join_window} s")
            rows.append(
                await storms.join_storm(
                    server_cpus, work, plan.storm_n, plan.join_window, plan.writers
                )
            )
        if "reconnect" in plan.cases:
            log(f"(d) reconnect storm: {plan.storm_n} pages offline {plan.offline} s")
            rows.append(
                await storms.reconnect_storm(
                    server_cpus, work, plan.storm_n, plan.offline, plan.changes
                )
            )
        if "restart" in plan.cases:
            log(f"(e) restart storm: SIGTERM and restart under {plan.storm_n} pages")
            rows.append(await storms.restart_storm(server_cpus, work, plan.storm_n))
        if "pdf" in plan.cases:
            log("(f) the 300-post-it report (bench/report_bench.py)")
            from bench import report_bench

            rows.append({"server": "app", "case": "pdf", **report_bench.run()})
        if "fanout" in plan.cases and "app" in plan.servers and not plan.no_cluster:
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
    for row in rows:
        row.setdefault("case", "fanout")
        for key in ("post_p99_ms", "achieved_rate", "write_cpu_ms"):
            row.setdefault(key, None)
    out = Path(plan.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=1) + "\n")
    fanout = [r for r in rows if r["case"] == "fanout"]
    if fanout:
        print(table(fanout))
        print()
    print(cases_table(rows))
    print()
    for line in [*notes, *goals(rows, plan)]:
        print(line)
    print(
        f"\n{pinning}; {time.monotonic() - started:.0f} s; written to {out}"
        "\nAbsolute figures move with the machine and what else runs on it: compare the app"
        " with the floor of the same run."
    )


def event_loop_runner():
    """uvloop for the load generator when installed: it reads 20,000 frames/s on one core."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run, "asyncio"
    if os.environ.get("BENCH_LOOP") == "asyncio":
        return asyncio.run, "asyncio"
    return uvloop.run, "uvloop"


async def _main_or_exit():
    """main(), and on an error its traceback and exit 1 at once: the runner would
    otherwise wait, silently, for tasks of the failed case that do not cancel."""
    try:
        await main()
    except BaseException:
        traceback.print_exc()
        sys.stderr.flush()
        os._exit(1)


if __name__ == "__main__":
    event_loop_runner()[0](_main_or_exit())
