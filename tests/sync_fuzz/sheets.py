"""The action sheets' operations: open a sheet, rewrite a field, sign (refusals included).
The sheets' reading: each sheet's title, one field, its status and its "to sign again"."""

from commitments.sheets import actions as sheets
from commitments.sheets import views as sheet_views
from commitments.sheets.kinds import sheets_of
from tests.sync_fuzz.base import KindOps

FIELDS = ("title", "test_what", "resources", "test_feedback")


def sheets_truth(stage):
    return {
        str(s.pk): (s.title, s.test_what, s.state["status"], bool(s.state["stale"]))
        for s in sheets_of(stage)
    }


def _status(node):
    badge = next(n for n in node.elements() if "sheet-status" in n.classes())
    return next(c for c in badge.classes() if c.startswith("status-")).removeprefix("status-")


def _stale(node):
    return any("sheet-resign" in n.classes() for n in node.elements())


def sheets_board(page):
    """What `page` shows: {pk: (title, what, status, stale)}; the projector's table has no
    fields: {pk: (title, status, stale)}."""
    board = {}
    for node in page.dom.elements():
        if page.audience == "projector" and node.tag == "tr":
            ident = node.attrs.get("id", "")
            if ident.startswith("sheet-row-"):
                title = next(n for n in node.elements() if n.tag == "td").text().strip()
                board[ident.removeprefix("sheet-row-")] = (title, _status(node), _stale(node))
        elif node.tag == "article" and "sheet-card" in node.classes():
            pk = node.attrs["id"].removeprefix("sheet-")
            title = next(n for n in node.elements() if "sheet-title" in n.classes()).text()
            what = next(n for n in node.elements() if n.attrs.get("id") == f"sheet-{pk}-test_what")
            cell = next(n for n in what.elements() if "sheet-value" in n.classes())
            # An empty field shows a muted "not filled in yet".
            empty = any("muted" in n.classes() for n in cell.elements())
            value = "" if empty else cell.text()
            if pk in board:
                board[("twice", pk)] = title
            board[pk] = (title.strip(), value.strip(), _status(node), _stale(node))
    return board


class SheetOps(KindOps):
    name = "actions"
    residues = frozenset({6})

    def prepare(self, fixture, stage):
        sheets.add_sheet(stage, participant=None, title="Guichet unique")

    def write(self, world, page):
        rng = world.rng
        stage = world.stage
        if page.audience == "projector":
            return
        pks = [
            n.attrs["id"].removeprefix("sheet-")
            for n in page.dom.elements()
            if n.tag == "article" and "sheet-card" in n.classes()
        ]
        roll = rng.random()
        if pks and page.participant is not None and roll < 0.3:
            pk = rng.choice(pks)
            # The confirmation step carries the hash of the sheet as it was read then.
            found = sheets_of(stage, pk=int(pk))
            content_hash = found[0].hash if found else ""
            page.log("sign", pk)
            world.send(
                page,
                sheet_views.sheet_sign,
                {"hash": content_hash, "confirm": "1", "op_id": world.new_op()},
                sheet_pk=pk,
            )
        elif pks and roll < 0.9:
            pk = rng.choice(pks)
            field = rng.choice(FIELDS)
            page.log("edit sheet", pk, field)
            world.send(
                page,
                sheet_views.sheet_edit,
                {"field": field, "value": world.text(), "op_id": world.new_op()},
                sheet_pk=pk,
            )
        else:
            page.log("add sheet")
            world.send(
                page,
                sheet_views.sheet_new,
                {"title": world.text(), "op_id": world.new_op()},
                stage_pk=stage.pk,
            )

    def check(self, world):
        problems = []
        truth = sheets_truth(world.stage)
        for page in world.pages:
            seen = sheets_board(page)
            if page.audience == "projector":
                here = {pk: (t, status, stale) for pk, (t, _w, status, stale) in truth.items()}
            else:
                here = truth
            if seen != here:
                problems.append(
                    f"{page.name}'s sheets differ from the database:\n"
                    f"  page: {sorted(seen.items(), key=str)}\n"
                    f"  db:   {sorted(here.items(), key=str)}"
                )
        return problems


KIND = SheetOps()
