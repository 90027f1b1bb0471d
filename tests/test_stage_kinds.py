"""The contract every stage kind keeps (docs/stage-kinds.md): a new kind is done when this is green.

Parametrised over every registered kind and every kind a method names. For
each: the board renders for the three audiences and in the report; export →
import → export gives the same document; replaying a scripted session's
events onto a page that was open before it gives the same regions as a fresh
render (Zulip's test_events.py, for our frames); the board's queries are
pinned; and each kind has a script here.
"""

import json
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.utils import translation

from commitments.ideas import actions as ideas
from commitments.tree import actions as tree
from commitments.votes import actions as votes
from journeys import actions as journeys
from mapping import actions as mapping
from tests.faults.model import Board, Node
from workshops import actions
from workshops.exports import report, transfer
from workshops.live.regions import render_live, render_snapshot
from workshops.live.write import AUDIENCES
from workshops.models import Event, Workshop
from workshops.registry import FALLBACK, all_kinds, get_kind

METHODS = Path(__file__).resolve().parents[1] / "workshops" / "methods"
NAMED = sorted(
    {
        stage["kind"]
        for path in METHODS.glob("*.json")
        for stage in json.loads(path.read_text())["stages"]
    }
)
KINDS = sorted({kind.key for kind in all_kinds()} | set(NAMED))


