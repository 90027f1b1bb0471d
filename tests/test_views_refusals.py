"""Every facilitator write refuses GET, participants, another facilitator and strangers."""

import pytest
from django.urls import reverse

from workshops import methods
from workshops.models import Event, TimerState, Workshop

from .base import log_in_participant, url

# Every write refuses GET, participants and outsiders ----------------------------------------------


def _facilitator_writes(room):
    stage = list(room.workshop.stages.all())[1]
    return {
        "timer": (url("workshops:timer", room), {"command": "start", "minutes": "5"}),
        "lock": (url("workshops:lock", room), {"locked": "1"}),
        "renew link": (url("workshops:renew_link", room), {}),
        "remove participant": (
            url("workshops:remove_participant", room, participant_pk=room.bruno.pk),
            {},
        ),
        "stage go": (url("workshops:stage_go", room, stage_pk=stage.pk), {}),
        "stage reveal": (url("workshops:stage_reveal", room, stage_pk=stage.pk), {}),
        "stage delete": (url("workshops:stage_delete", room, stage_pk=stage.pk), {}),
        "stage move": (url("workshops:stage_move", room, stage_pk=stage.pk), {"direction": "up"}),
        "stage add": (
            url("workshops:stage_add", room),
            {"title": "X", "kind": "wall", "duration_minutes": 5},
        ),
        "stage edit": (
            url("workshops:stage_edit", room, stage_pk=stage.pk),
            {"title": "X", "kind": "wall", "duration_minutes": 5},
        ),
        "workshop edit": (url("workshops:edit", room), {"title": "X", "language": "fr"}),
        "workshop delete": (url("workshops:delete", room), {}),
    }


FACILITATOR_WRITES = [
    "timer",
    "lock",
    "renew link",
    "remove participant",
    "stage go",
    "stage reveal",
    "stage delete",
    "stage move",
    "stage add",
    "stage edit",
    "workshop edit",
    "workshop delete",
]
# These two are form pages: GET shows the form.
POST_ONLY = [w for w in FACILITATOR_WRITES if w not in ("stage add", "stage edit", "workshop edit")]


def _untouched(room):
    """Nothing written since the room was set up (the set-up writes no event)."""
    workshop = Workshop.objects.filter(pk=room.workshop.pk).first()
    return (
        workshop is not None
        and workshop.seq == 0
        and (workshop.title, workshop.join_token) == (room.workshop.title, room.workshop.join_token)
        and workshop.current_stage_id == room.workshop.current_stage_id
        and workshop.timer_state == TimerState.IDLE
        and not workshop.writing_locked
        and list(workshop.stages.values_list("pk", "title"))
        == list(room.workshop.stages.values_list("pk", "title"))
        and workshop.stages.count() == len(methods.get_method("diagnostic")["stages"])
        and workshop.participants.filter(removed_at__isnull=True).count() == 2
        and not Event.objects.exists()
    )


@pytest.mark.parametrize("name", POST_ONLY)
def test_it_refuses_get_on_every_write(camille, room, name):
    target, _data = _facilitator_writes(room)[name]
    assert camille.get(target).status_code == 405
    assert _untouched(room)


@pytest.mark.parametrize("name", FACILITATOR_WRITES)
def test_it_refuses_facilitator_writes_to_participants(alice, room, name):
    target, data = _facilitator_writes(room)[name]
    response = alice.post(target, data)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert _untouched(room)


@pytest.mark.parametrize("name", FACILITATOR_WRITES)
def test_it_refuses_facilitator_writes_to_another_facilitator(oscar, room, name):
    target, data = _facilitator_writes(room)[name]
    assert oscar.post(target, data).status_code == 404
    assert _untouched(room)


@pytest.mark.parametrize("name", FACILITATOR_WRITES)
def test_it_refuses_facilitator_writes_to_strangers(client, room, name):
    target, data = _facilitator_writes(room)[name]
    response = client.post(target, data)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert _untouched(room)


def test_it_refuses_the_done_button_to_outsiders_and_get(client, room):
    target = reverse("workshops:done", args=[room.workshop.pk])
    assert client.post(target, {"done": "1"}).status_code == 403
    log_in_participant(client, room.olga)
    assert client.post(target, {"done": "1"}).status_code == 403
    log_in_participant(client, room.alice)
    assert client.get(target).status_code == 405
    assert _untouched(room)
