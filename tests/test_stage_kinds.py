"""The contract every stage kind keeps (docs/stage-kinds.md): a new kind is done when this is green.

Parametrised over every registered kind and every kind a method names. For
each: the board renders for the three audiences and in the report; export →
import → export gives the same document; replaying a scripted session's
events onto a page that was open before it gives the same regions as a fresh
render (Zulip's test_events.py, for our frames); the board's queries are
pinned, and so is each write of the session; and each kind has a script here.
"""

import json
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.utils import translation

from commitments.ideas import actions as ideas
from commitments.promise import actions as promise
from commitments.reciprocal import actions as reciprocal
from commitments.sheets import actions as sheets
from commitments.sheets.kinds import sheets_of
from commitments.tree import actions as tree
from commitments.votes import actions as votes
from journeys import actions as journeys
from journeys.journey import actions as journey
from journeys.models import PostIt
from mapping import actions as mapping
from tests.faults.model import Board, Node
from tests.regions import region_diff, regions
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
        for method in [json.loads(path.read_text())]
        for stage in method["stages"] + [v["stage"] for v in method.get("variants", [])]
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


def journey_session(room, stage):
    alerte = journey.add_situation(stage, participant=None, name="Alerte client")
    journey.add_situation(stage, participant=room.alice, name="Livraison <b>ratée</b>")
    appel = journey.add_step(stage, participant=None, name="Premier appel", phase="before")
    suivi = journey.add_step(stage, participant=None, name="Suivi", moment_of_truth=True)
    proposed = journey.add_step(stage, participant=room.bruno, name="Relance")
    journey.edit_step(proposed, name="Relance", adopt=True)
    journey.move_step(proposed, direction="up")
    first = journey.add_postit(
        stage,
        participant=room.alice,
        situation=alerte.pk,
        step=appel.pk,
        perspective="client",
        colour="red",
        text="Personne ne répond",
    )
    journey.add_postit(
        stage,
        participant=room.bruno,
        situation=alerte.pk,
        step=appel.pk,
        perspective="supplier",
        colour="green",
        text='Des <b>pièces</b> "><svg onload=alert(1)>',
    )
    journey.edit_postit(
        first,
        participant=room.alice,
        text="Personne ne répond au téléphone",
        colour="red",
        step=suivi.pk,
        perspective="client",
    )
    gone = journey.add_postit(
        stage,
        participant=room.bruno,
        situation=alerte.pk,
        step=suivi.pk,
        perspective="service",
        colour="orange",
        text="À retirer",
    )
    journey.delete_postit(gone, participant=room.bruno)
    journey.rate(
        stage,
        participant=room.alice,
        situation=alerte.pk,
        step=suivi.pk,
        perspective="client",
        value=-2,
    )
    journey.rate(
        stage,
        participant=room.alice,
        situation=alerte.pk,
        step=suivi.pk,
        perspective="client",
        value=-1,
    )
    journey.rate(
        stage,
        participant=room.bruno,
        situation=alerte.pk,
        step=appel.pk,
        perspective="supplier",
        value=2,
    )
    journey.set_view(stage, view="heatmap", situation=alerte.pk)
    journey.set_view(stage, view="grid")
    return "Personne ne répond au téléphone"


