"""The tension matrix's operations: write a tension, add causes and opportunities to
any row, say "me too", reword an opportunity as a challenge. The matrix's reading:
each row's tension, causes (with their kind and "me too" count), opportunities and
challenges, as the database has them."""

from journeys.models import Tension
from journeys.tensions import actions as matrix
from journeys.tensions import views as matrix_views
from journeys.tensions.kinds import tensions_of
from tests.sync_fuzz.base import KindOps

KINDS = ("implicit", "unshared", "dependency", "control", "other")


def matrix_truth(stage):
    rows = {}
    for tension in tensions_of(stage):
        rows[str(tension.pk)] = (
            tension.text,
            tuple((c.kind, c.text, c.me_too_count) for c in tension.causes.all()),
            tuple(
                (o.text, tuple(ch.text for ch in o.challenges.all()))
                for o in tension.opportunities.all()
            ),
        )
    return rows


def _text(node, cls):
    found = next((n for n in node.elements() if cls in n.classes()), None)
    return " ".join(found.text().split()) if found is not None else None


def matrix_board(page):
    """What `page` shows: {tension pk: (text, causes, opportunities)}, read from its rows."""
    rows = {}
    for row in page.dom.elements():
        if row.tag != "tr" or "tension-row" not in row.classes():
            continue
        pk = row.attrs["id"].removeprefix("tension-")
        causes = []
        opportunities = []
        for node in row.elements():
            if node.tag == "li" and "cause" in node.classes():
                kind = next(c for c in node.classes() if c.startswith("k-")).removeprefix("k-")
                count = _text(node, "me-too-count") or ""
                causes.append((kind, _text(node, "cause-text"), int(count.split()[0] or 0)))
            if node.tag == "li" and "opportunity" in node.classes():
                challenges = tuple(
                    " ".join(n.text().replace(_text(n, "label") or "", "", 1).split())
                    .removeprefix("💡 ")
                    .strip()
                    for n in node.elements()
                    if n.tag == "p" and "challenge" in n.classes()
                )
                opportunities.append(
                    (_text(node, "opportunity-text").removeprefix("✔ "), challenges)
                )
        if pk in rows:
            rows[("twice", pk)] = True
        rows[pk] = (
            _text(row, "tension-text").removeprefix("✖ "),
            tuple(causes),
            tuple(opportunities),
        )
    return rows


class TensionOps(KindOps):
    name = "tensions"
    residues = frozenset({8})  # one run in ten, taken from the wall's

    def prepare(self, fixture, stage):
        matrix.add_tension(stage, participant=None, text="Alerte client sans rappel")
        matrix.add_tension(stage, participant=None, text="Validations en cascade")

    def write(self, world, page):
        rng = world.rng
        stage = world.stage
        if page.audience == "projector":
            return
        rows = [
            n.attrs["id"].removeprefix("tension-")
            for n in page.dom.elements()
            if n.tag == "tr" and "tension-row" in n.classes()
        ]
        causes = [
            n.attrs["id"].removeprefix("cause-")
            for n in page.dom.elements()
            if n.tag == "li" and "cause" in n.classes()
        ]
        opportunities = [
            n.attrs["id"].removeprefix("opportunity-")
            for n in page.dom.elements()
            if n.tag == "li" and "opportunity" in n.classes()
        ]
        roll = rng.random()
        # (A new row redraws the whole board: rarer than what goes into rows.)
        if not rows or roll < 0.05:
            page.log("add tension")
            data = {"text": world.text(), "op_id": world.new_op()}
            world.send(page, matrix_views.tension_add, data, stage_pk=stage.pk)
        elif roll < 0.45:
            tension = rng.choice(rows)
            page.log("add cause", tension)
            data = {"kind": rng.choice(KINDS), "text": world.text(), "op_id": world.new_op()}
            world.send(page, matrix_views.cause_add, data, tension_pk=int(tension))
        elif roll < 0.7:
            tension = rng.choice(rows)
            page.log("add opportunity", tension)
            data = {"text": world.text(), "op_id": world.new_op()}
            world.send(page, matrix_views.opportunity_add, data, tension_pk=int(tension))
        elif causes and page.participant is not None and roll < 0.85:
            cause = rng.choice(causes)
            page.log("me too", cause)
            # A second "me too" is refused (409) and changes nothing: part of the mix.
            data = {"op_id": world.new_op()}
            world.send(page, matrix_views.me_too, data, cause_pk=int(cause))
        elif opportunities:
            opportunity = rng.choice(opportunities)
            page.log("add challenge", opportunity)
            data = {"text": world.text(), "op_id": world.new_op()}
            world.send(page, matrix_views.challenge_add, data, opportunity_pk=int(opportunity))
        else:
            tension = rng.choice(rows)
            page.log("add opportunity", tension)
            data = {"text": world.text(), "op_id": world.new_op()}
            world.send(page, matrix_views.opportunity_add, data, tension_pk=int(tension))

    def check(self, world):
        problems = []
        truth = matrix_truth(world.stage)
        for page in world.pages:
            seen = matrix_board(page)
            if seen != truth:
                problems.append(
                    f"{page.name}'s matrix differs from the database:\n"
                    f"  page: {sorted(seen.items(), key=str)}\n"
                    f"  db:   {sorted(truth.items(), key=str)}"
                )
        if Tension.objects.filter(stage=world.stage).count() != len(truth):
            problems.append("tensions counted twice")
        return problems


KIND = TensionOps()
