"""The tension matrix (journeys/tensions/) and promotion into it (workshops:promote_item)."""

import shutil
import subprocess

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext

from journeys import actions as journeys
from journeys.models import Cause, Challenge, MeToo, Opportunity, Tension
from journeys.tensions import actions as matrix
from journeys.tensions.kinds import chart, tensions_of
from mapping import actions as mapping
from tests.base import COLOUR_WALL
from workshops import actions, trace
from workshops.exports import report, transfer
from workshops.live.regions import render_live
from workshops.live.write import ActionError
from workshops.models import Event, Trace, Workshop
from workshops.registry import item_of, workshop_items

from .base import log_in_participant

HTMX = {"HTTP_HX_REQUEST": "true"}


def french(message):
    with translation.override("fr"):
        return escape(gettext(message))


@pytest.fixture
def camille(room):
    client = Client()
    client.force_login(room.facilitator)
    return client


@pytest.fixture
def alice(room):
    return log_in_participant(Client(), room.alice)


@pytest.fixture
def bruno(room):
    return log_in_participant(Client(), room.bruno)


def stage_of(room, kind):
    return next(s for s in room.workshop.stages.all() if s.kind == kind)


def journey(room):
    """A wall of green, orange and red post-its (the journey's colours), made once."""
    found = next((s for s in room.workshop.stages.all() if s.config.get("colours")), None)
    return found or actions.add_stage(
        room.workshop, kind="wall", title="Couleurs", config=COLOUR_WALL
    )


def on(room, stage):
    actions.go_to_stage(room.workshop, stage)
    return stage


def seq_of(room):
    return Workshop.objects.values_list("seq", flat=True).get(pk=room.workshop.pk)


def red_postit(room, text="Alerte client sans retour", colour="red"):
    wall = on(room, journey(room))
    column = wall.config["columns"][0]["key"]
    return journeys.add_postit(
        wall, participant=room.alice, text=text, column=column, colour=colour
    )


_ops = iter(range(1, 10_000))


def promote(client, room, obj, stage=None):
    stage = stage or stage_of(room, "tensions")
    return client.post(
        reverse("workshops:promote_item", args=[room.workshop.pk]),
        {"ref": trace.ref(obj), "stage": stage.pk, "op_id": f"promote-{next(_ops):08d}"},
        **HTMX,
    )


# Promotion ------------------------------------------------------------------------------------


def test_it_offers_a_journeys_orange_and_red_post_its_to_the_matrix_and_promotes_one(room, camille):
    from journeys.journey import actions as journey

    stage = stage_of(room, "journey")
    on(room, stage)
    situation = journey.add_situation(stage, participant=None, name="Alerte client")
    step = journey.add_step(stage, participant=None, name="Premier appel")
    cell = {"situation": situation.pk, "step": step.pk, "perspective": "client"}
    red = journey.add_postit(
        stage, participant=room.alice, colour="red", text="Personne ne rappelle", **cell
    )
    green = journey.add_postit(
        stage, participant=room.bruno, colour="green", text="Accueil", **cell
    )
    workshop = Workshop.objects.select_related("current_stage").get(pk=room.workshop.pk)
    console, _own = render_live(workshop, "facilitator")
    matrix_stage = stage_of(room, "tensions")
    offered = f'name="ref" value="{trace.ref(red)}"'
    assert offered in console
    # Green is no tension (and the Diagnostic has no ideas stage); only the console offers.
    assert f'name="ref" value="{trace.ref(green)}"' not in console
    assert offered not in render_live(workshop, "projector")[0]
    assert offered not in render_live(workshop, "participant", room.alice)[0]

    response = promote(camille, room, red, matrix_stage)
    assert response.status_code == 200
    (tension,) = Tension.objects.filter(stage=matrix_stage)
    assert tension.text == "Personne ne rappelle"
    assert [t.origin_label for t in trace.origins(tension)] == [red.trace_label()]


def test_it_promotes_a_red_post_it_keeping_its_origin_and_emitting_one_event(room, camille):
    postit = red_postit(room)
    before = seq_of(room)
    response = promote(camille, room, postit)
    assert response.status_code == 200
    (tension,) = Tension.objects.filter(stage=stage_of(room, "tensions"))
    assert tension.text == "Alerte client sans retour"
    assert tension.author == room.alice  # the post-it's words are still Alice's
    (link,) = trace.origins(tension)
    assert (link.origin_type, link.origin_id) == ("journeys.postit", postit.pk)
    assert "Alerte client sans retour" in link.origin_label
    assert seq_of(room) == before + 1
    (event,) = Event.objects.filter(workshop=room.workshop, seq__gt=before)
    assert event.type == "journeys.tension_promoted"
    assert event.payload["origin"] == trace.ref(postit)
    # The wall is on screen: its redraw shows what the post-it led to, on every page.
    for audience in ("facilitator", "participant", "projector"):
        assert escape(link.derived_label) in event.frames[audience], audience