def tensions_session(room, stage):
    from journeys.tensions import actions as matrix
    from workshops.registry import item_of

    # A red post-it of another stage, promoted; a tension written fresh.
    wall = actions.add_stage(
        room.workshop,
        kind="wall",
        title="Parcours",
        config={"columns": [{"key": "c", "label": "Côté client"}], "colours": ["green", "red"]},
    )
    # (Stored as it stands: the wall's own push aims at its board, which no page shows now.)
    red = PostIt.objects.create(
        workshop=room.workshop, stage=wall, column="c", colour="red", text="Alerte <b>pièces</b>"
    )
    promoted = matrix.promote_item(stage, item_of(red))
    fresh = matrix.add_tension(stage, participant=room.alice, text="Délais implicites")
    cause = matrix.add_cause(
        promoted, participant=room.bruno, kind="implicit", text='"><svg onload=alert(1)>'
    )
    matrix.add_cause(fresh, participant=room.alice, kind="control", text="Trop de validations")
    matrix.me_too(cause, participant=room.alice)
    opportunity = matrix.add_opportunity(fresh, participant=room.bruno, text="Un seul circuit")
    matrix.add_challenge(opportunity, participant=room.alice, text="simplifier le circuit")
    gone = matrix.add_tension(stage, participant=room.bruno, text="À retirer")
    matrix.delete_tension(gone)
    return "Délais implicites"


def empathy_session(room, stage):
    config = {
        **stage.config,
        "persona": {"name": "Nadia <b>pièces</b>", "role": "Cheffe", "sentence": "Pressée"},
    }
    actions.update_stage(stage, config=config)
    stage.refresh_from_db()
    quote = journeys.add_postit(
        stage, participant=room.alice, text="« On m’a dit demain »", column="says", verbatim=True
    )
    journeys.add_postit(stage, participant=room.bruno, text="Perdue", column="feels")
    journeys.add_postit(stage, participant=None, text='"><svg onload=alert(1)>', column="pains")
    journeys.edit_postit(quote, participant=room.alice, text="On m’a dit demain", verbatim=True)
    return "On m’a dit demain"


def actions_session(room, stage):
    sheet = sheets.add_sheet(stage, participant=room.alice, title="Guichet unique")
    sheets.edit_sheet(sheet, participant=room.bruno, field="description", value="Des <b>pièces</b>")
    sheets.edit_sheet(
        sheet, participant=room.alice, field="indicators", value="Délai : 48 h\nRelances: 0"
    )
    sheets.edit_sheet(sheet, participant=room.bruno, field="start_date", value="2026-12-10")
    sheets.edit_sheet(sheet, participant=room.bruno, field="owner", value=str(room.bruno.pk))
    sheets.edit_sheet(sheet, participant=room.alice, field="co_owners", value=[str(room.alice.pk)])
    for person in (room.alice, room.bruno):
        [current] = sheets_of(stage, pk=sheet.pk)
        sheets.sign_sheet(sheet, participant=person, content_hash=current.hash)
    # A change after both signed: both signatures are to be given again.
    sheets.edit_sheet(
        sheet, participant=room.alice, field="test_feedback", value='"><svg onload=alert(1)>'
    )
    other = sheets.add_sheet(stage, participant=None, title="Charte d’accueil")
    sheets.edit_sheet(other, participant=None, field="test_what", value="Un accueil commun")
    return "Guichet unique"


def reciprocal_session(room, stage):
    map_stage = actions.add_stage(room.workshop, kind="map", title="Carte")
    compta = mapping.add_actor(map_stage, participant=None, name="Comptabilité", circle="clients")
    mapping.add_actor(map_stage, participant=None, name="Service RH", circle="clients")
    rows = reciprocal.prefill_rows(stage, circle="clients")
    typed = reciprocal.add_row(stage, label="Service <b>ADV</b>")
    reciprocal.take_row(stage, participant=room.alice, row=rows[0].pk)
    reciprocal.take_row(stage, participant=room.bruno, row=rows[0].pk)
    reciprocal.write_cell(
        stage, participant=room.alice, row=rows[0].pk, field="acceptable", text="Un délai de 48 h"
    )
    reciprocal.write_cell(
        stage,
        participant=room.bruno,
        row=rows[0].pk,
        field="we_commit",
        text="Répondre <i>vite</i>",
    )
    reciprocal.write_cell(
        stage, participant=None, row=typed.pk, field="expects_from_us", text="Des devis clairs"
    )
    reciprocal.record_meeting(
        stage, participant=room.alice, row=rows[0].pk, met="1", met_on="2026-01-05", feedback="OK"
    )
    mapping.edit_actor(
        map_stage,
        str(compta.pk),
        participant=None,
        name="Comptabilité fournisseurs",
        scope="internal",
    )
    reciprocal.set_follow_up(stage, open=True)
    return "Comptabilité fournisseurs"


