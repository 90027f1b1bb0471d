"""The journey's operations: post-its in cells (add, edit, move, delete), emotions,
steps added and renamed, the console's view switched. The journey's reading: each
post-it's text and colour on the console's and the projector's grid."""

from journeys.journey import grid
from journeys.journey import views as journey_views
from journeys.journey.models import JourneyPostIt
from tests.sync_fuzz.base import KindOps
from tests.sync_fuzz.sim import STATS

SIDES = ("client", "service", "supplier")
COLOURS = ("green", "orange", "red")


def journey_truth(stage):
    return {
        str(p.pk): (p.text, p.colour)
        for p in JourneyPostIt.objects.filter(stage=stage, situation__position=1)
    }


def journey_board(page):
    """What `page`'s grid shows: {post-it id: (text, colour)}; None when it shows no grid."""
    nodes = list(page.dom.elements())
    if not any(n.tag == "table" and "jlanes" in n.classes() for n in nodes):
        return None
    board = {}
    for node in nodes:
        if node.tag == "article" and "jpostit" in node.classes():
            pk = node.attrs["id"].removeprefix("jpostit-")
            text = next(n for n in node.elements() if "jpostit-text" in n.classes()).text()
            colour = next(c for c in node.classes() if c.startswith("c-")).removeprefix("c-")
            if pk in board:
                board[("twice", pk)] = text
            board[pk] = (text.strip(), colour)
    return board


class JourneyOps(KindOps):
    name = "journey"
    residues = frozenset({2})  # one run in ten, taken from the wall's

    def prepare(self, fixture, stage):
        from journeys.journey import actions

        situation = actions.add_situation(stage, participant=None, name="Alerte client")
        actions.add_situation(stage, participant=None, name="Livraison ratée")
        assert situation.position == 1
        for name in ("Appel", "Diagnostic", "Clôture"):
            actions.add_step(stage, participant=None, name=name)

    def write(self, world, page):
        rng = world.rng
        stage = world.stage
        if page.audience == "projector":
            return
        built = grid.build(stage)
        situation = built["situations"][0]
        step = rng.choice(built["steps"])
        own = JourneyPostIt.objects.filter(stage=stage, situation=situation)
        if page.participant is not None:
            own = own.filter(author=page.participant)
        own = list(own.values_list("pk", flat=True))
        roll = rng.random()
        if own and roll < 0.25:
            pk = rng.choice(own)
            data = {
                "text": world.text(),
                "colour": rng.choice(COLOURS),
                "op_id": world.new_op(),
            }
            if rng.random() < 0.5:  # moved by tapping: another step, another side
                data |= {"step": rng.choice(built["steps"]).pk, "perspective": rng.choice(SIDES)}
            page.log("edit journey post-it", pk)
            world.send(page, journey_views.edit_postit, data, postit_pk=pk)
        elif own and roll < 0.35:
            pk = rng.choice(own)
            page.log("delete journey post-it", pk)
            world.send(page, journey_views.delete_postit, {"op_id": world.new_op()}, postit_pk=pk)
        elif page.participant is not None and roll < 0.55:
            page.log("rate", step.pk)
            world.send(
                page,
                journey_views.rate,
                {
                    "situation": situation.pk,
                    "step": step.pk,
                    "perspective": rng.choice(SIDES),
                    "value": str(rng.randint(-2, 2)),
                    "op_id": world.new_op(),
                },
                stage_pk=stage.pk,
            )
        elif page.participant is None and roll < 0.5:
            page.log("switch view")
            world.send(
                page,
                journey_views.view,
                {"view": rng.choice(["grid", "grid", "heatmap"]), "op_id": world.new_op()},
                stage_pk=stage.pk,
            )
        elif page.participant is None and roll < 0.6 and len(built["steps"]) < 8:
            page.log("add step")
            world.send(
                page,
                journey_views.step_add,
                {"name": world.text(), "op_id": world.new_op()},
                stage_pk=stage.pk,
            )
        else:
            page.log("add journey post-it", step.pk)
            world.send(
                page,
                journey_views.add_postit,
                {
                    "situation": situation.pk,
                    "step": step.pk,
                    "perspective": rng.choice(SIDES),
                    "colour": rng.choice(COLOURS),
                    "text": world.text(),
                    "op_id": world.new_op(),
                },
                stage_pk=stage.pk,
            )

    def check(self, world):
        problems = []
        truth = journey_truth(world.stage)
        for page in world.pages:
            if page.audience == "participant":
                continue  # a phone's grid is its own panel, fetched (World.check compares regions)
            seen = journey_board(page)
            if seen is None:
                continue  # the heat-map view: World.check compares the whole region
            STATS["journey grids read"] += 1
            if seen != truth:
                problems.append(
                    f"{page.name}'s journey differs from the database:\n"
                    f"  page: {sorted(seen.items(), key=str)}\n"
                    f"  db:   {sorted(truth.items())}"
                )
        return problems


KIND = JourneyOps()