def test_it_promotes_an_orange_post_it_but_not_a_green_one(room, camille):
    orange = red_postit(room, "Malentendu sur les délais", colour="orange")
    green = red_postit(room, "Tout va bien", colour="green")
    assert promote(camille, room, orange).status_code == 200
    before = seq_of(room)
    response = promote(camille, room, green)
    assert response.status_code == 400
    assert french("This stage does not take this item.") in response.content.decode()
    assert seq_of(room) == before
    assert [t.text for t in Tension.objects.all()] == ["Malentendu sur les délais"]


def test_it_refuses_to_promote_the_same_post_it_twice_into_one_matrix(room, camille):
    postit = red_postit(room)
    assert promote(camille, room, postit).status_code == 200
    response = promote(camille, room, postit)
    assert response.status_code == 409
    assert Tension.objects.count() == 1


def test_it_lets_only_the_facilitator_promote(room, alice):
    postit = red_postit(room)
    response = promote(alice, room, postit)
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert not Tension.objects.exists()
    assert not Trace.objects.exists()


def test_it_answers_another_workshops_item_with_404(room, camille):
    theirs = actions.add_stage(
        room.other_workshop,
        kind="wall",
        title="Mur",
        config={"columns": [{"key": "c", "label": "C"}], "colours": ["red"]},
    )
    actions.go_to_stage(room.other_workshop, theirs)
    postit = journeys.add_postit(theirs, participant=room.olga, text="Secret", colour="red")
    assert promote(camille, room, postit).status_code == 404
    assert not Tension.objects.exists()


def test_it_promotes_a_flow_in_friction_but_not_a_smooth_one(room, camille):
    the_map = on(room, stage_of(room, "map"))
    actor = mapping.add_actor(the_map, participant=None, name="Achats", circle="suppliers")
    flow = mapping.add_flow(
        the_map,
        participant=None,
        source=str(actor.pk),
        target="centre",
        kind="request",
        label="Bons de commande",
    )
    mapping.rate_flow(flow, participant=room.alice, rating="smooth")
    assert promote(camille, room, flow).status_code == 400
    mapping.rate_flow(flow, participant=room.alice, rating="friction")
    assert promote(camille, room, flow).status_code == 200
    (tension,) = Tension.objects.all()
    assert tension.text == "Bons de commande"
    # The map's flow shows what it led to, and offers no second promotion... but it would
    # into another matrix; here there is one.
    workshop = Workshop.objects.select_related("current_stage").get(pk=room.workshop.pk)
    html, _own = render_live(workshop, "facilitator")
    assert escape(trace.label_of(tension)) in html


def test_it_offers_the_promotion_on_orange_and_red_post_its_only(room):
    red = red_postit(room, "Rouge")
    green = red_postit(room, "Vert", colour="green")
    workshop = Workshop.objects.select_related("current_stage").get(pk=room.workshop.pk)
    html, _own = render_live(workshop, "facilitator")
    url = reverse("workshops:promote_item", args=[room.workshop.pk])
    red_part = html.split(f'id="postit-{red.pk}"')[1].split("</article>")[0]
    green_part = html.split(f'id="postit-{green.pk}"')[1].split("</article>")[0]
    assert url in red_part and trace.ref(red) in red_part
    assert url not in green_part


def test_it_offers_no_promotion_when_no_stage_takes_it(room):
    Workshop.objects.filter(pk=room.workshop.pk).update(current_stage=None)
    stage_of(room, "tensions").delete()
    red = red_postit(room, "Rouge")
    workshop = Workshop.objects.select_related("current_stage").get(pk=room.workshop.pk)
    html, _own = render_live(workshop, "facilitator")
    assert f'id="postit-{red.pk}"' in html
    assert reverse("workshops:promote_item", args=[room.workshop.pk]) not in html


# Causes, "me too", opportunities, challenges -----------------------------------------------------


@pytest.fixture
def tension(room):
    stage = on(room, stage_of(room, "tensions"))
    return matrix.add_tension(stage, participant=room.bruno, text="Demandes sans priorité")


