"""The moments that break rooms (issue 15): the join, reconnect and restart storms.

Each storm runs against its own Daphne process on SQLite, pinned like the
fan-out cases, with phone-like pages (bench/phone.py), and returns one row
for bench/results/latest.json. A page is **converged** when it has every
event up to the server's last one and its board (the post-its on it and their
text) equals a fresh render's: a new socket that asks for a snapshot
(hello with -1), fetched after the storm.
"""

import asyncio
import random
import statistics
import time
from pathlib import Path

from bench.phone import PhonePage, fresh_board

CHANGE_TEXT = "Retour après la coupure : ce qui a changé pendant ce temps"


def _pct(values, p):
    values = sorted(values)
    if not values:
        return None
    return round(values[min(len(values) - 1, int(p * len(values)))], 1)


class Room:
    """A fresh app server with a workshop, its pages, a facilitator."""

    def __init__(self, name, cpus, work):
        from bench import run as R

        self.R = R
        self.var_dir = Path(work) / name
        self.env = R.app_env(self.var_dir)
        self.workshop_id, self.token, self.stage_id, self.column = R.prepare_app(self.env)
        self.server = R.daphne(name, "config.asgi:application", self.env, cpus, work)
        self.database = R.SqliteDatabase(self.var_dir / "reciproque.sqlite3")
        self.target = R.AppTarget(
            [self.server], self.database, self.workshop_id, self.token, self.stage_id, self.column
        )
        self.facilitator = None

    @property
    def port(self):
        return self.server.port

    async def seq(self):
        return await self.target.start_seq()

    async def phones(self, count, first=0, connect=True, prefix="Participant"):
        async def one(i):
            phone = PhonePage("127.0.0.1", self.port, f"{prefix} {i + 1}")
            await phone.scan(self.token)
            if connect:
                await phone.connect()
                await asyncio.wait_for(phone.synced.wait(), 30)
            return phone

        return await self.R.gather_limited(
            [lambda i=i: one(i) for i in range(first, first + count)], 10
        )

    async def login(self):
        """The facilitator on the console: the login form, then the console page."""
        page = PhonePage("127.0.0.1", self.port, "facilitator")
        login, _ = await page.navigate("/login/")
        form = next(f for f in login.forms if "username" in f["fields"])
        page.page_url = page.origin + "/login/"
        status, _, body = await page.post_form(
            form["action"] or "/login/",
            {**form["fields"], "username": "bench", "password": "bench-pw-123456"},
        )
        if status not in (302, 303):
            raise RuntimeError(f"login answered {status}: {body[:300]!r}")
        await page.load_stage(f"/workshops/{self.workshop_id}/")
        self.facilitator = page
        return page

    async def facilitator_change(self, i):
        """Edit or delete a post-it on the board, as the console does (htmx POST)."""
        fac = self.facilitator
        pids = sorted(fac.board)
        if not pids:
            return await fac.write(f"{CHANGE_TEXT} (animateur {i})")
        pid = random.choice(pids)
        op = f"fac{i:04d}{random.getrandbits(32):08x}"
        if i % 2:
            status, seconds, _, body = await fac.post(
                f"/w/{self.workshop_id}/postits/{pid}/delete/", {"op_id": op}
            )
            fac.board.pop(pid, None)
        else:
            status, seconds, _, body = await fac.post(
                f"/w/{self.workshop_id}/postits/{pid}/edit/",
                {"op_id": op, "text": f"{CHANGE_TEXT} (modifié {i})"},
            )
        return status, seconds, op, body

    def stop(self):
        self.target.close()
        if self.facilitator is not None:
            self.facilitator.close()
        self.server.stop()
        self.R.check_log(self.server)


