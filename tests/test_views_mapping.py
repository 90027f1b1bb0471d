"""The three-circle map's views: the forms in the stage's slot (htmx) or on their own page
(no JavaScript), what they answer when refused, who may use them, and the live pages that
draw the map. The writes themselves: test_mapping_actions.py.
"""

import re

import pytest
from django.urls import reverse
from django.utils import translation

from mapping import actions as mapping
from mapping.models import Actor, Flow
from workshops.models import Event, Workshop

from .base import HTMX, action_wall, log_in_participant

pytestmark = pytest.mark.usefixtures("english_messages")


def fr(msgid):
    """What a French workshop's pages say for an English msgid."""
    with translation.override("fr"):
        return translation.gettext(msgid)


def supplier(stage, participant, name="Achats"):
    return mapping.add_actor(stage, participant=participant, name=name, circle="suppliers")


# Adding, moving, refusing ---------------------------------------------------------------


def htmx(client):
    client.defaults["HTTP_HX_REQUEST"] = "true"
    return client


def test_it_lets_a_phone_open_the_forms_and_add_an_actor_and_a_flow(room, map_stage, client):
    log_in_participant(htmx(client), room.alice)
    url = reverse("mapping:actor_new", args=[room.workshop.pk, map_stage.pk])
    form = client.get(url + "?circle=clients")
    assert form.status_code == 200
    assert b'name="circle" value="clients" checked' in form.content
    response = client.post(
        url, {"name": "Usagers", "circle": "clients", "scope": "external", "op_id": "a" * 16}
    )
    assert response.status_code == 200 and response.content == b""
    usagers = Actor.objects.get(name="Usagers")
    flow_url = reverse("mapping:flow_new", args=[room.workshop.pk, map_stage.pk])
    picker = client.get(flow_url + f"?source=centre&target={usagers.pk}").content.decode()
    assert f'<option value="{usagers.pk}" selected>Usagers</option>' in picker
    assert '<option value="centre" selected>DSI</option>' in picker
    response = client.post(
        flow_url,
        {
            "source": "centre",
            "target": str(usagers.pk),
            "kind": "deliverable",
            "label": "Rendez-vous",
            "they_expect": "Un créneau rapide",
            "op_id": "b" * 16,
        },
    )
    assert response.status_code == 200
    flow = Flow.objects.get()
    rate = reverse("mapping:flow_rate", args=[room.workshop.pk, flow.pk])
    assert client.post(rate, {"rating": "unclear"}).status_code == 200
    assert Flow.objects.get().rating == "unclear"


def test_it_answers_a_refused_form_with_the_form_and_the_reason(room, map_stage, client):
    log_in_participant(htmx(client), room.alice)
    url = reverse("mapping:actor_new", args=[room.workshop.pk, map_stage.pk])
    response = client.post(url, {"name": "", "circle": "clients", "description": "gardé"})
    assert response.status_code == 400
    body = response.content.decode()
    assert fr("Give the actor a name.") in body
    assert ">gardé</textarea>" in body  # what they typed is kept
    assert not Actor.objects.exists()


def test_it_works_without_javascript(room, map_stage, client):
    log_in_participant(client, room.alice)
    url = reverse("mapping:actor_new", args=[room.workshop.pk, map_stage.pk])
    page = client.get(url)
    assert page.status_code == 200 and b"<html" in page.content and b"hx-disable" in page.content
    response = client.post(url, {"name": "Achats", "circle": "suppliers", "op_id": "c" * 16})
    assert response.status_code == 302
    assert response["Location"] == reverse("workshops:live", args=[room.workshop.pk])
    assert Actor.objects.filter(name="Achats").exists()