def test_it_adds_a_cause_of_each_kind_from_a_phone(room, tension, alice):
    url = reverse("journeys:cause_add", args=[room.workshop.pk, tension.pk])
    for kind in ("implicit", "unshared", "dependency", "control", "other"):
        response = alice.post(url, {"kind": kind, "text": f"Cause {kind}"}, **HTMX)
        assert response.status_code == 200, kind
    assert sorted(Cause.objects.values_list("kind", flat=True)) == sorted(
        ["implicit", "unshared", "dependency", "control", "other"]
    )
    response = alice.post(url, {"kind": "fate", "text": "La faute à pas de chance"}, **HTMX)
    assert response.status_code == 400
    assert french("Choose the kind of cause.") in response.content.decode()
    assert Cause.objects.count() == 5
    bars = {bar["value"]: bar["count"] for bar in chart(tensions_of(tension.stage))["bars"]}
    assert bars == dict.fromkeys(("implicit", "unshared", "dependency", "control", "other"), 1)


def test_it_pushes_the_row_and_the_chart_after_a_cause(room, tension):
    before = seq_of(room)
    matrix.add_cause(tension, participant=room.alice, kind="implicit", text="Rien n’est écrit")
    (event,) = Event.objects.filter(workshop=room.workshop, seq__gt=before)
    html = event.frames["projector"]
    assert f'id="tension-{tension.pk}"' in html and "Rien n’est écrit" in html
    assert f'id="cause-chart-{tension.stage_id}"' in html
    assert event.frames["participant"] == html == event.frames["facilitator"]


def test_it_counts_me_too_once_per_participant(room, tension, alice, bruno):
    cause = matrix.add_cause(tension, participant=room.bruno, kind="control", text="Trop de visas")
    url = reverse("journeys:me_too", args=[room.workshop.pk, cause.pk])
    assert alice.post(url, {"op_id": "me-too-alice-0001"}, **HTMX).status_code == 200
    response = alice.post(url, {"op_id": "me-too-alice-0002"}, **HTMX)
    assert response.status_code == 409
    assert french("You already said “me too” on this cause.") in response.content.decode()
    # A retry of the first is the first's answer, not a second "me too".
    assert alice.post(url, {"op_id": "me-too-alice-0001"}, **HTMX).status_code == 200
    assert bruno.post(url, {"op_id": "me-too-bruno-0001"}, **HTMX).status_code == 200
    assert MeToo.objects.filter(cause=cause).count() == 2
    (row,) = tensions_of(tension.stage)
    assert row.causes.all()[0].me_too_count == 2


def test_it_holds_me_too_once_in_the_database_too(room, tension):
    cause = matrix.add_cause(tension, participant=None, kind="other", text="Autre")
    MeToo.objects.create(cause=cause, participant=room.alice)
    with pytest.raises(IntegrityError), transaction.atomic():
        MeToo.objects.create(cause=cause, participant=room.alice)


def test_it_refuses_me_too_from_the_facilitator(room, tension, camille):
    cause = matrix.add_cause(tension, participant=None, kind="other", text="Autre")
    url = reverse("journeys:me_too", args=[room.workshop.pk, cause.pk])
    assert camille.post(url, **HTMX).status_code == 403
    with pytest.raises(ActionError):
        matrix.me_too(cause, participant=None)
    assert not MeToo.objects.exists()


def test_it_rewords_an_opportunity_as_a_challenge_that_keeps_its_origin(room, tension, alice):
    opportunity = matrix.add_opportunity(tension, participant=room.bruno, text="Un guichet unique")
    url = reverse("journeys:challenge_add", args=[room.workshop.pk, opportunity.pk])
    response = alice.post(url, {"text": "Simplifier les demandes d’intervention"}, **HTMX)
    assert response.status_code == 200
    (challenge,) = Challenge.objects.all()
    assert challenge.text == "Comment pourrions-nous simplifier les demandes d’intervention ?"
    (link,) = trace.origins(challenge)
    assert (link.origin_type, link.origin_id, link.how) == (
        "journeys.opportunity",
        opportunity.pk,
        Trace.How.REWORDED,
    )
    # The ideas stage finds it among the workshop's challenges.
    (item,) = workshop_items(room.workshop, "challenge")
    assert item.obj == challenge and item.text == challenge.text


def test_it_keeps_a_challenge_already_worded_as_it_is(room, tension):
    opportunity = matrix.add_opportunity(tension, participant=None, text="Partager le planning")
    challenge = matrix.add_challenge(
        opportunity, participant=None, text="Comment pourrions-nous partager le planning ?"
    )
    assert challenge.text == "Comment pourrions-nous partager le planning ?"


def test_it_refuses_phones_on_a_matrix_that_is_not_on_screen(room, tension, alice):
    on(room, journey(room))
    url = reverse("journeys:cause_add", args=[room.workshop.pk, tension.pk])
    response = alice.post(url, {"kind": "other", "text": "Trop tard"}, **HTMX)
    assert response.status_code == 409
    url = reverse("journeys:opportunity_add", args=[room.workshop.pk, tension.pk])
    assert alice.post(url, {"text": "Trop tard"}, **HTMX).status_code == 409
    assert not Cause.objects.exists() and not Opportunity.objects.exists()


