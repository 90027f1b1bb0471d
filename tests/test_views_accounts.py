"""The first run, accounts, the dashboard and new workshops."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from workshops import methods
from workshops.models import Workshop

from .base import french

# First run and accounts --------------------------------------------------------------------


STRONG = "un-mot-de-passe-solide-42"


def test_it_sends_a_fresh_install_to_the_first_run_page(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == reverse("setup")


def test_it_creates_the_first_facilitator_then_closes_the_first_run_page(client, db):
    assert client.get(reverse("setup")).status_code == 200
    response = client.post(
        reverse("setup"), {"username": "camille", "password1": STRONG, "password2": STRONG}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("workshops:dashboard")
    assert client.get(reverse("workshops:dashboard")).status_code == 200  # logged in

    stranger = type(client)()
    assert stranger.get(reverse("setup"))["Location"] == reverse("login")
    stranger.post(
        reverse("setup"), {"username": "mallory", "password1": STRONG, "password2": STRONG}
    )
    assert list(get_user_model().objects.values_list("username", flat=True)) == ["camille"]


def test_it_refuses_a_weak_first_password(client, db):
    response = client.post(
        reverse("setup"), {"username": "camille", "password1": "123", "password2": "123"}
    )
    assert response.status_code == 200
    assert not get_user_model().objects.exists()


def test_it_keeps_sign_up_closed(client, room):
    assert client.get(reverse("signup")).status_code == 404
    response = client.post(
        reverse("signup"), {"username": "mallory", "password1": STRONG, "password2": STRONG}
    )
    assert response.status_code == 404
    assert not get_user_model().objects.filter(username="mallory").exists()


def test_it_opens_sign_up_when_allowed(client, room, settings):
    settings.ALLOW_SIGNUP = True
    assert client.get(reverse("signup")).status_code == 200
    response = client.post(
        reverse("signup"), {"username": "dora", "password1": STRONG, "password2": STRONG}
    )
    assert response.status_code == 302
    assert get_user_model().objects.filter(username="dora").exists()


# Dashboard and new workshops -----------------------------------------------------------------


def test_it_sends_anonymous_visitors_of_the_dashboard_to_login(client, room):
    response = client.get(reverse("workshops:dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_lists_the_facilitators_own_workshops_and_the_methods(camille, room):
    response = camille.get(reverse("workshops:dashboard"))
    assert response.status_code == 200
    page = response.content.decode()
    assert room.workshop.title in page
    assert room.workshop.short_code in page
    assert room.other_workshop.title not in page
    for method in methods.all_methods():
        assert f"?method={method['key']}" in page


@pytest.mark.parametrize("key", [m["key"] for m in methods.all_methods()])
def test_it_creates_a_workshop_from_each_method(camille, room, key):
    page = camille.get(reverse("workshops:new") + f"?method={key}")
    assert page.status_code == 200
    response = camille.post(
        reverse("workshops:new"),
        {"method": key, "title": "Nouvel atelier", "language": "en", "observed_service": "RH"},
    )
    workshop = Workshop.objects.get(title="Nouvel atelier")
    assert response.status_code == 302
    assert response["Location"] == reverse("workshops:console", args=[workshop.pk])
    assert workshop.facilitator == room.facilitator
    assert workshop.method == key
    template = methods.get_method(key)["stages"]
    assert [s.title for s in workshop.stages.all()] == [s["title"]["en"] for s in template]


def test_it_creates_a_blank_workshop(camille, room):
    assert camille.get(reverse("workshops:new")).status_code == 200
    response = camille.post(reverse("workshops:new"), {"title": "Vierge", "language": "fr"})
    workshop = Workshop.objects.get(title="Vierge")
    assert response.status_code == 302
    assert [s.kind for s in workshop.stages.all()] == ["framing"]


def test_it_refuses_an_unknown_method(camille, room):
    assert camille.get(reverse("workshops:new") + "?method=nope").status_code == 404


def test_it_shows_the_form_again_when_the_workshop_is_invalid(camille, room):
    count = Workshop.objects.count()
    response = camille.post(reverse("workshops:new"), {"title": "", "language": "fr"})
    assert response.status_code == 200
    assert french("This field is required.") in response.content.decode()
    assert Workshop.objects.count() == count
