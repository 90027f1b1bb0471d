"""The map's operations: add, rename, move between circles, place and remove actors.
The map's reading: each actor's name and circle, on the cards and in the SVG."""

from mapping import views as map_views
from mapping.kinds import build_map
from tests.sync_fuzz.base import KindOps


def map_truth(stage):
    built = build_map(stage)
    return {a.ref: (a.display_name, a.circle) for a in built["actors"]}


def map_board(page):
    """What `page` shows of the map: {ref: (name, circle)}, or {ref: circle} on the
    projector, which draws the SVG only."""
    stage = page.world.stage
    board = {}
    if page.audience == "projector":
        for node in page.dom.elements():
            if node.tag == "g" and "map-actor" in node.classes():
                ref = node.attrs["id"].removeprefix(f"map-actor-{stage.pk}-")
                circle = next(
                    c
                    for c in node.classes()
                    if c.startswith("is-") and c not in ("is-internal", "is-external", "is-nudged")
                )
                board[ref] = circle.removeprefix("is-")
        return board
    for node in page.dom.elements():
        if node.tag == "article" and "map-actor-card" in node.classes():
            ref = node.attrs["id"].removeprefix(f"actor-{stage.pk}-")
            name = next(n for n in node.elements() if "actor-name" in n.classes()).text().strip()
            circle = next(
                c
                for c in node.classes()
                if c.startswith("is-") and c not in ("is-internal", "is-external")
            )
            if ref in board:
                board[("twice", ref)] = name
            board[ref] = (name, circle.removeprefix("is-"))
    return board


class MapOps(KindOps):
    name = "map"
    residues = frozenset({9})  # one run in ten: a map run costs ~5 wall runs

    def write(self, world, page):
        rng = world.rng
        stage = world.stage
        if page.audience == "projector":
            return
        cards = [
            n for n in page.dom.elements() if n.tag == "article" and "map-actor-card" in n.classes()
        ]
        refs = [n.attrs["id"].removeprefix(f"actor-{stage.pk}-") for n in cards]
        others = [r for r in refs if r != "centre"]
        roll = rng.random()
        if others and roll < 0.35:
            ref = rng.choice(others)
            data = {"name": world.text(), "scope": "internal", "op_id": world.new_op()}
            if rng.random() < 0.3:
                data["circle"] = rng.choice(["suppliers", "clients"])
            page.log("edit actor", ref)
            world.send(page, map_views.actor_edit, data, stage_pk=stage.pk, ref=ref)
        elif others and roll < 0.45:
            ref = rng.choice(others)
            page.log("remove actor", ref)
            # The pushed card's form carries no op id (it would be shared by the room).
            world.send(page, map_views.actor_delete, {}, stage_pk=stage.pk, ref=ref)
        elif others and page.participant is None and roll < 0.6:
            ref = rng.choice(others)
            page.log("move actor", ref)
            world.send(
                page,
                map_views.actor_move,
                {"x": rng.randint(0, 900), "y": rng.randint(0, 600), "op_id": world.new_op()},
                stage_pk=stage.pk,
                ref=ref,
            )
        else:
            page.log("add actor")
            world.send(
                page,
                map_views.actor_new,
                {
                    "name": world.text(),
                    "circle": rng.choice(["suppliers", "clients"]),
                    "scope": "internal",
                    "op_id": world.new_op(),
                },
                stage_pk=stage.pk,
            )

    def check(self, world):
        problems = []
        truth = map_truth(world.stage)
        for page in world.pages:
            seen = map_board(page)
            if page.audience == "projector":
                truth_here = {ref: circle for ref, (_name, circle) in truth.items()}
            else:
                truth_here = truth
            if seen != truth_here:
                problems.append(
                    f"{page.name}'s map differs from the database:\n"
                    f"  page: {sorted(seen.items())}\n"
                    f"  db:   {sorted(truth_here.items())}"
                )
        return problems


KIND = MapOps()
