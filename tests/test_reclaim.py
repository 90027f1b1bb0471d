"""A phone without its session (weeks later, or a new phone) takes its place back only when
the facilitator confirms it: nobody claims another person's place or commitments alone."""

import pytest
from django.test import Client
from django.urls import reverse

from workshops import actions
from workshops.live.write import ActionError
from workshops.models import Reclaim

from .base import HTMX, french


def _ask(client, room, who):
    return client.post(reverse("reclaim", args=[room.workshop.join_token]), {"participant": who.pk})


def _live(client, room):
    return client.get(reverse("workshops:live", args=[room.workshop.pk]))


def test_the_join_page_offers_the_names_of_the_workshops_phones(client, room):
    proxy = actions.add_participant(room.workshop, display_name="Denise", profile="agent")
    page = client.get(reverse("join", args=[room.workshop.join_token])).content.decode()
    assert "Alice" in page and "Bruno" in page and proxy.display_name not in page
    assert "Vous avez déjà participé" in page


def test_it_needs_the_facilitators_consent(client, room, camille):
    response = _ask(client, room, room.alice)
    wait = reverse("reclaim_wait", args=[room.workshop.join_token])
    assert response.status_code == 302 and response["Location"] == wait
    assert _live(client, room).status_code == 403  # not Alice yet
    page = client.get(wait).content.decode()
    assert "Alice" in page and "hx-trigger" in page
    reclaim = Reclaim.objects.get()
    asks = camille.get(reverse("workshops:reclaim_asks", args=[room.workshop.pk]))
    assert "Oui, c’est Alice" in asks.content.decode()
    console = camille.get(reverse("workshops:console", args=[room.workshop.pk])).content.decode()
    assert "Oui, c’est Alice" in console
    answered = camille.post(
        reverse("workshops:reclaim_decide", args=[room.workshop.pk, reclaim.pk]),
        {"accept": "1", "op_id": "op-reclaim-yes-1"},
        **HTMX,
    )
    assert answered.status_code == 200
    assert client.get(wait, **HTMX)["HX-Redirect"] == reverse(
        "workshops:live", args=[room.workshop.pk]
    )
    live = _live(client, room)
    assert live.status_code == 200 and "Vous êtes Alice" in live.content.decode()


def test_a_refusal_leaves_the_phone_outside(client, room):
    _ask(client, room, room.alice)
    reclaim = Reclaim.objects.get()
    actions.decide_reclaim(room.workshop, reclaim.pk, accept=False)
    page = client.get(reverse("reclaim_wait", args=[room.workshop.join_token])).content.decode()
    assert "ne l’a pas confirmé" in page
    assert _live(client, room).status_code == 403
    with pytest.raises(ActionError) as twice:
        actions.decide_reclaim(room.workshop, reclaim.pk, accept=True)
    assert twice.value.status == 409


def test_another_session_cannot_use_someone_elses_request(client, room):
    _ask(client, room, room.alice)
    actions.decide_reclaim(room.workshop, Reclaim.objects.get().pk, accept=True)
    stranger = Client()
    wait = stranger.get(reverse("reclaim_wait", args=[room.workshop.join_token]))
    assert wait.status_code == 302 and wait["Location"].endswith(f"/j/{room.workshop.join_token}/")
    assert _live(stranger, room).status_code == 403


@pytest.mark.parametrize("value", ["", "abc", "-1", "99999999", "9" * 30])
def test_a_bad_name_is_refused_in_french_and_asks_nothing(client, room, value):
    response = client.post(
        reverse("reclaim", args=[room.workshop.join_token]), {"participant": value}, follow=True
    )
    page = response.content.decode()
    assert (
        french("This request is malformed; reload the page.") in page
        or french("This name is no longer in the workshop.") in page
    )
    assert not Reclaim.objects.exists()


def test_a_removed_participant_or_another_workshops_cannot_be_claimed(client, room):
    actions.remove_participant(room.workshop, room.bruno)
    for who in (room.bruno, room.olga):
        page = client.post(
            reverse("reclaim", args=[room.workshop.join_token]),
            {"participant": who.pk},
            follow=True,
        ).content.decode()
        assert french("This name is no longer in the workshop.") in page
    assert not Reclaim.objects.exists()