def promise_session(room, stage):
    whole = promise.add_promise(stage, client="")
    promise.add_promise(stage, client="Service <b>RH</b>")
    promise.write_paragraph(
        stage, participant=room.alice, promise=whole.pk, position=0, text="Nous répondons."
    )
    promise.write_paragraph(
        stage, participant=room.bruno, promise=whole.pk, position=1, text="Avec <b>soin</b>."
    )
    promise.write_paragraph(
        stage, participant=None, promise=whole.pk, position=0, text="Nous répondons en 48 h."
    )
    gone = promise.add_commitment(stage, participant=room.bruno, promise=whole.pk, text="À retirer")
    promise.add_commitment(stage, participant=room.alice, promise=whole.pk, text="Un interlocuteur")
    promise.remove_commitment(stage, participant=room.bruno, commitment=gone.pk)
    promise.sign(stage, participant=room.alice, promise=whole.pk)
    promise.sign(stage, participant=room.bruno, promise=whole.pk)
    promise.sign(stage, participant=room.bruno, promise=whole.pk, signed=False)
    return "Nous répondons en 48 h."


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


def review_session(room, stage):
    """Furnish what the review comes back to, then review it from the review stage (the
    room's): statuses, texts, a signatory's confirmation. What is furnished is written by
    people the facilitator writes for (no phone), who write on any stage: the room stays
    on the review."""
    from reviews import actions as reviews
    from reviews.kinds import SPECS

    spec = SPECS[stage.kind]
    workshop = room.workshop
    n = workshop.participants.filter(added_by_facilitator=True).count() // 2 + 1
    # Made directly, not through the console: their arrival is not this kind's frame.
    denise, emile = (
        workshop.participants.create(
            display_name=f"{name} {n}", profile=profile, added_by_facilitator=True
        )
        for name, profile in (("Denise", "agent"), ("Émile", "internal_client"))
    )

    def other(kind):
        found = workshop.stages.filter(kind=kind).first()
        return found or actions.add_stage(workshop, kind=kind, title=kind)

    if spec.item_type == "action":
        sheet_stage = other("actions")
        sheet = sheets.add_sheet(sheet_stage, participant=denise, title="Guichet <b>pièces</b>")
        sheets.edit_sheet(sheet, participant=None, field="indicators", value="Délai : 48 h")
        for person in (denise, emile):
            [current] = sheets_of(sheet_stage, pk=sheet.pk)
            sheets.sign_sheet(
                sheet, participant=person, content_hash=current.hash, by_facilitator=True
            )
        typed, ref = "Guichet", f"commitments.actionsheet:{sheet.pk}"
    elif spec.item_type == "commitment":
        tree_stage = other("tree")
        mine = tree.add_commitment(
            tree_stage, participant=denise, sentence="commit", text="Répondre <b>pièces</b>"
        )
        tree.add_commitment(tree_stage, participant=emile, sentence="commit", text="Appeler")
        typed, ref = "Répondre", f"commitments.commitment:{mine.pk}"
    elif spec.item_type == "flow":
        map_stage = other("map")
        achats = mapping.add_actor(map_stage, participant=None, name="Achats", circle="suppliers")
        flow = mapping.add_flow(
            map_stage,
            participant=None,
            source=str(achats.pk),
            target="centre",
            kind="deliverable",
            label="Licences <b>pièces</b>",
        )
        mapping.rate_flow(flow, participant=None, rating="friction")
        typed, ref = "Licences", f"mapping.flow:{flow.pk}"
    else:
        table = other("reciprocal")
        row = reciprocal.add_row(table, label=f"Service <b>pièces</b> ADV {n}")
        reciprocal.write_cell(table, participant=None, row=row.pk, field="we_commit", text="48 h")
        typed, ref = "ADV", f"commitments.row:{row.pk}"
    first, last = spec.statuses[0][0], spec.statuses[-1][0]
    reviews.record(
        stage, participant=denise if spec.by_author else room.bruno, item=ref, status=first
    )
    if spec.fields:
        reviews.record(
            stage,
            participant=room.alice,
            item=ref,
            texts={spec.fields[0]: '"><svg onload=alert(1)> 47 h'},
        )
    reviews.record(stage, participant=None, item=ref, status=last)
    if spec.confirmed:
        reviews.confirm(stage, participant=emile, item=ref)
    return typed


