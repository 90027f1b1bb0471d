"""Joining: by the link the QR code carries, by the short code, and revoking both."""

import pytest
from django.urls import reverse
from django.utils.html import escape

from workshops import ratelimit
from workshops.models import Event, Participant

from .base import HTMX, french, fresh, join_url, log_in_participant, url

# Joining by link -----------------------------------------------------------------------------


def test_it_shows_the_join_form_in_the_workshops_language(client, room):
    response = client.get(join_url(room.workshop))
    assert response.status_code == 200
    page = response.content.decode()
    assert room.workshop.title in page
    assert 'name="display_name"' in page
    assert 'name="profile"' in page


def test_it_answers_a_bad_join_link_with_a_page_to_type_the_code(client, room):
    response = client.get(reverse("join", args=["not-a-real-token-at-all"]))
    assert response.status_code == 404
    page = response.content.decode()
    assert 'name="code"' in page
    assert reverse("join_code") in page


def test_it_joins_and_stays_the_same_participant_across_requests(client, room):
    response = client.post(
        join_url(room.workshop),
        {"display_name": "  Chloé   Martin ", "profile": "agent", "organisation": "DSI"},
    )
    chloe = Participant.objects.get(workshop=room.workshop, display_name="Chloé Martin")
    assert response.status_code == 302
    assert response["Location"] == reverse("workshops:live", args=[room.workshop.pk])
    assert chloe.profile == "agent"

    for _ in range(3):
        page = client.get(reverse("workshops:live", args=[room.workshop.pk]))
        assert page.status_code == 200
        assert "Chloé Martin" in page.content.decode()
    # The link again, or the form again: still Chloé, not a new participant.
    assert client.get(join_url(room.workshop))["Location"] == reverse(
        "workshops:live", args=[room.workshop.pk]
    )
    client.post(join_url(room.workshop), {"display_name": "Chloé bis", "profile": "agent"})
    assert room.workshop.participants.count() == 3
    assert client.session["reciproque_participants"] == {str(room.workshop.pk): chloe.pk}


def test_it_keeps_one_phone_in_two_workshops_apart(client, room):
    log_in_participant(client, room.alice)
    client.post(join_url(room.other_workshop), {"display_name": "Alice", "profile": "partner"})
    assert client.get(reverse("workshops:live", args=[room.workshop.pk])).status_code == 200
    assert client.get(reverse("workshops:live", args=[room.other_workshop.pk])).status_code == 200
    assert room.other_workshop.participants.filter(display_name="Alice").count() == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"display_name": "", "profile": "agent"}, "This field is required."),
        ({"display_name": "   ", "profile": "agent"}, "This field is required."),
        ({"display_name": "\x07\x1b", "profile": "agent"}, "Enter a name."),
        ({"display_name": "Dan"}, "This field is required."),
        (
            {"display_name": "Dan", "profile": "boss"},
            "Select a valid choice. %(value)s is not one of the available choices.",
        ),
    ],
    ids=["no name", "blank name", "unprintable name", "no profile", "unknown profile"],
)
def test_it_explains_join_form_errors_in_french(client, room, data, message):
    response = client.post(join_url(room.workshop), data)
    assert response.status_code == 400
    expected = french(message).split("%(value)s")[0]
    assert expected in response.content.decode()
    assert 'lang="fr"' in response.content.decode()
    assert room.workshop.participants.count() == 2


def test_it_refuses_the_live_page_to_whoever_has_not_joined(client, room):
    live = reverse("workshops:live", args=[room.workshop.pk])
    assert client.get(live).status_code == 403
    log_in_participant(client, room.olga)
    response = client.get(live)
    assert response.status_code == 403
    assert 'name="code"' in response.content.decode()


def test_it_shows_the_participant_the_current_stage(alice, room):
    response = alice.get(reverse("workshops:live", args=[room.workshop.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert escape(room.stage.title) in page
    assert f'data-seq="{room.workshop.seq}"' in page


# Joining by short code ----------------------------------------------------------------------------


def test_it_joins_by_short_code_typed_loosely(client, room):
    code = room.workshop.short_code
    typed = f" {code[:3].lower()} {code[3:].lower()} "
    response = client.post(reverse("join_code"), {"code": typed})
    assert response.status_code == 302
    assert response["Location"] == join_url(room.workshop)


def test_it_says_when_no_workshop_has_the_code(client, room):
    response = client.post(reverse("join_code"), {"code": "QQQQQQ"})
    assert response.status_code == 404
    assert french("No workshop has this code. Check it with the facilitator.") in (
        response.content.decode()
    )


def test_it_throttles_code_guessing_after_ten_wrong_codes(client, room, settings, monkeypatch):
    now = [1_000_000.0]
    monkeypatch.setattr(ratelimit, "clock", lambda: now[0])
    assert settings.RECIPROQUE["JOIN_CODE_ATTEMPTS"] == 10
    for _ in range(10):
        assert client.post(reverse("join_code"), {"code": "QQQQQQ"}).status_code == 404
    # Even the right code is refused now, from this address.
    response = client.post(reverse("join_code"), {"code": room.workshop.short_code})
    assert response.status_code == 429
    assert french("Too many wrong codes. Wait a few minutes, or scan the QR code.") in (
        response.content.decode()
    )
    # Another phone is not punished for it.
    other = client.post(
        reverse("join_code"), {"code": room.workshop.short_code}, REMOTE_ADDR="10.0.0.7"
    )
    assert other.status_code == 302
    # The right code stays refused from this address until the window has passed.
    now[0] += settings.RECIPROQUE["JOIN_CODE_WINDOW_SECONDS"] - 60
    assert client.post(reverse("join_code"), {"code": room.workshop.short_code}).status_code == 429
    now[0] += 60
    assert client.post(reverse("join_code"), {"code": room.workshop.short_code}).status_code == 302


def test_it_does_not_count_a_right_code_as_a_failure(client, room):
    for _ in range(12):
        response = client.post(reverse("join_code"), {"code": room.workshop.short_code})
        assert response.status_code == 302


# Revoking the link --------------------------------------------------------------------------------


def test_it_revokes_and_renews_the_link_and_the_code(camille, room):
    old_link, old_code = join_url(room.workshop), room.workshop.short_code
    response = camille.post(url("workshops:renew_link", room), **HTMX)
    assert response.status_code == 200
    workshop = fresh(room.workshop)
    assert join_url(workshop) != old_link
    assert workshop.short_code != old_code

    phone = type(camille)()
    assert phone.get(old_link).status_code == 404
    assert phone.post(reverse("join_code"), {"code": old_code}).status_code == 404
    assert phone.get(join_url(workshop)).status_code == 200
    assert phone.post(reverse("join_code"), {"code": workshop.short_code}).status_code == 302
    # Those already in stay in.
    log_in_participant(phone, room.alice)
    assert phone.get(reverse("workshops:live", args=[workshop.pk])).status_code == 200
    # The secret never goes into the event log.
    event = Event.objects.get(workshop=workshop, type="workshops.join_link_renewed")
    assert workshop.join_token not in str(event.payload)
    assert workshop.join_token not in event.frames["participant"]