def test_it_lets_only_the_facilitator_move_an_actor(room, map_stage, client):
    actor = supplier(map_stage, room.alice)
    url = reverse("mapping:actor_move", args=[room.workshop.pk, map_stage.pk, actor.pk])
    log_in_participant(htmx(client), room.alice)
    assert client.post(url, {"x": 10, "y": 10}).status_code in (302, 404)
    client.force_login(room.facilitator)
    assert client.post(url, {"x": 500, "y": 420, "op_id": "d" * 16}).status_code == 200
    assert Actor.objects.values_list("x", "y").get(pk=actor.pk) == (500, 420)
    assert client.post(url, {"x": "", "y": ""}).status_code == 400
    assert client.post(url, {"reset": "1"}).status_code == 200
    assert Actor.objects.values_list("x", "y").get(pk=actor.pk) == (None, None)


def test_it_refuses_an_outsider_on_the_map(room, map_stage, client):
    log_in_participant(htmx(client), room.olga)
    url = reverse("mapping:actor_new", args=[room.workshop.pk, map_stage.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"name": "Intrus", "circle": "clients"}).status_code == 403
    client.force_login(room.other_facilitator)
    move = reverse("mapping:actor_move", args=[room.workshop.pk, map_stage.pk, "centre"])
    assert client.post(move, {"x": 1, "y": 1}).status_code == 404
    assert not Actor.objects.exists()


def test_it_draws_the_map_on_the_live_pages(room, map_stage, client):
    achats = supplier(map_stage, room.alice, name="Achats & marchés")
    mapping.add_flow(
        map_stage,
        participant=room.alice,
        source=str(achats.pk),
        target="centre",
        kind="request",
        label="Bons",
    )
    client.force_login(room.facilitator)
    console = client.get(reverse("workshops:console", args=[room.workshop.pk])).content.decode()
    assert 'class="map-svg is-movable"' in console
    assert re.search(r"js/map\.[0-9a-f]{12}\.js", console)  # the hashed, immutable name
    assert "Achats &amp; marchés" in console
    assert "Qui dépend de nous" in console
    projector = client.get(reverse("workshops:projector", args=[room.workshop.pk])).content
    assert b"map-svg" in projector and fr("Add an actor").encode() not in projector
    phone = log_in_participant(client.__class__(), room.bruno)
    page = phone.get(reverse("workshops:live", args=[room.workshop.pk])).content.decode()
    assert "map-list" in page and fr("Add an actor") in page and "data-move" not in page


# Editing and removing, through the forms ---------------------------------------------------


def test_it_opens_an_actor_filled_in_and_saves_it_in_the_other_circle(room, map_stage, bruno):
    achats = supplier(map_stage, room.alice)
    url = reverse("mapping:actor_edit", args=[room.workshop.pk, map_stage.pk, achats.pk])
    form = bruno.get(url, **HTMX)
    assert form.status_code == 200
    body = form.content.decode()
    assert 'value="Achats"' in body and 'name="circle" value="suppliers" checked' in body
    response = bruno.post(
        url,
        {"name": "Achats publics", "circle": "clients", "scope": "external", "op_id": "e" * 16},
        **HTMX,
    )
    assert response.status_code == 200 and response.content == b""
    achats.refresh_from_db()
    assert (achats.name, achats.circle, achats.scope) == ("Achats publics", "clients", "external")
    assert Event.objects.filter(type="mapping.actor_edited").count() == 1


def test_it_answers_an_actor_that_left_the_map_with_a_404(room, map_stage, alice):
    url = reverse("mapping:actor_edit", args=[room.workshop.pk, map_stage.pk, "999999"])
    response = alice.get(url, **HTMX)
    assert response.status_code == 404
    assert fr("This actor is no longer on the map.") in response.content.decode()


def test_it_keeps_what_was_typed_when_an_actor_edit_is_refused(room, map_stage, alice):
    achats = supplier(map_stage, room.alice)
    url = reverse("mapping:actor_edit", args=[room.workshop.pk, map_stage.pk, achats.pk])
    response = alice.post(url, {"name": "", "description": "gardé", "op_id": "f" * 16}, **HTMX)
    assert response.status_code == 400
    assert ">gardé</textarea>" in response.content.decode()
    achats.refresh_from_db()
    assert achats.name == "Achats" and not Event.objects.filter(type="mapping.actor_edited")


