"""Minutes of kills and restarts under load: `make soak` (SOAK=1), never `make test`.

The same promise as test_restart.py, held for longer: phones write without
pause, pages follow over their sockets, and the server is killed (`kill -9`)
or stopped (SIGTERM) and started again, over and over, for SOAK_SECONDS
(300 by default). At the end every write answered 200 is in the log exactly
once, and every page shows the database's board.
"""

import os
import random
import time

import pytest

from tests.faults.model import LivePage, wait_until

from .servers import Writers

pytestmark = [
    pytest.mark.soak,
    pytest.mark.skipif(os.environ.get("SOAK") != "1", reason="a soak: run it with make soak"),
]

SECONDS = float(os.environ.get("SOAK_SECONDS", 300))


def test_it_loses_nothing_through_minutes_of_kills_and_restarts(room):
    seed = int(os.environ.get("SOAK_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    print(f"\nSOAK_SEED={seed}, {SECONDS:.0f} s")
    server = room.worker()
    pages = [
        LivePage(server.url, room.workshop, room.phone(server.url, f"Page {i}"), f"Page {i}")
        for i in range(4)
    ]
    for page in pages:
        page.start()
    # A busy room, not a flood: the board stays the size of a real one (a few
    # thousand post-its after 5 minutes), which every page reloads on a snapshot.
    writers = Writers(
        room, server.url, [f"Phone {i}" for i in range(4)], per_writer=None, pause=0.2
    )
    writers.start()
    kills = stops = 0
    try:
        deadline = time.monotonic() + SECONDS
        while time.monotonic() < deadline:
            time.sleep(rng.uniform(1, 6))  # a while of ordinary life
            if rng.random() < 0.6:
                kills += 1
                server.stop(kill=True, restarting=True)
            else:
                stops += 1
                server.stop(restarting=True)
            time.sleep(rng.uniform(0, 3))
            server.start()
        writers.stop()
        writers.join(timeout=180)
        print(
            f"{kills} kills, {stops} graceful stops, {len(writers.answers)} writes, "
            f"{writers.unanswered_attempts} attempts without an answer"
        )

        assert {status for status, _text in writers.answers.values()} == {200}
        assert room.events_by_op(writers.answers) == dict.fromkeys(writers.answers, 1)
        texts = [text for text, _place in room.wall().values()]
        assert sorted(texts) == sorted(text for _status, text in writers.answers.values())

        def converged():
            seq, wall = room.seq(), room.wall()
            return all(page.state() == (seq, wall) for page in pages)

        if not wait_until(converged, 60):
            for p in pages:
                print(
                    p.name,
                    p.state()[0],
                    "opened",
                    len(p.opened),
                    "closes",
                    len(p.closes),
                    "attempts",
                    len(p.attempts),
                    "resyncs",
                    p.resyncs,
                    "snapshots",
                    p.snapshots,
                    "early",
                    sorted(p.early)[:5],
                    "alive",
                    p.is_alive(),
                    "ws",
                    p.ws is not None,
                    "now",
                    round(time.monotonic(), 1),
                    "last closes",
                    [(round(t, 1), str(r)) for t, r in p.closes[-3:]],
                )
            print("seq", room.seq(), "\n", server.log()[-4000:])
            pytest.fail("the pages never converged on the database")
    finally:
        writers.stop()
        for page in pages:
            page.stop()