SESSIONS = {
    "framing": wall_session,
    "wall": wall_session,
    "map": map_session,
    "ideas": ideas_session,
    "journey": journey_session,
    "empathy": empathy_session,
    "tensions": tensions_session,
    "actions": actions_session,
    "reciprocal": reciprocal_session,
    "promise": promise_session,
    "tree": tree_session,
    "review_actions": review_session,
    "review_commitments": review_session,
    "review_flows": review_session,
    "review_interfaces": review_session,
}
# The console's live region, on a board the session furnished: stages, the people without a
# phone the console writes for, then the kind's own reads. A kind that reads per object
# breaks this. Walls and the map read their trace links in one query (the chips), and the
# stages once for "→ Tension" on a post-it or flow a matrix may take; the matrix reads
# tensions, causes, opportunities, challenges and links, one query each. Measured on a fresh
# instance of the workshop: a kind that reads its stage's workshop pays that query too.
BOARD_QUERIES = {
    "empathy": 6,
    "framing": 6,
    "wall": 6,
    "map": 6,
    "tensions": 7,
    "ideas": 17,  # every kind with items offers them (one query each), the map its actors
    "journey": 8,
    "actions": 8,
    "reciprocal": 18,
    "promise": 7,
    "tree": 13,
    # The workshop's items of the review's type (one query per stage, as the ideas board),
    # the review's entries and their confirmations.
    "review_actions": 15,
    "review_commitments": 15,
    "review_flows": 19,  # and the map, redrawn with the review's ratings
    "review_interfaces": 15,
}


