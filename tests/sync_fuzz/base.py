"""What a stage kind's fuzz module gives the fuzz: its `KIND`, a `KindOps`.

A kind module (wall.py, map.py, ...) subclasses `KindOps`, sets `name` and
`residues`, and fills in the four hooks below. It talks to the run only through
the `World` (world.py): `world.rng` for every choice (so that a seed replays),
`world.text()` for unique texts, `world.new_op()` for op ids, `world.send(...)`
for an htmx request through a real view, `page.queue_write(...)` for live.js's
offline queue, `world.serve_now(...)` to serve a request at once while settling,
and `page.dom` (tests/faults/model.py's `Board`) for what the page shows.
"""


class KindOps:
    name = ""  # the stage kind's key, as in its StageKind
    # The seeds that run on this kind: those whose last digit (seed % 10) is here. The
    # wall takes every residue no other kind claims; claim yours from the wall's.
    residues = frozenset()

    def pick_stage(self, stages):
        """The stage of this kind that the runs play on, among the Room's stages."""
        return next(s for s in stages if s.kind == self.name)

    def prepare(self, fixture, stage):
        """Give the board something before the runs (the room is already on `stage`)."""

    def write(self, world, page):
        """One random operation by `page`'s person, through the real views."""
        raise NotImplementedError

    def settle(self, world, page):
        """After the network healed: close what the person left open (a form)."""

    def check(self, world):
        """Problems (strings) where a page's board or the log disagrees with the database.

        The whole regions are compared for every kind by World.check_regions; here go the
        kind's own readings (which item is where, written once, never lost)."""
        return []
