"""The error pages a room meets: in its language, sized for a phone, with a way back.

Django's own 404 and CSRF 403 pages have no viewport and speak English; these
are the site's. And "I'm done" works as a plain form post, CSRF enforced.
"""

import re

import pytest
from django.test import Client
from django.urls import reverse

from workshops.models import Participant

from .base import log_in_participant

VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1">'


def french_client(**options):
    return Client(HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9", **options)


def english_client(**options):
    return Client(HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9", **options)


@pytest.mark.parametrize(
    ("client_for", "lang", "heading"),
    [
        (french_client, "fr", "Cette page n’existe pas"),
        (english_client, "en", "This page does not exist"),
    ],
)
def test_it_shows_its_own_404_in_the_visitors_language(db, client_for, lang, heading):
    response = client_for().get("/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert f'<html lang="{lang}">' in html
    assert VIEWPORT in html
    assert heading in html
    assert f'href="{reverse("home")}"' in html


def test_it_leads_a_404_inside_a_workshop_back_to_it(db, room):
    response = french_client().get(f"/w/{room.workshop.pk}/postits/999999/")
    html = response.content.decode()
    assert response.status_code in (403, 404)
    assert f'href="/w/{room.workshop.pk}/"' in html
    assert "Retour à l’atelier" in html


def test_it_offers_no_way_back_to_the_page_that_failed(db, room):
    response = french_client().get("/w/999999/")
    assert response.status_code == 404
    assert 'href="/w/999999/"' not in response.content.decode()


def test_it_shows_its_own_403_in_french(db, room):
    # A stranger asking a participant's page fragment: PermissionDenied.
    stage = room.workshop.stages.first()
    response = french_client().get(reverse("journeys:mine", args=[room.workshop.pk, stage.pk]))
    html = response.content.decode()
    assert response.status_code == 403
    assert '<html lang="fr">' in html
    assert VIEWPORT in html
    assert "Vous ne pouvez pas ouvrir cette page" in html
    assert f'href="/w/{room.workshop.pk}/"' in html


def test_it_shows_its_own_csrf_page_in_french(db):
    client = french_client(enforce_csrf_checks=True)
    response = client.post(reverse("join_code"), {"code": "ABCDEF"})
    html = response.content.decode()
    assert response.status_code == 403
    assert '<html lang="fr">' in html
    assert VIEWPORT in html
    assert "Ce formulaire a expiré" in html
    assert "Forbidden" not in html  # not Django's English page


def test_it_renders_the_500_page_without_any_context(db):
    from django.template import loader

    html = loader.get_template("500.html").render()
    assert VIEWPORT in html
    assert "<html lang=" in html
    assert 'href="/"' in html


def test_it_lets_i_am_done_work_without_javascript(db, room):
    """The done form carries its token: a plain post with CSRF enforced goes through."""
    phone = log_in_participant(french_client(enforce_csrf_checks=True), room.alice)
    page = phone.get(reverse("workshops:live", args=[room.workshop.pk]))
    html = page.content.decode()
    form = re.search(r'<form id="done-button".*?</form>', html, re.S).group(0)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
    assert fields.get("csrfmiddlewaretoken"), "the done form carries no CSRF token"

    response = phone.post(reverse("workshops:done", args=[room.workshop.pk]), fields)
    assert response.status_code == 302
    assert Participant.objects.get(pk=room.alice.pk).is_done()