def test_it_lets_only_the_facilitator_remove_a_tension(room, tension, alice, camille):
    url = reverse("journeys:tension_delete", args=[room.workshop.pk, tension.pk])
    assert alice.post(url, **HTMX).status_code == 302
    assert Tension.objects.filter(pk=tension.pk).exists()
    assert camille.post(url, **HTMX).status_code == 200
    assert not Tension.objects.filter(pk=tension.pk).exists()


# The board, the report, the exports ------------------------------------------------------


def test_it_draws_the_matrix_with_its_questions_filter_and_chart(room, tension):
    matrix.add_cause(tension, participant=None, kind="dependency", text="Un seul prestataire")
    matrix.add_opportunity(tension, participant=None, text="Un second fournisseur")
    workshop = Workshop.objects.select_related("current_stage").get(pk=room.workshop.pk)
    html, _own = render_live(workshop, "projector")
    with translation.override("fr"):
        for words in (
            "Where are expectations left implicit?",
            "Excess of dependency",
            "Possible causes",
            "Opportunities",
        ):
            assert escape(gettext(words)) in html, words
    assert 'data-kinds="dependency"' in html
    assert "<svg" in html and 'class="bar k-dependency"' in html
    assert "Un seul prestataire" in html and "Un second fournisseur" in html


def test_it_exports_and_imports_the_matrix_with_its_links(room, camille):
    postit = red_postit(room)
    promote(camille, room, postit)
    tension = Tension.objects.get()
    on(room, tension.stage)
    cause = matrix.add_cause(tension, participant=room.alice, kind="unshared", text="Rôles flous")
    matrix.me_too(cause, participant=room.bruno)
    opportunity = matrix.add_opportunity(tension, participant=room.alice, text="Une charte")
    matrix.add_challenge(opportunity, participant=room.bruno, text="écrire une charte")
    document = transfer.export_workshop(room.workshop)
    assert len(document["traces"]) == 2
    imported = transfer.import_workshop(document, room.other_facilitator)
    (copy,) = Tension.objects.filter(workshop=imported)
    (came_from,) = trace.origins(copy)
    assert came_from.origin_type == "journeys.postit"
    assert came_from.origin_id != postit.pk  # the imported post-it, not the original
    (copied_cause,) = copy.causes.all()
    assert copied_cause.kind == "unshared" and copied_cause.me_toos.count() == 1
    (challenge,) = Challenge.objects.filter(opportunity__tension=copy)
    assert trace.origins(challenge)[0].origin_type == "journeys.opportunity"


def test_it_writes_csv_rows_for_every_object(room, tension):
    cause = matrix.add_cause(tension, participant=room.alice, kind="control", text="Visas")
    matrix.me_too(cause, participant=room.bruno)
    opportunity = matrix.add_opportunity(tension, participant=room.alice, text="Déléguer")
    matrix.add_challenge(opportunity, participant=None, text="déléguer les visas")
    text = transfer.export_csv(room.workshop)
    for words in ("Demandes sans priorité", "Visas", "Déléguer", "Comment pourrions-nous"):
        assert words in text, words
    assert "Excès de contrôle" in text


def test_item_of_names_the_stage_item(room):
    postit = red_postit(room)
    item = item_of(postit)
    assert (item.type, item.mark, item.ref) == ("postit", "red", trace.ref(postit))


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils reads the PDF")
def test_it_prints_the_matrix_its_chart_and_the_traceability_in_the_pdf(
    room, camille, settings, tmp_path
):
    settings.VAR_DIR = tmp_path
    postit = red_postit(room, "Livraison ratée, pièces manquantes")
    promote(camille, room, postit)
    tension = Tension.objects.get()
    on(room, tension.stage)
    matrix.add_cause(
        tension, participant=room.alice, kind="dependency", text="Un seul transporteur"
    )
    opportunity = matrix.add_opportunity(
        tension, participant=room.bruno, text="Un second transporteur"
    )
    matrix.add_challenge(opportunity, participant=None, text="sécuriser les livraisons")
    path = report.write_pdf(Workshop.objects.get(pk=room.workshop.pk), tmp_path / "r.pdf")
    text = " ".join(
        subprocess.run(
            ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    for words in (
        "Matrice des tensions".upper(),
        "Livraison ratée, pièces manquantes",
        "Un seul transporteur",
        "Excès de dépendance",
        "Un second transporteur",
        "Comment pourrions-nous sécuriser les livraisons ?",
        "Où les attentes sont-elles implicites ?",
        "Traçabilité",
        "1 cause, par type",
    ):
        assert words in text, words