# Each write of a kind's session, in order: (its event's type, its queries), lock,
# op-id check, stage, the change, its frames and the event all counted. A write that
# starts reading per object, or a frame drawn twice, breaks this.
_WALL_WRITES = [
    ("journeys.postit_added", 8),
    ("journeys.postit_added", 8),
    ("journeys.postit_added", 8),
    ("journeys.postit_edited", 11),
    ("journeys.cluster_added", 26),
    ("journeys.postits_clustered", 12),
    ("journeys.cluster_renamed", 25),
    ("journeys.postit_added", 8),
    ("journeys.postit_deleted", 7),
    ("journeys.postits_clustered", 12),
]
WRITE_QUERIES = {
    "framing": _WALL_WRITES,
    "wall": _WALL_WRITES,
    "map": [
        ("mapping.actor_added", 13),
        ("mapping.actor_added", 13),
        ("mapping.flow_added", 17),
        ("mapping.flow_rated", 13),
        ("mapping.actor_moved", 14),
        ("mapping.actor_edited", 13),
        ("mapping.flow_added", 15),
        ("mapping.flow_deleted", 13),
    ],
    # An idea or a challenge redraws the stage's board for the three audiences,
    # with every other stage's challenges and post-its: a candidate for a cheaper
    # fragment (docs/ideas-and-votes.md). A dot redraws only the counts and ballot.
    "ideas": [
        ("commitments.challenge_added", 56),
        ("commitments.idea_added", 61),
        ("commitments.idea_added", 56),
        ("commitments.idea_added", 61),
        ("commitments.vote_opened", 77),
        ("commitments.dot_added", 22),
        ("commitments.dot_added", 22),
        ("commitments.dot_added", 22),
        ("commitments.dot_removed", 21),
        ("commitments.dot_added", 22),
        ("commitments.ideas_merged", 69),
        ("commitments.vote_closed", 60),
    ],
    # Every journey write redraws the grid, heat-map and curves for the console and the
    # projector (and a tick that has each phone fetch its own panel): a candidate for
    # per-cell fragments.
    "journey": [
        ("journeys.situation_added", 26),
        ("journeys.situation_added", 26),
        ("journeys.step_added", 26),
        ("journeys.step_added", 26),
        ("journeys.step_added", 26),
        ("journeys.step_edited", 24),
        ("journeys.step_moved", 26),
        ("journeys.journey_postit_added", 26),
        ("journeys.journey_postit_added", 26),
        ("journeys.journey_postit_edited", 27),
        ("journeys.journey_postit_added", 26),
        ("journeys.journey_postit_deleted", 25),
        ("journeys.emotion_rated", 31),
        ("journeys.emotion_rated", 29),
        ("journeys.emotion_rated", 31),
        ("journeys.journey_view", 25),
        ("journeys.journey_view", 24),
    ],
    "empathy": [
        ("workshops.stage_updated", 19),
        ("journeys.postit_added", 8),
        ("journeys.postit_added", 8),
        ("journeys.postit_added", 8),
        ("journeys.postit_edited", 11),
    ],
    # A tension added, promoted or removed redraws the matrix and its chart; a cause, an
    # opportunity, a "me too" or a challenge only its row and the chart.
    "tensions": [
        ("workshops.stage_added", 18),
        ("journeys.tension_promoted", 32),
        ("journeys.tension_added", 26),
        ("journeys.cause_added", 14),
        ("journeys.cause_added", 14),
        ("journeys.me_too", 17),
        ("journeys.opportunity_added", 15),
        ("journeys.challenge_added", 21),
        ("journeys.tension_added", 29),
        ("journeys.tension_deleted", 30),
    ],
    # A sheet's write redraws its card (and the list's counts) for the three audiences.
    "actions": [
        ("commitments.sheet_added", 15),
        ("commitments.sheet_edited", 17),
        ("commitments.sheet_edited", 17),
        ("commitments.sheet_edited", 17),
        ("commitments.sheet_edited", 18),
        ("commitments.sheet_edited", 25),
        ("commitments.sheet_signed", 30),
        ("commitments.sheet_signed", 25),
        ("commitments.sheet_edited", 17),
        ("commitments.sheet_added", 15),
        ("commitments.sheet_edited", 17),
    ],
    # The table redraws whole for the three audiences (its rows, holders and the map's
    # actors): one query per row and audience, so ~60 a write; a table write is rare.
    "reciprocal": [
        ("workshops.stage_added", 66),
        ("mapping.actor_added", 10),
        ("mapping.actor_added", 10),
        ("commitments.rows_prefilled", 102),
        ("commitments.row_added", 68),
        ("commitments.row_taken", 69),
        ("commitments.row_taken", 69),
        ("commitments.cell_written", 72),
        ("commitments.cell_written", 72),
        ("commitments.cell_written", 71),
        ("commitments.meeting_recorded", 72),
        ("mapping.actor_edited", 9),
        ("commitments.follow_up_set", 65),
    ],
    "promise": [
        ("commitments.promise_added", 25),
        ("commitments.promise_added", 25),
        ("commitments.paragraph_written", 35),
        ("commitments.paragraph_written", 35),
        ("commitments.paragraph_written", 31),
        ("commitments.way_of_working_added", 25),
        ("commitments.way_of_working_added", 25),
        ("commitments.way_of_working_removed", 24),
        ("commitments.promise_signed", 27),
        ("commitments.promise_signed", 27),
        ("commitments.promise_unsigned", 24),
    ],
    # A commitment redraws the tree (and the alliance map) for the three audiences.
    "tree": [
        ("mapping.actor_added", 10),
        ("commitments.commitment_added", 47),
        ("commitments.commitment_added", 58),
        ("commitments.commitment_added", 46),
        ("commitments.commitment_edited", 46),
        ("commitments.commitment_added", 46),
        ("commitments.commitment_deleted", 46),
        ("commitments.tree_view", 44),
        ("commitments.tree_view", 44),
    ],
    # A review's write redraws its board once for the three audiences (reviews/kinds.py),
    # with the workshop's items of its type: one query per stage.
    "review_actions": [
        ("commitments.sheet_added", 9),
        ("commitments.sheet_edited", 16),
        ("commitments.sheet_signed", 24),
        ("commitments.sheet_signed", 19),
        ("reviews.recorded", 47),
        ("reviews.recorded", 44),
        ("reviews.recorded", 44),
        ("reviews.confirmed", 47),
    ],
    "review_commitments": [
        ("commitments.commitment_added", 11),
        ("commitments.commitment_added", 11),
        ("reviews.recorded", 45),
        ("reviews.recorded", 42),
    ],
    "review_flows": [
        ("mapping.actor_added", 10),
        ("mapping.flow_added", 11),
        ("mapping.flow_rated", 9),
        ("reviews.recorded", 41),
        ("reviews.recorded", 38),
    ],
    "review_interfaces": [
        ("commitments.row_added", 11),
        ("commitments.cell_written", 14),
        ("reviews.recorded", 38),
        ("reviews.recorded", 35),
        ("reviews.recorded", 35),
    ],
}


