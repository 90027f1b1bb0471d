"""The facilitator's console: its screens, the people in the room, the timer and locks,
and the pages' security headers.
"""

import re

import pytest
from django.urls import reverse

from workshops.models import Event, Participant, TimerState

from .base import HTMX, french, fresh, join_url, log_in_participant, url

# Console, projector and QR code: the facilitator's -------------------------------------------


@pytest.mark.parametrize("name", ["workshops:console", "workshops:projector", "workshops:qr"])
def test_it_shows_the_facilitators_screens_to_the_facilitator(camille, room, name):
    response = camille.get(url(name, room))
    assert response.status_code == 200
    if name != "workshops:qr":
        assert room.workshop.title in response.content.decode()
        assert f"/ws/w/{room.workshop.pk}/" in response.content.decode()
    else:
        assert response["Content-Type"] == "image/svg+xml"


@pytest.mark.parametrize(
    "name",
    [
        "workshops:console",
        "workshops:projector",
        "workshops:qr",
        "workshops:presence",
        "workshops:edit",
        "workshops:stage_add",
    ],
)
def test_it_hides_the_facilitators_screens_from_everyone_else(client, room, name):
    target = url(name, room)
    anonymous = client.get(target)
    assert anonymous.status_code == 302
    assert anonymous["Location"] == f"{reverse('login')}?next={target}"

    log_in_participant(client, room.alice)
    participant = client.get(target)
    assert participant.status_code == 302
    assert participant["Location"].startswith(reverse("login"))

    client.force_login(room.other_facilitator)
    assert client.get(target).status_code == 404


def test_it_lists_who_joined_on_the_console(camille, room):
    page = camille.get(url("workshops:console", room)).content.decode()
    assert "Alice" in page and "Bruno" in page
    assert "Olga" not in page
    assert room.workshop.short_code in page
    assert room.workshop.join_token in page


# Removing a participant ---------------------------------------------------------------------------


def test_it_removes_a_participant_whose_phone_then_loses_the_room(camille, room):
    response = camille.post(url("workshops:remove_participant", room, participant_pk=room.bruno.pk))
    assert response.status_code == 302
    assert Participant.objects.get(pk=room.bruno.pk).removed_at is not None

    phone = log_in_participant(type(camille)(), room.bruno)
    assert phone.get(reverse("workshops:live", args=[room.workshop.pk])).status_code == 403
    done = phone.post(reverse("workshops:done", args=[room.workshop.pk]), {"done": "1"})
    assert done.status_code == 403


def test_it_redraws_the_participant_list_after_a_removal_for_htmx(camille, room):
    response = camille.post(
        url("workshops:remove_participant", room, participant_pk=room.bruno.pk), **HTMX
    )
    assert response.status_code == 200
    panel = response.content.decode()
    assert 'id="presence"' in panel
    assert "Alice" in panel
    assert "Bruno" not in panel


def test_it_cannot_remove_a_participant_of_another_workshop(camille, room):
    response = camille.post(url("workshops:remove_participant", room, participant_pk=room.olga.pk))
    assert response.status_code == 404
    assert Participant.objects.get(pk=room.olga.pk).removed_at is None


# Timer and locks ----------------------------------------------------------------------------------


def test_it_runs_the_timer(camille, room):
    timer = url("workshops:timer", room)
    assert camille.post(timer, {"command": "start", "minutes": "5"}, **HTMX).status_code == 200
    workshop = fresh(room.workshop)
    assert workshop.timer_state == TimerState.RUNNING
    ends = workshop.timer_ends_at

    camille.post(timer, {"command": "add", "minutes": "1,5"})
    assert (fresh(room.workshop).timer_ends_at - ends).total_seconds() == 90
    camille.post(timer, {"command": "pause"})
    assert fresh(room.workshop).timer_state == TimerState.PAUSED
    camille.post(timer, {"command": "resume"})
    assert fresh(room.workshop).timer_state == TimerState.RUNNING
    camille.post(timer, {"command": "reset"})
    assert fresh(room.workshop).timer_state == TimerState.IDLE
    camille.post(timer, {"command": "locks", "value": "1"})
    assert fresh(room.workshop).timer_locks_writing
    camille.post(timer, {"command": "locks", "value": "0"})
    assert not fresh(room.workshop).timer_locks_writing
    assert fresh(room.workshop).seq == 7


