"""A review's operations: record a sheet's status, write what was measured or learned,
confirm as a signatory (refused for the others), take a status back. Its reading: each
row's status on every page, as the database has it."""

from commitments.sheets import actions as sheets
from commitments.sheets.kinds import sheets_of
from reviews import views as review_views
from reviews.models import ReviewEntry
from tests.sync_fuzz.base import KindOps
from workshops import actions

STATUSES = ("not_started", "in_progress", "done", "dropped", "")
FIELDS = ("measured", "learned", "next_step")


def statuses_truth(stage):
    found = {}
    for ref, status in ReviewEntry.objects.filter(stage=stage).values_list("item_ref", "status"):
        found[ref.rpartition(":")[2]] = status or "none"
    return found


def statuses_shown(page, stage):
    """{sheet pk: status} for every row the page draws (a row never reviewed is left out)."""
    prefix = f"rv-{stage.pk}-"
    seen = {}
    for node in page.dom.elements():
        ident = node.attrs.get("id", "")
        if not (ident.startswith(prefix) and node.tag in ("tr", "li")):
            continue
        pk = ident.removeprefix(prefix)
        status = next(n for n in node.elements() if "rv-status" in n.classes())
        value = next(c for c in status.classes() if c.startswith("rv-s-")).removeprefix("rv-s-")
        if pk in seen:
            seen[("twice", pk)] = value
        seen[pk] = value
    return seen


class ReviewOps(KindOps):
    name = "review_actions"
    residues = frozenset({7})

    def pick_stage(self, stages):
        found = next((s for s in stages if s.kind == self.name), None)
        if found is None:
            found = actions.add_stage(
                stages[0].workshop,
                kind=self.name,
                title="Bilan à 30 jours · Fiches-actions",
                config={"review": "bilan", "label": "Bilan à 30 jours", "date": "2027-01-05"},
            )
        return found

    def prepare(self, fixture, stage):
        sheet_stage = stage.workshop.stages.filter(kind="actions").first() or actions.add_stage(
            stage.workshop, kind="actions", title="Fiches"
        )
        for title in ("Guichet unique", "Charte d’accueil"):
            sheet = sheets.add_sheet(sheet_stage, participant=None, title=title)
            [current] = sheets_of(sheet_stage, pk=sheet.pk)
            # The first phone signed at the workshop (the model's verb: no event of this run).
            sheet.sign(fixture.participants[0], current.hash)

    def write(self, world, page):
        rng = world.rng
        stage = world.stage
        if page.audience == "projector":
            return
        prefix = f"rv-{stage.pk}-"
        pks = [
            n.attrs["id"].removeprefix(prefix)
            for n in page.dom.elements()
            if n.tag in ("tr", "li") and n.attrs.get("id", "").startswith(prefix)
        ]
        if not pks:
            return
        item = f"commitments.actionsheet:{rng.choice(pks)}"
        roll = rng.random()
        if roll < 0.5:
            status = rng.choice(STATUSES)
            page.log("status", item, status)
            world.send(
                page,
                review_views.record,
                {"item": item, "status": status, "op_id": world.new_op()},
                stage_pk=stage.pk,
            )
        elif roll < 0.8:
            field = rng.choice(FIELDS)
            page.log("write", item, field)
            world.send(
                page,
                review_views.record,
                {"item": item, field: world.text(), "op_id": world.new_op()},
                stage_pk=stage.pk,
            )
        else:
            page.log("confirm", item)
            world.send(
                page,
                review_views.confirm,
                {"item": item, "op_id": world.new_op()},
                stage_pk=stage.pk,
            )

    def check(self, world):
        problems = []
        truth = statuses_truth(world.stage)
        for page in world.pages:
            seen = statuses_shown(page, world.stage)
            reviewed = {pk: s for pk, s in seen.items() if s != "none" or pk in truth}
            if reviewed != truth:
                problems.append(
                    f"{page.name}'s review statuses differ from the database:\n"
                    f"  page: {sorted(seen.items(), key=str)}\n"
                    f"  db:   {sorted(truth.items())}"
                )
        return problems


KIND = ReviewOps()
