"""Seeded fuzz of the live-sync protocol: every page converges on the database.

Each run puts 3 to 5 simulated pages (the facilitator's console, the
projector, phones) on one workshop. They write, edit, delete and move
post-its and themes (or add, rename, remove and move actors on the map)
through the real views, while the network misbehaves: sockets drop, cleanly
or silently, and come back; pushes are lost between processes, reordered, or
shed from a socket that stopped reading; requests are lost, duplicated or
arrive late; replies are lost or arrive late.

The server side is the real code: the views, the actions, the event log,
`Hub._deliver` (or, in half the runs, `Hub._arrive` and its coalesced
flushes), `Encoded`, and `LiveConsumer.receive` / `push` / `_catch_up`
/ `_missed`, driven step by step so that pushes land in the middle of a
catch-up. Each page is a model of `static/js/live.js`: seq ordering, the
early-frame buffer, the 1 s gap timer, hello on every (re)connect,
synced / snapshot / resync, the offline queue with its op ids, the reply's
`X-Seq`, and htmx's out-of-band swaps applied to a small DOM built with
html.parser.

When the run is over the network heals and the pages settle; then every
page's board must equal the database's, every write answered 200 must be in
the log, and no operation may have been applied twice.

The package:

    sim.py            the server side, simulated around the real code: FakeWire,
                      SimConsumer, Later/Driven (coroutines run by hand), SimLock,
                      SimLoop, SimHub, Conn (one websocket)
    world.py          Page (live.js), Request, World (the network, its faults, the
                      run, what must hold), Fixture (the room every run starts from)
    base.py           KindOps: what a stage kind's module gives the fuzz
    kinds.py          KINDS, the registry, and kind_of(seed)
    wall.py, map.py   one module per stage kind: its operations and its reading
    test_sync_fuzz.py the tests: the seeded runs and known interleavings, replayed

Adding a stage kind to the fuzz (the extension point): write `<kind>.py` here with a
`KIND = <Kind>Ops()` subclassing base.KindOps: `name` (the StageKind's key),
`residues` (the seeds % 10 it takes from the wall), `pick_stage` (which of the
Room's stages), `prepare` (something on the board first), `write` (one random
operation by a page's person, through the real views, every choice drawn from
`world.rng`), `settle` (close what a person left open) and `check` (its own
readings of a page's board against the database). Then append it to
kinds.KINDS. World.check adds, for every kind, the exactly-once rules of the log.

    FUZZ_SEED=<n>  replays one run (the failure message prints it)
    FUZZ_RUNS=<n>  changes the number of runs (1,000 by default, as in make test; 2,000 in
                   make soak)
    FUZZ_FIRST=<n> the first seed (0; make soak starts at 1,000, past make test's)
"""