@pytest.fixture(autouse=True)
def _fast(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.VAR_DIR = tmp_path


# A scripted session per kind: what people do on such a stage, through the actions.


def wall_session(room, stage):
    column = stage.config["columns"][0]["key"]
    first = journeys.add_postit(
        stage, participant=room.alice, text="Contrat: délais", column=column
    )
    second = journeys.add_postit(
        stage, participant=room.bruno, text="Des <b>pièces</b>", column=column
    )
    journeys.add_postit(stage, participant=None, text="Note de l’animatrice", column=column)
    journeys.edit_postit(first, participant=room.alice, text="Contrat: délais tenus")
    theme = journeys.add_cluster(stage, name="Délais")
    journeys.assign_cluster(stage, [first.pk], theme)
    journeys.rename_cluster(theme, name="Délais et pièces")
    gone = journeys.add_postit(stage, participant=room.bruno, text="À retirer", column=column)
    journeys.delete_postit(gone, participant=room.bruno)
    journeys.assign_cluster(stage, [second.pk], theme)
    return "Contrat: délais tenus"


def map_session(room, stage):
    achats = mapping.add_actor(
        stage, participant=room.alice, name="Contrat achats", circle="suppliers"
    )
    usagers = mapping.add_actor(
        stage, participant=room.bruno, name="Usagers", circle="clients", scope="external"
    )
    flow = mapping.add_flow(
        stage,
        participant=room.alice,
        source=str(achats.pk),
        target="centre",
        kind="deliverable",
        label="Licences",
        mismatch='"><svg onload=alert(1)>',
    )
    mapping.rate_flow(flow, participant=room.bruno, rating="friction")
    mapping.move_actor(stage, str(usagers.pk), x=900, y=150)
    mapping.edit_actor(
        stage, str(achats.pk), participant=room.bruno, name="Contrat achats", scope="external"
    )
    other = mapping.add_flow(
        stage,
        participant=room.bruno,
        source="centre",
        target=str(usagers.pk),
        kind="information",
        label="Horaires",
    )
    mapping.delete_flow(other, participant=room.alice)
    return "Contrat achats"


def ideas_session(room, stage):
    challenge = ideas.add_challenge(
        stage, participant=None, text="Comment pourrions-nous répondre plus vite ?"
    )
    first = ideas.add_idea(
        stage, participant=room.alice, text="Un guichet unique", challenge=f"c{challenge.pk}"
    )
    second = ideas.add_idea(stage, participant=room.bruno, text="Des <b>pièces</b> en ligne")
    third = ideas.add_idea(
        stage, participant=room.bruno, text="Un numéro direct", challenge=f"c{challenge.pk}"
    )
    vote = votes.open_vote(stage, budget=3, cap=2, double=True, hidden=False)
    votes.add_dot(vote, participant=room.alice, item=f"commitments.idea:{first.pk}")
    votes.add_dot(
        vote, participant=room.alice, item=f"commitments.idea:{third.pk}", budget="second"
    )
    votes.add_dot(vote, participant=room.bruno, item=f"commitments.idea:{second.pk}")
    votes.remove_dot(vote, participant=room.bruno, item=f"commitments.idea:{second.pk}")
    votes.add_dot(vote, participant=room.bruno, item=f"commitments.idea:{third.pk}")
    ideas.merge_ideas(stage, source=third.pk, target=first.pk)
    votes.close_vote(vote)
    return "Un guichet unique"


def tree_session(room, stage):
    the_map = room.workshop.stages.get(kind="map")
    achats = mapping.add_actor(
        the_map, participant=None, name="Contrat <b>achats</b>", circle="suppliers"
    )
    mine = tree.add_commitment(
        stage, participant=room.alice, sentence="commit", text="Répondre sous deux jours"
    )
    tree.add_commitment(
        stage,
        participant=room.bruno,
        sentence="relation",
        target=f"mapping.actor:{achats.pk}",
        text="Des <b>pièces</b> complètes",
    )
    tree.add_commitment(
        stage,
        participant=None,
        sentence="relation",
        target="other",
        target_name="La DRH",
        text="Un point par mois",
    )
    tree.edit_commitment(
        stage,
        participant=room.alice,
        commitment=mine.pk,
        sentence="relation",
        target="other",
        target_name="L'accueil",
        text="Répondre sous deux jours ouvrés",
    )
    gone = tree.add_commitment(stage, participant=None, sentence="commit", text="À retirer")
    tree.delete_commitment(stage, participant=None, commitment=gone.pk)
    tree.show_view(stage, view="alliances")
    tree.show_view(stage, view="tree")
    return "Répondre sous deux jours ouvrés"


SESSIONS = {
    "framing": wall_session,
    "wall": wall_session,
    "map": map_session,
    "ideas": ideas_session,
    "tree": tree_session,
}
# The console's live region, on a board the session furnished: stages, the people without a
# phone the console writes for, then the kind's own reads. A kind that reads per object
# breaks this. The ideas and tree boards read every other stage's items (one query or so per
# stage: the map gives its flows and its actors).
BOARD_QUERIES = {"framing": 4, "wall": 4, "map": 4, "ideas": 16, "tree": 12}


def staged(room, key):
    workshop = room.workshop
    stage = actions.add_stage(workshop, kind=key, title=f"Étape {key}")
    actions.go_to_stage(workshop, stage)
    return Workshop.objects.select_related("current_stage").get(pk=workshop.pk), stage


# The page's regions, compared as trees: attributes sorted, whitespace folded, and the
# operation ids a form gets fresh at each render left out.


def canon(node):
    if not isinstance(node, Node):
        text = " ".join(str(node).split())
        return text or None
    attrs = dict(node.attrs)
    if node.tag == "input" and attrs.get("name") == "op_id":
        attrs.pop("value", None)
    children = [c for c in (canon(child) for child in node.children) if c is not None]
    return (node.tag, tuple(sorted(attrs.items())), tuple(children))


def lines(tree, depth=0):
    """A region tree as indented lines, for a readable diff."""
    if isinstance(tree, dict):
        return [line for ident, sub in tree.items() for line in [f"#{ident}", *lines(sub, 1)]]
    if not isinstance(tree, tuple):
        return ["  " * depth + repr(tree)]
    tag, attrs, children = tree
    head = "  " * depth + f"<{tag} {' '.join(f'{k}={v!r}' for k, v in attrs)}>"
    return [head, *(line for child in children for line in lines(child, depth + 1))]


def regions(board):
    idents = ("live", "stage-list", "controls", "done-count", "done-button")
    return {ident: canon(board.by_id(ident)) for ident in idents}


def opened_page(workshop, audience):
    board = Board()
    if audience == "facilitator":  # the console's header holds the done count
        board.insert(board.dom, Node("span", {"id": "done-count"}))
    board.apply(render_snapshot(workshop, audience)[0])
    return board


# The contract ------------------------------------------------------------------------------


def test_it_registers_every_kind_a_method_names():
    assert NAMED, "no method names a kind"
    assert [key for key in NAMED if get_kind(key) is FALLBACK] == []


@pytest.mark.parametrize("key", KINDS)
def test_it_has_a_scripted_session_for_each_kind(key):
    assert key in SESSIONS, f"{key}: add its session to tests/test_stage_kinds.py"
    assert key in BOARD_QUERIES, f"{key}: pin its board's queries"


@pytest.mark.parametrize("key", KINDS)
def test_it_draws_the_board_for_every_audience_and_the_report(room, key):
    workshop, stage = staged(room, key)
    typed = SESSIONS[key](room, stage)
    for audience in AUDIENCES:
        html, _own = render_live(workshop, audience)
        assert 'id="live"' in html and typed in html, audience
        assert "<svg onload" not in html and "<b>pièces" not in html, audience
    section = next(
        s for s in report.report_context(workshop)["sections"] if s["stage"].pk == stage.pk
    )
    assert section["kind"].key == key
    assert typed in section["body"]
    kind = get_kind(key)
    assert kind.report_css, f"{key}: its report section's CSS (StageKind.report_css)"
    from django.template.loader import render_to_string

    css = render_to_string(kind.report_css).strip().splitlines()[-1]
    assert css in report.report_html(workshop)


@pytest.mark.parametrize("key", KINDS)
def test_it_exports_imports_and_exports_the_same_document(room, key):
    from tests.test_export import without_timestamps

    workshop, stage = staged(room, key)
    SESSIONS[key](room, stage)
    first = json.loads(json.dumps(transfer.export_workshop(workshop)))
    imported = transfer.import_workshop(
        json.loads(json.dumps(first)), get_user_model().objects.get(username="oscar")
    )
    second = transfer.export_workshop(imported)
    assert without_timestamps(second) == without_timestamps(first)


@pytest.mark.parametrize("key", KINDS)
def test_it_replays_a_session_onto_an_open_page_as_a_fresh_render(room, key):
    workshop, stage = staged(room, key)
    pages = {audience: opened_page(workshop, audience) for audience in AUDIENCES}
    seq = Workshop.objects.get(pk=workshop.pk).seq
    # Written from pages in another language than the workshop's (French): what the room
    # is pushed is still in the workshop's language.
    with translation.override("en"):
        SESSIONS[key](room, stage)
    # Another stage and back: the whole-region redraws, after the small fragments.
    events = list(Event.objects.filter(workshop=workshop, seq__gt=seq).order_by("seq"))
    assert events, "the session wrote nothing"
    for event in events:
        for audience, board in pages.items():
            html = event.frames.get(audience, "")
            if html:
                board.apply(html)
    workshop = Workshop.objects.select_related("current_stage").get(pk=workshop.pk)
    for audience, board in pages.items():
        assert board.missed_targets == 0, f"{audience}: a frame aimed at nothing"
        fresh = opened_page(workshop, audience)
        replayed, drawn = regions(board), regions(fresh)
        if replayed != drawn:
            import difflib

            diff = difflib.unified_diff(lines(drawn), lines(replayed), "fresh", "replayed", n=2)
            pytest.fail(f"{audience}: the replayed page differs\n" + "\n".join(diff))


@pytest.mark.parametrize("key", KINDS)
def test_it_draws_the_board_in_a_pinned_number_of_queries(room, key, django_assert_num_queries):
    workshop, stage = staged(room, key)
    SESSIONS[key](room, stage)
    workshop = Workshop.objects.select_related("current_stage").get(pk=workshop.pk)
    render_live(workshop, "facilitator")  # templates compiled
    with django_assert_num_queries(BOARD_QUERIES[key]):
        render_live(workshop, "facilitator")


def test_it_honours_writable_for_a_kind_nobody_writes_on(room):
    """A stage of a kind nobody writes on (here: not installed) hides "I’m done", refuses writes."""
    from workshops.live.regions import render_regions
    from workshops.live.write import ActionError, room_write

    workshop = room.workshop
    stage = actions.add_stage(workshop, kind="not_installed", title="Dans la salle")
    actions.go_to_stage(workshop, stage)
    workshop = Workshop.objects.select_related("current_stage").get(pk=workshop.pk)
    assert not stage.writable and get_kind(stage.kind) is FALLBACK
    html, _own = render_regions(workshop, "participant", room.alice, is_done=False)
    button = next(n for n in Board(html).dom.elements() if n.attrs.get("id") == "done-button")
    assert "hidden" in button.attrs
    with (
        pytest.raises(ActionError) as refused,
        room_write(workshop.pk, participant=room.alice, stage_id=stage.pk, writing=True),
    ):
        pass
    assert refused.value.status == 409
    wall = next(s for s in workshop.stages.all() if s.kind == "wall")
    actions.go_to_stage(workshop, wall)
    workshop = Workshop.objects.select_related("current_stage").get(pk=workshop.pk)
    html, _own = render_regions(workshop, "participant", room.alice, is_done=False)
    button = next(n for n in Board(html).dom.elements() if n.attrs.get("id") == "done-button")
    assert "hidden" not in button.attrs