@pytest.mark.parametrize(
    "data",
    [
        {"command": "start", "minutes": "abc"},
        {"command": "start", "minutes": "0"},
        {"command": "start", "minutes": "601"},
        {"command": "start", "minutes": "nan"},
        {"command": "start"},
        {"command": "explode"},
    ],
    ids=["not a number", "zero", "too long", "nan", "no minutes", "unknown command"],
)
def test_it_refuses_a_bad_timer_command_and_changes_nothing(camille, room, data):
    response = camille.post(url("workshops:timer", room), data, **HTMX)
    assert response.status_code == 400
    assert 'id="toast"' in response.content.decode()
    workshop = fresh(room.workshop)
    assert (workshop.seq, workshop.timer_state) == (0, TimerState.IDLE)


def test_it_locks_and_unlocks_writing(camille, room):
    lock = url("workshops:lock", room)
    assert camille.post(lock, {"locked": "1"}, **HTMX).status_code == 200
    assert fresh(room.workshop).writing_locked
    camille.post(lock, {"locked": "0"})
    assert not fresh(room.workshop).writing_locked


def test_it_applies_a_retried_request_once(camille, room):
    lock = url("workshops:lock", room)
    for _ in range(3):
        camille.post(lock, {"locked": "1", "op_id": "op-lock-00001"})
    assert fresh(room.workshop).seq == 1
    assert Event.objects.filter(workshop=room.workshop).count() == 1


def test_it_refuses_a_malformed_operation_id(camille, room):
    response = camille.post(url("workshops:lock", room), {"locked": "1", "op_id": "<x>"}, **HTMX)
    assert response.status_code == 400
    assert french("This request is malformed; reload the page.") in response.content.decode()
    assert not fresh(room.workshop).writing_locked


def test_it_lets_a_participant_say_they_are_done(alice, room):
    response = alice.post(reverse("workshops:done", args=[room.workshop.pk]), {"done": "1"}, **HTMX)
    assert response.status_code == 200
    assert 'aria-pressed="true"' in response.content.decode()
    assert Participant.objects.get(pk=room.alice.pk).is_done()


# Security headers ---------------------------------------------------------------------------------


def _script_src(response):
    policy = response["Content-Security-Policy"]
    directives = dict(
        (part.strip().split(" ", 1) + [""])[:2] for part in policy.split(";") if part.strip()
    )
    return directives.get("script-src", directives.get("default-src"))


@pytest.mark.parametrize(
    "page", ["home", "join", "join code", "live", "console", "projector", "dashboard", "login"]
)
def test_it_sends_a_strict_content_security_policy(client, room, page):
    if page in ("console", "projector", "dashboard"):
        client.force_login(room.facilitator)
    if page == "live":
        log_in_participant(client, room.alice)
    target = {
        "home": reverse("home"),
        "join": join_url(room.workshop),
        "join code": reverse("join_code"),
        "live": reverse("workshops:live", args=[room.workshop.pk]),
        "console": url("workshops:console", room),
        "projector": url("workshops:projector", room),
        "dashboard": reverse("workshops:dashboard"),
        "login": reverse("login"),
    }[page]
    response = client.get(target)
    assert response.status_code == 200
    script_src = _script_src(response)
    assert script_src is not None
    assert "'self'" in script_src
    assert "unsafe-inline" not in script_src
    assert "unsafe-eval" not in script_src
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    # Nothing inline on the page that such a policy would block.
    html = response.content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert not re.search(r"\son[a-z]+=", html)