def test_it_edits_and_removes_a_flow_and_an_actor_through_their_forms(room, map_stage, alice):
    achats = supplier(map_stage, room.alice)
    flow = mapping.add_flow(
        map_stage,
        participant=room.alice,
        source=str(achats.pk),
        target="centre",
        kind="request",
        label="Bons",
    )
    url = reverse("mapping:flow_edit", args=[room.workshop.pk, flow.pk])
    form = alice.get(url, **HTMX).content.decode()
    assert f'<option value="{achats.pk}" selected>Achats</option>' in form
    assert 'value="Bons"' in form
    data = {
        "source": str(achats.pk),
        "target": "centre",
        "kind": "deliverable",
        "label": "Bons de commande",
        "mismatch": "Les délais",
        "op_id": "g" * 16,
    }
    assert alice.post(url, data, **HTMX).status_code == 200
    flow.refresh_from_db()
    assert (flow.kind, flow.label, flow.mismatch) == (
        "deliverable",
        "Bons de commande",
        "Les délais",
    )
    gone = reverse("mapping:flow_delete", args=[room.workshop.pk, flow.pk])
    assert alice.post(gone, {"op_id": "h" * 16}, **HTMX).status_code == 200
    assert not Flow.objects.exists()
    remove = reverse("mapping:actor_delete", args=[room.workshop.pk, map_stage.pk, achats.pk])
    assert alice.post(remove, {"op_id": "i" * 16}, **HTMX).status_code == 200
    assert not Actor.objects.filter(pk=achats.pk).exists()
    assert alice.post(remove, {"op_id": "j" * 16}, **HTMX).status_code == 404


def test_it_takes_a_rating_off_and_refuses_a_request_without_one(room, map_stage, alice):
    achats = supplier(map_stage, room.alice)
    flow = mapping.add_flow(
        map_stage,
        participant=room.alice,
        source=str(achats.pk),
        target="centre",
        kind="information",
        label="Tableaux",
    )
    rate = reverse("mapping:flow_rate", args=[room.workshop.pk, flow.pk])
    assert alice.post(rate, {"rating": "friction", "op_id": "k" * 16}, **HTMX).status_code == 200
    assert Flow.objects.get().rating == "friction"
    assert alice.post(rate, {"rating": "", "op_id": "l" * 16}, **HTMX).status_code == 200
    assert not Flow.objects.get().rating
    seq = Workshop.objects.get(pk=room.workshop.pk).seq
    assert alice.post(rate, {"op_id": "m" * 16}, **HTMX).status_code == 400
    assert alice.post(rate, {"rating": "superb", "op_id": "n" * 16}, **HTMX).status_code == 400
    assert Workshop.objects.get(pk=room.workshop.pk).seq == seq


def test_it_empties_the_form_slot_on_cancel_or_goes_back_without_javascript(room, map_stage, alice):
    url = reverse("mapping:form_closed", args=[room.workshop.pk, map_stage.pk])
    response = alice.get(url, **HTMX)
    assert response.status_code == 200 and response.content == b""
    plain = alice.get(url)
    assert plain.status_code == 302
    assert plain["Location"] == reverse("workshops:live", args=[room.workshop.pk])
    assert alice.post(url, **HTMX).status_code == 405


def test_it_refuses_a_map_form_on_a_stage_that_is_not_a_map(room, map_stage, alice):
    wall = action_wall(room)
    url = reverse("mapping:actor_new", args=[room.workshop.pk, wall.pk])
    assert alice.get(url, **HTMX).status_code == 404
    assert alice.post(url, {"name": "X", "circle": "clients"}, **HTMX).status_code == 404
    assert not Actor.objects.exists()