def staged(room, key):
    workshop = room.workshop
    stage = actions.add_stage(workshop, kind=key, title=f"Étape {key}")
    actions.go_to_stage(workshop, stage)
    return Workshop.objects.select_related("current_stage").get(pk=workshop.pk), stage


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
    assert key in WRITE_QUERIES, f"{key}: pin its session's writes' queries"


@pytest.mark.parametrize("key", KINDS)
def test_it_draws_the_board_for_every_audience_and_the_report(room, key):
    workshop, stage = staged(room, key)
    typed = SESSIONS[key](room, stage)
    for audience in AUDIENCES:
        html, _own = render_live(workshop, audience)
        assert 'id="live"' in html and typed in html, audience
        assert "<svg onload" not in html and "<b>pièces" not in html, audience
    from django.template.loader import render_to_string

    kind = get_kind(key)
    sections = {s["stage"].pk: s for s in report.report_context(workshop)["sections"]}
    assert kind.report_css, f"{key}: its report section's CSS (StageKind.report_css)"
    css = render_to_string(kind.report_css).strip().splitlines()[-1]
    if not kind.in_workshop_report:
        # A review's stage has its own report; the workshop's stays as it was.
        assert stage.pk not in sections
        body = render_to_string(
            f"{kind.report_template}#report",
            {"workshop": workshop, "stage": stage, **kind.report_context(stage)},
        )
        assert typed in body and "<b>pièces" not in body and "<svg onload" not in body
        return
    section = sections[stage.pk]
    assert section["kind"].key == key
    assert typed in section["body"]
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
        diff = region_diff(regions(fresh), regions(board))
        if diff:
            pytest.fail(f"{audience}: the replayed page differs\n" + diff)


