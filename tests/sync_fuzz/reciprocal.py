"""The reciprocal table's operations: the facilitator types rows in and writes cells; a
phone takes a row (joining its pair) and writes that row's cells, the last write winning.
Its reading: which rows each page shows, and, on the console and the projector, every
cell's text."""

from commitments.models import Holder, Row
from commitments.reciprocal import views as table_views
from tests.sync_fuzz.base import KindOps
from workshops import actions

TABLE_FIELDS = ("expects_from_us", "we_commit", "we_expect")
PAIR_FIELDS = ("acceptable", "unacceptable")


def table_truth(stage):
    return {
        str(r.pk): tuple(getattr(r, f) for f in TABLE_FIELDS)
        for r in Row.objects.filter(stage=stage)
    }


def shown_rows(page):
    """{row pk: its three cells' texts} on the console and projector, {row pk: None} on phones."""
    seen = {}
    for node in page.dom.elements():
        if node.tag == "tr" and "reciprocal-row" in node.classes():
            pk = node.attrs["id"].removeprefix("row-")
            cells = [n for n in node.elements() if n.tag == "td" and "cell" in n.classes()]
            texts = tuple(
                "" if "is-empty" in c.classes() else " ".join(c.text().split()) for c in cells[:3]
            )
            seen[("twice", pk) if pk in seen else pk] = texts
        elif node.tag == "article" and "rrow" in node.classes():
            pk = node.attrs["id"].removeprefix("row-")
            seen[("twice", pk) if pk in seen else pk] = None
    return seen


class ReciprocalOps(KindOps):
    name = "reciprocal"
    residues = frozenset({1})

    def pick_stage(self, stages):
        found = next((s for s in stages if s.kind == self.name), None)
        if found is None:  # the test room's method has none: one more stage
            found = actions.add_stage(stages[0].workshop, kind="reciprocal", title="Engagements")
        return found

    def prepare(self, fixture, stage):
        from commitments.reciprocal import actions as reciprocal

        for label in ("Comptabilité", "Service RH", "Logistique"):
            reciprocal.add_row(stage, label=label)

    def write(self, world, page):
        rng = world.rng
        stage = world.stage
        if page.audience == "projector":
            return
        rows = [pk for pk in shown_rows(page) if isinstance(pk, str)]
        roll = rng.random()
        if page.participant is None:
            if not rows or roll < 0.2:
                page.log("add row")
                world.send(
                    page,
                    table_views.add_row,
                    {"label": world.text()[:100], "op_id": world.new_op()},
                    stage_pk=stage.pk,
                )
                return
            pk = rng.choice(rows)
            field = rng.choice(TABLE_FIELDS + PAIR_FIELDS)
            page.log("write cell", pk, field)
            data = {"row": pk, "field": field, "text": world.text(), "op_id": world.new_op()}
            world.send(page, table_views.write_cell, data, stage_pk=stage.pk)
            return
        held = Holder.objects.filter(stage=stage, participant=page.participant).first()
        if held is None or roll < 0.15:
            if not rows:
                return
            pk = rng.choice(rows)
            page.log("take row", pk)
            data = {"row": pk, "op_id": world.new_op()}
            world.send(page, table_views.take_row, data, stage_pk=stage.pk)
            return
        field = rng.choice(TABLE_FIELDS + PAIR_FIELDS)
        page.log("write own cell", held.row_id, field)
        data = {"row": held.row_id, "field": field, "text": world.text(), "op_id": world.new_op()}
        world.send(page, table_views.write_cell, data, stage_pk=stage.pk)

    def check(self, world):
        problems = []
        truth = table_truth(world.stage)
        for page in world.pages:
            seen = shown_rows(page)
            if page.audience == "participant":
                if set(seen) != set(truth):
                    problems.append(
                        f"{page.name}'s rows differ from the database:\n"
                        f"  page: {sorted(seen, key=str)}\n  db:   {sorted(truth)}"
                    )
            elif seen != truth:
                problems.append(
                    f"{page.name}'s table differs from the database:\n"
                    f"  page: {sorted(seen.items(), key=str)}\n"
                    f"  db:   {sorted(truth.items())}"
                )
        return problems


KIND = ReciprocalOps()
