"""The commitment tree's operations: write a commitment (either sentence, towards a map
actor, another service or oneself), change or take back one's own, switch the projector
between the tree and the alliance map. Its reading: which commitments each page lists, with
which text, and which leaves the projector's tree draws."""

from commitments.models import Commitment
from commitments.tree import views as tree_views
from commitments.tree.kinds import actor_items
from tests.sync_fuzz.base import KindOps
from workshops import actions


def commitments_truth(stage):
    return {str(c.pk): c.text for c in Commitment.objects.filter(stage=stage)}


def shown_commitments(page):
    seen = {}
    for node in page.dom.elements():
        if node.tag == "li" and "commitment" in node.classes() and node.attrs.get("id"):
            pk = node.attrs["id"].removeprefix("commitment-")
            text = next(n for n in node.elements() if "commitment-text" in n.classes()).text()
            if pk in seen:
                seen[("twice", pk)] = text
            seen[pk] = text
    return seen


def shown_leaves(page):
    """The leaves the tree draws (None when the page shows the alliance map instead)."""
    if not any("tree-svg" in n.classes() for n in page.dom.elements()):
        return None
    return sorted(
        node.attrs["id"].removeprefix("leaf-")
        for node in page.dom.elements()
        if node.tag == "g" and "tree-leaf" in node.classes()
    )


class TreeOps(KindOps):
    name = "tree"
    residues = frozenset({3})

    def pick_stage(self, stages):
        found = next((s for s in stages if s.kind == self.name), None)
        if found is None:
            found = actions.add_stage(stages[0].workshop, kind="tree", title="Arbre")
        return found

    def prepare(self, fixture, stage):
        from commitments.tree import actions as tree

        # Three each: enough that writes are mostly accepted, and the limit is met too.
        stage.config = {**stage.config, "per_person": 3}
        stage.save(update_fields=["config"])
        the_map = stage.workshop.stages.filter(kind="map").first()
        if the_map is not None:
            from mapping import actions as mapping

            mapping.add_actor(the_map, participant=None, name="Achats", circle="suppliers")
        tree.add_commitment(
            stage, participant=fixture.participants[0], sentence="commit", text="Répondre vite"
        )

    def write(self, world, page):
        rng = world.rng
        stage = world.stage
        if page.audience == "projector":
            return
        roll = rng.random()
        own = (
            list(Commitment.objects.filter(stage=stage, author=page.participant))
            if page.participant is not None
            else list(Commitment.objects.filter(stage=stage))
        )
        if own and roll < 0.2:
            target = rng.choice(own)
            page.log("take back", target.pk)
            world.send(
                page,
                tree_views.delete_commitment,
                {"op_id": world.new_op()},
                stage_pk=stage.pk,
                commitment_pk=target.pk,
            )
        elif own and roll < 0.4:
            target = rng.choice(own)
            page.log("change", target.pk)
            world.send(
                page,
                tree_views.edit_commitment,
                {"sentence": "commit", "text": world.text(), "op_id": world.new_op()},
                stage_pk=stage.pk,
                commitment_pk=target.pk,
            )
        elif page.participant is None and roll < 0.5:
            view = rng.choice(["tree", "alliances"])
            page.log("show", view)
            world.send(
                page,
                tree_views.show_view,
                {"view": view, "op_id": world.new_op()},
                stage_pk=stage.pk,
            )
        else:
            actors = list(actor_items(stage))
            pick = rng.random()
            if pick < 0.4:
                fields = {"sentence": "commit"}
            elif pick < 0.7 and actors:
                fields = {"sentence": "relation", "target": rng.choice(actors)}
            else:
                fields = {"sentence": "relation", "target": "other", "target_name": "DRH"}
            page.log("add", fields["sentence"])
            world.send(
                page,
                tree_views.add_commitment,
                {**fields, "text": world.text(), "op_id": world.new_op()},
                stage_pk=stage.pk,
            )

    def check(self, world):
        problems = []
        truth = commitments_truth(world.stage)
        for page in world.pages:
            if page.audience == "projector":
                leaves = shown_leaves(page)
                if leaves is not None and leaves != sorted(truth):
                    problems.append(
                        f"{page.name}'s tree has leaves {leaves}, the database {sorted(truth)}"
                    )
                continue
            seen = shown_commitments(page)
            # The list reads "sentence … text": the text is what the person wrote.
            wrong = {
                pk: text
                for pk, text in seen.items()
                if not isinstance(pk, str) or pk not in truth or not text.endswith(truth[pk])
            }
            if set(seen) != set(truth) or wrong:
                problems.append(
                    f"{page.name}'s commitments differ from the database:\n"
                    f"  page: {sorted(seen.items(), key=str)}\n"
                    f"  db:   {sorted(truth.items())}"
                )
        return problems


KIND = TreeOps()