@pytest.mark.parametrize("key", KINDS)
def test_it_draws_the_board_in_a_pinned_number_of_queries(room, key, django_assert_num_queries):
    workshop, stage = staged(room, key)
    SESSIONS[key](room, stage)
    workshop = Workshop.objects.select_related("current_stage").get(pk=workshop.pk)
    render_live(workshop, "facilitator")  # templates compiled
    # A fresh instance: what a kind keeps on its stage for one push is not counted away.
    workshop = Workshop.objects.select_related("current_stage").get(pk=workshop.pk)
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
    wall = next(s for s in workshop.stages.all() if s.kind in ("wall", "framing"))
    actions.go_to_stage(workshop, wall)
    workshop = Workshop.objects.select_related("current_stage").get(pk=workshop.pk)
    html, _own = render_regions(workshop, "participant", room.alice, is_done=False)
    button = next(n for n in Board(html).dom.elements() if n.attrs.get("id") == "done-button")
    assert "hidden" not in button.attrs


@pytest.mark.parametrize("key", KINDS)
def test_it_does_each_write_of_a_session_in_a_pinned_number_of_queries(room, key, monkeypatch):
    import sys
    from contextlib import contextmanager

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from workshops.live import write

    workshop, warm = staged(room, key)
    SESSIONS[key](room, warm)  # caches (content types, compiled templates) warmed
    workshop, stage = staged(room, key)
    seq = Workshop.objects.get(pk=workshop.pk).seq
    starts = []
    real = write.room_write

    @contextmanager
    def counted(*args, **kwargs):
        starts.append(len(queries.captured_queries))
        with real(*args, **kwargs) as w:
            yield w

    for module in [m for m in list(sys.modules.values()) if getattr(m, "room_write", None) is real]:
        monkeypatch.setattr(module, "room_write", counted)
    with CaptureQueriesContext(connection) as queries:
        SESSIONS[key](room, stage)
    ends = [*starts[1:], len(queries.captured_queries)]
    types = list(
        Event.objects.filter(workshop=workshop, seq__gt=seq)
        .order_by("seq")
        .values_list("type", flat=True)
    )
    assert len(types) == len(starts), "one event per write"
    measured = [(type, end - start) for type, start, end in zip(types, starts, ends, strict=True)]
    assert measured == WRITE_QUERIES[key], f"{key}: pin WRITE_QUERIES[{key!r}] = {measured}"


def test_it_takes_a_kinds_own_settings_into_the_stage_editor(room, monkeypatch):
    """StageKind.config_form: its fields join the stage editor's, its apply() edits the
    config of a stage of that kind, and workshops/ knows nothing else of it."""
    from django import forms

    from workshops import registry
    from workshops.forms import StageForm

    class RoundsForm(forms.Form):
        rounds = forms.IntegerField(min_value=1, max_value=5, required=False)

        def __init__(self, *args, config=None, **kwargs):
            super().__init__(*args, **kwargs)
            self.fields["rounds"].initial = (config or {}).get("rounds")

        def apply(self, base):
            return {**(base or {}), "rounds": self.cleaned_data["rounds"]}

    kind = registry.StageKind(
        key="rounds", label="Tours", template="workshops/kinds/plain.html", config_form=RoundsForm
    )
    monkeypatch.setitem(registry._kinds, "rounds", kind)
    data = {"title": "Tours", "kind": "rounds", "duration_minutes": 5, "rounds": "3"}
    form = StageForm(data)
    assert "rounds" in form.fields and "columns_text" in form.fields  # each kind's own
    assert form.is_valid(), form.errors
    assert form.config({"kept": 1}) == {"kept": 1, "rounds": 3}
    refused = StageForm({**data, "rounds": "9"})
    assert not refused.is_valid() and "rounds" in refused.errors


def test_it_names_no_kind_in_workshops():
    """workshops/ knows a kind only through its StageKind: no key, no kind's CSS class."""
    root = Path(__file__).resolve().parents[1] / "workshops"
    keys = {kind.key for kind in all_kinds()}
    found = []
    for path in root.rglob("*"):
        if path.suffix not in (".py", ".html", ".css") or "migrations" in path.parts:
            continue
        text = path.read_text()
        for key in keys:
            if f'"{key}"' in text or f"'{key}'" in text or f"kind == {key}" in text:
                found.append((str(path.relative_to(root)), key))
    assert found == []