async def converge(pages, final_seq, since, timeout):
    """Wait until every page holds `final_seq`; {page: seconds from since[page]}."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if all(p.last >= final_seq for p in pages):
            break
        await asyncio.sleep(0.05)
    out = {}
    for page in pages:
        at = page.received.get(final_seq)
        if at is not None and page.last >= final_seq:
            out[page] = max(0.0, at - since(page))
    return out


async def check_boards(room, pages, timings):
    """Which pages' boards equal a fresh render's; (seq, fresh board, snapshot bytes)."""
    spare = (await room.phones(1, first=10_000, connect=False, prefix="Fresh"))[0]
    seq, board, snapshot_bytes = await fresh_board(spare)
    spare.close()
    for page in pages:
        if page in timings and page.board != board:
            del timings[page]
    return seq, board, snapshot_bytes


# (c) The join storm --------------------------------------------------------------------


async def join_storm(cpus, work, n=200, window=20.0, writers=20, rate=20):
    room = Room("join", cpus, work)
    try:
        writer_pages = await room.phones(writers, prefix="Writer")
        await asyncio.sleep(1.0)
        times, failures = [], []

        async def scan(i, delay):
            await asyncio.sleep(delay)
            page = PhonePage("127.0.0.1", room.port, f"Participant {i + 1}")
            started = time.perf_counter()
            try:
                await page.scan(room.token, assets=True)
                await page.connect()
                await asyncio.wait_for(page.synced.wait(), 30)
                times.append((time.perf_counter() - started) * 1000)
                return page
            except Exception as error:  # a failed join is a figure, not a crash
                failures.append(f"{type(error).__name__}: {str(error)[:120]}")
                page.close()
                return None

        delays = sorted(random.uniform(0, window) for _ in range(n))
        storm = asyncio.gather(*(scan(i, d) for i, d in enumerate(delays)))
        room.target.writers = writer_pages
        writes = room.R.run_case(room.target, writer_pages, writers, rate, window + 2)
        pages, result = await asyncio.gather(storm, writes)
        row = {
            "server": "app",
            "case": "join_storm",
            "n": n,
            "rate": rate,
            "w": writers,
            **result,
            "scan_to_live_p50_ms": _pct(times, 0.5),
            "converged_p99_ms": _pct(times, 0.99),
            "failed": len(failures),
            "failures": failures[:5],
            "asset_bytes_per_phone": round(
                statistics.mean([p.asset_bytes for p in pages if p] or [0])
            ),
        }
        for page in pages:
            if page:
                page.close()
        return row
    finally:
        room.stop()


# (d) The reconnect storm, (e) the restart storm --------------------------------------


async def _changes(room, writers, count, spread):
    """`count` changes over `spread` s: the facilitator one in five, the writers the rest."""
    results = []
    per = spread / max(1, count)
    queues = [[] for _ in writers]
    fac_jobs = []
    for i in range(count):
        if i % 5 == 0:
            fac_jobs.append(i)
        else:
            queues[i % len(writers)].append(i)

    async def writer(page, jobs):
        for i in jobs:
            await asyncio.sleep(max(0.0, t0 + i * per - time.perf_counter()))
            results.append(await page.write(f"{CHANGE_TEXT} ({i})"))

    async def facilitator():
        for i in fac_jobs:
            await asyncio.sleep(max(0.0, t0 + i * per - time.perf_counter()))
            results.append(await room.facilitator_change(i))

    t0 = time.perf_counter()
    jobs = zip(writers, queues, strict=True)
    await asyncio.gather(facilitator(), *(writer(p, q) for p, q in jobs))
    return results


async def reconnect_storm(cpus, work, n=200, offline=30.0, changes=100, writers=5, back=2.0):
    room = Room("reconnect", cpus, work)
    try:
        await room.login()
        writer_pages = await room.phones(writers, first=5000, connect=False, prefix="Console")
        # Something on the board already, as in a real room.
        for i in range(20):
            await writer_pages[i % writers].write(f"{CHANGE_TEXT} (avant {i})")
        pages = await room.phones(n)
        await asyncio.sleep(2.0)
        rss_baseline = room.server.rss_kb()
        for page in pages:
            page.drop()
        dropped = time.perf_counter()
        results = await _changes(room, writer_pages, changes, max(1.0, offline - 5.0))
        await asyncio.sleep(max(0.0, dropped + offline - time.perf_counter()))
        final_seq = await room.seq()
        # Back online, each page within `back` s (the venue's Wi-Fi returns to
        # each phone in turn), then the page's own jittered reconnect.
        back_at = {}
        for page in sorted(pages, key=lambda _: random.random()):
            back_at[page] = time.perf_counter()
            page.come_back()
            await asyncio.sleep(back / n)
        timings = await converge(pages, final_seq, lambda p: p.opened_at or back_at[p], 30)
        seq, _board, snapshot_bytes = await check_boards(room, pages, timings)
        await asyncio.sleep(3.0)
        rss_after = room.server.rss_kb()
        accepted = sum(1 for r in results if r[0] == 200)
        catch_up = [p.catch_up_bytes for p in pages]
        row = {
            "server": "app",
            "case": "reconnect_storm",
            "n": n,
            "changes": changes,
            "accepted": accepted,
            "lost": changes - accepted,
            "final_seq": final_seq,
            "fresh_seq": seq,
            "converged_p50_ms": _pct([t * 1000 for t in timings.values()], 0.5),
            "converged_p99_ms": _pct([t * 1000 for t in timings.values()], 0.99),
            "back_to_converged_p99_ms": _pct(
                [(p.received[final_seq] - back_at[p]) * 1000 for p in timings], 0.99
            ),
            "failed": n - len(timings),
            "post_p99_ms": _pct([r[1] * 1000 for r in results], 0.99),
            "catch_up_kb_p50": round(statistics.median(catch_up) / 1024, 1),
            "catch_up_kb_max": round(max(catch_up) / 1024, 1),
            "snapshot_kb": round(snapshot_bytes / 1024, 1),
            "snapshots": sum(p.snapshots for p in pages),
            "rss_baseline_mb": round(rss_baseline / 1024, 1),
            "rss_after_mb": round(rss_after / 1024, 1),
            "achieved_rate": None,
            "write_cpu_ms": None,
        }
        return row
    finally:
        room.stop()


async def restart_storm(cpus, work, n=200, changes=20, writers=5):
    room = Room("restart", cpus, work)
    try:
        writer_pages = await room.phones(writers, first=5000, connect=False, prefix="Console")
        for i in range(20):
            await writer_pages[i % writers].write(f"{CHANGE_TEXT} (avant {i})")
        pages = await room.phones(n)
        await asyncio.sleep(2.0)
        stopped = time.perf_counter()
        await asyncio.to_thread(room.server.stop)  # SIGTERM, as systemd or docker stop
        down = time.perf_counter() - stopped
        # The writers keep posting, their queues retrying while the server is away.
        room.facilitator = None
        writes = asyncio.ensure_future(
            asyncio.gather(
                *(
                    writer_pages[i % writers].write(f"{CHANGE_TEXT} (redémarrage {i})")
                    for i in range(changes)
                )
            )
        )
        await asyncio.to_thread(room.server.start)
        back = time.perf_counter()
        results = await writes
        final_seq = await room.seq()
        timings = await converge(pages, final_seq, lambda p: back, 30)
        seq, _board, snapshot_bytes = await check_boards(room, pages, timings)
        accepted = sum(1 for r in results if r[0] == 200)
        return {
            "server": "app",
            "case": "restart_storm",
            "n": n,
            "changes": changes,
            "accepted": accepted,
            "lost": changes - accepted,
            "stop_s": round(down, 2),
            "restart_s": round(back - stopped, 2),
            "converged_p50_ms": _pct([t * 1000 for t in timings.values()], 0.5),
            "converged_p99_ms": _pct([t * 1000 for t in timings.values()], 0.99),
            "failed": n - len(timings),
            "post_p99_ms": _pct([r[1] * 1000 for r in results], 0.99),
            "catch_up_kb_max": round(max(p.catch_up_bytes for p in pages) / 1024, 1),
            "snapshot_kb": round(snapshot_bytes / 1024, 1),
            "snapshots": sum(p.snapshots for p in pages),
            "achieved_rate": None,
            "write_cpu_ms": None,
        }
    finally:
        room.stop()
