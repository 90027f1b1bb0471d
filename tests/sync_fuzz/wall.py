"""The wall's operations: post, edit, delete and move post-its; add, rename and remove
themes. The wall's reading: which post-it is where, with which text, written once."""

from collections import defaultdict

from journeys import actions as journeys
from journeys import views as journey_views
from tests.faults.model import Node, attached, wall_truth
from tests.sync_fuzz.base import KindOps
from workshops.models import Event


def columns(stage):
    return [c["key"] for c in stage.config["columns"]]


def submit_postit(page, data):
    """The compose form: through live.js's offline queue, as on a phone."""
    world = page.world
    world.written[data["text"]] = "journeys.postit_added"
    page.queue_write(
        journey_views.add_postit,
        data,
        target=f"postits-{world.stage.pk}-{data['column']}",
        stage_pk=world.stage.pk,
    )


def themes(page):
    return [
        n.attrs["id"].removeprefix("cluster-")
        for n in page.dom.elements()
        if n.tag == "section" and "theme" in n.classes()
    ]


def recent(world, nodes):
    """Often the newest post-it: where writes and slow replies cross."""
    if world.rng.random() < 0.6:
        return max(nodes, key=lambda n: int(n.attrs["data-pid"]))
    return world.rng.choice(nodes)


class WallOps(KindOps):
    name = "wall"

    def pick_stage(self, stages):
        """A public, named wall with several columns: every operation has a place."""
        return next(
            s
            for s in stages
            if s.kind == "wall"
            and not s.private_writing
            and not s.anonymous
            and len(s.config.get("columns", [])) > 1
        )

    def prepare(self, fixture, stage):
        journeys.add_cluster(stage, name="Délais")
        journeys.add_cluster(stage, name="Accueil")
        journeys.add_postit(
            stage, participant=fixture.room.alice, text="Déjà là", column=columns(stage)[0]
        )

    def write(self, world, page):
        rng = world.rng
        stage = world.stage
        visible = [n for n in page.postits() if attached(n, page.dom)]
        mine = [
            n for n in visible if page.participant is None or int(n.attrs["data-pid"]) in page.own
        ]
        roll = rng.random()
        if page.audience == "projector":
            return
        if page.participant is None and roll < 0.06:
            return self.theme_op(world, page)
        if mine and roll < 0.3:
            node = recent(world, mine)
            pid = int(node.attrs["data-pid"])
            form = Node("form", {"id": f"postit-{pid}", "class": "postit postit-editing"})
            page.replace(node, [form])
            page.log("edit", pid)
            text = world.text()
            world.written[text] = "journeys.postit_edited"
            world.send(
                page,
                journey_views.edit_postit,
                {"text": text, "op_id": world.new_op()},
                target=form,
                postit_pk=pid,
            )
            return
        if mine and roll < 0.42:
            pid = int(recent(world, mine).attrs["data-pid"])
            page.log("delete", pid)
            world.send(page, journey_views.delete_postit, {"op_id": world.new_op()}, postit_pk=pid)
            return
        if page.participant is None and visible and roll < 0.65:
            picked = {recent(world, visible) for _ in range(rng.randint(1, 3))}
            cluster = rng.choice(themes(page) + [""])
            page.log("move", [n.attrs["data-pid"] for n in picked], "to", cluster or "column")
            data = {
                "cluster": cluster,
                "postits": [n.attrs["data-pid"] for n in picked],
                "op_id": world.new_op(),
            }
            world.send(page, journey_views.cluster_assign, data, stage_pk=stage.pk)
            return
        column = rng.choice(columns(stage))
        page.log("post")
        submit_postit(page, {"text": world.text(), "column": column})

    def theme_op(self, world, page):
        rng = world.rng
        found = themes(page)
        roll = rng.random()
        if found and roll < 0.3:
            cluster = int(rng.choice(found))
            page.log("delete theme", cluster)
            world.send(
                page, journey_views.cluster_delete, {"op_id": world.new_op()}, cluster_pk=cluster
            )
        elif found and roll < 0.6:
            cluster = int(rng.choice(found))
            page.log("rename theme", cluster)
            world.send(
                page,
                journey_views.cluster_rename,
                {"name": world.text(), "op_id": world.new_op()},
                cluster_pk=cluster,
            )
        else:
            page.log("add theme")
            world.send(
                page,
                journey_views.cluster_add,
                {"name": world.text(), "op_id": world.new_op()},
                stage_pk=world.stage.pk,
            )

    def settle(self, world, page):
        """An edit whose request was lost leaves its form open: the person cancels it."""
        for form in [
            n for n in page.dom.elements() if n.tag == "form" and "postit-editing" in n.classes()
        ]:
            pid = int(form.attrs["id"].removeprefix("postit-"))
            world.serve_now(
                page, journey_views.show_postit, {}, target=form, method="get", postit_pk=pid
            )

    def check(self, world):
        problems = []
        truth = wall_truth(world.stage)
        for page in world.pages:
            seen = page.wall()
            if seen != truth:
                only_page = sorted(set(seen.items()) - set(truth.items()), key=str)
                only_db = sorted(set(truth.items()) - set(seen.items()), key=str)
                problems.append(
                    f"{page.name}'s board differs from the database:\n"
                    f"  page only: {only_page}\n  db only:   {only_db}"
                )
        # Counted by what was written, whatever the server did with the op ids.
        applied = defaultdict(int)
        for type, payload in Event.objects.filter(
            workshop_id=world.workshop_id,
            seq__gt=world.fixture.seq[self.name],
            type__in=["journeys.postit_added", "journeys.postit_edited"],
        ).values_list("type", "payload"):
            applied[type, payload["text"]] += 1
        doubled = {key: n for key, n in applied.items() if n > 1}
        if doubled:
            problems.append(f"writes applied more than once: {doubled}")
        lost = [
            text
            for text, type in world.written.items()
            if type == "journeys.postit_added" and not applied[type, text]
        ]
        if lost:
            problems.append(f"post-its never applied: {lost}")
        return problems


KIND = WallOps()
