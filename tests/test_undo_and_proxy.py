"""Facilitators make mistakes too: undoing "Move everyone here", and writing for
someone without a phone (a participant added from the console)."""

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse

from journeys import actions as journeys
from journeys.kinds import colour_choices, columns_of
from journeys.models import PostIt
from workshops import actions
from workshops.exports import transfer
from workshops.exports.report import report_html
from workshops.live.write import ActionError
from workshops.models import Event, Participant, Profile, Workshop

from .base import HTMX, log_in_participant

ENTERED = "saisi par l’animateur·rice"


def _stages(room):
    return list(room.workshop.stages.all())


def _postit_fields(stage):
    fields = {"column": columns_of(stage)[0]["key"]}
    if colour_choices(stage):
        fields["colour"] = colour_choices(stage)[0]["value"]
    return fields


# Undo ----------------------------------------------------------------------------------


def test_it_remembers_where_a_move_came_from(room):
    first, second, third = _stages(room)[:3]
    actions.go_to_stage(room.workshop, third)
    workshop = Workshop.objects.get(pk=room.workshop.pk)
    assert workshop.current_stage == third
    assert workshop.previous_stage == first
    actions.go_to_stage(workshop, second)
    workshop.refresh_from_db()
    assert workshop.previous_stage == third


def test_it_undoes_a_move_in_one_tap_through_the_usual_path(room, camille):
    first, _second, third = _stages(room)[:3]
    actions.go_to_stage(room.workshop, third)
    console = camille.get(reverse("workshops:console", args=[room.workshop.pk])).content.decode()
    assert "Revenir à l’étape précédente" in console
    assert first.title in console
    seq = Workshop.objects.get(pk=room.workshop.pk).seq

    response = camille.post(
        reverse("workshops:stage_back", args=[room.workshop.pk]),
        {"stage": first.pk, "op_id": "undo-the-move-0001"},
        **HTMX,
    )

    assert response.status_code == 200
    workshop = Workshop.objects.get(pk=room.workshop.pk)
    assert workshop.current_stage == first
    assert workshop.previous_stage is None  # nothing left to undo
    event = Event.objects.get(workshop=workshop, seq=seq + 1)
    assert event.type == "workshops.stage_changed"
    assert event.op_id == "undo-the-move-0001"
    assert 'id="live"' in event.frames["participant"]
    # The console's stage list no longer offers it.
    assert "Revenir à l’étape précédente" not in event.frames["facilitator"]


def test_it_applies_a_retried_undo_once(room):
    first, _second, third = _stages(room)[:3]
    actions.go_to_stage(room.workshop, third)
    actions.go_to_stage(room.workshop, first, op_id="undo-retried-00001", undo=True)
    seq = Workshop.objects.get(pk=room.workshop.pk).seq
    actions.go_to_stage(room.workshop, first, op_id="undo-retried-00001", undo=True)
    assert Workshop.objects.get(pk=room.workshop.pk).seq == seq


def test_it_refuses_to_undo_towards_a_stage_the_last_move_did_not_come_from(room):
    first, second, third = _stages(room)[:3]
    actions.go_to_stage(room.workshop, third)  # came from the first
    seq = Workshop.objects.get(pk=room.workshop.pk).seq
    with pytest.raises(ActionError) as refused:
        actions.go_to_stage(room.workshop, second, undo=True)
    assert refused.value.status == 409
    workshop = Workshop.objects.get(pk=room.workshop.pk)
    assert (workshop.current_stage, workshop.previous_stage, workshop.seq) == (third, first, seq)


def test_it_says_so_when_a_second_tap_finds_nothing_to_undo(room, camille):
    first, _second, third = _stages(room)[:3]
    actions.go_to_stage(room.workshop, third)
    url = reverse("workshops:stage_back", args=[room.workshop.pk])
    camille.post(url, {"stage": first.pk, "op_id": "undo-first-tap-001"}, **HTMX)
    response = camille.post(url, {"stage": first.pk, "op_id": "undo-second-tap-01"}, **HTMX)
    assert response.status_code == 409
    assert "plus de déplacement à annuler" in response.content.decode()


def test_it_refuses_a_stage_of_another_workshop_as_the_way_back(room, camille):
    actions.go_to_stage(room.workshop, _stages(room)[2])
    theirs = room.other_workshop.stages.first()
    response = camille.post(
        reverse("workshops:stage_back", args=[room.workshop.pk]),
        {"stage": theirs.pk, "op_id": "undo-elsewhere-001"},
        **HTMX,
    )
    assert response.status_code == 404
    assert Workshop.objects.get(pk=room.workshop.pk).current_stage == _stages(room)[2]


# Someone without a phone ------------------------------------------------------------------


def test_it_adds_someone_without_a_phone_from_the_console(room, camille):
    seq = Workshop.objects.get(pk=room.workshop.pk).seq
    response = camille.post(
        reverse("workshops:add_participant", args=[room.workshop.pk]),
        {
            "display_name": "  Denise   Martin ",
            "profile": "partner",
            "organisation": "Mairie",
            "op_id": "add-denise-000001",
        },
        **HTMX,
    )
    assert response.status_code == 200
    denise = Participant.objects.get(workshop=room.workshop, display_name="Denise Martin")
    assert denise.added_by_facilitator
    assert (denise.profile, denise.organisation) == (Profile.PARTNER, "Mairie")
    # Phones that joined themselves are not proxies.
    assert not Participant.objects.get(pk=room.alice.pk).added_by_facilitator
    html = response.content.decode()
    assert "Denise Martin" in html and "sans téléphone" in html
    # The console's "write for" choice gains her name; phones see nothing of it.
    event = Event.objects.get(workshop=room.workshop, seq=seq + 1)
    assert event.type == "workshops.participant_added"
    assert 'id="act-as"' in event.frames["facilitator"]
    assert "Denise Martin" in event.frames["facilitator"]
    assert event.frames["participant"] == event.frames["projector"] == ""


def test_it_writes_a_post_it_for_someone_and_marks_it_everywhere(room, camille):
    # An anonymous wall whose authors pick the colour (the Diagnostic's step 3 was one; it
    # is a `journey` now, without the wall's "write for" compose box).
    stage = actions.add_stage(
        room.workshop,
        kind="wall",
        title="Parcours (mur)",
        anonymous=True,
        config={
            "columns": [{"key": "client_view", "label": "Côté client", "colour": "blue"}],
            "colours": ["green", "orange", "red"],
        },
    )
    actions.go_to_stage(room.workshop, stage)
    denise = actions.add_participant(room.workshop, display_name="Denise", profile="partner")
    console = camille.get(reverse("workshops:console", args=[room.workshop.pk])).content.decode()
    assert f'<option value="{denise.pk}">Denise' in console

    response = camille.post(
        reverse("journeys:add_postit", args=[room.workshop.pk, stage.pk]),
        {
            "text": "Les demandes se perdent",
            "as_participant": str(denise.pk),
            "op_id": "proxy-postit-00001",
            **_postit_fields(stage),
        },
        **HTMX,
    )

    assert response.status_code == 200
    postit = PostIt.objects.get(text="Les demandes se perdent")
    assert postit.author == denise
    event = Event.objects.get(workshop=room.workshop, op_id="proxy-postit-00001")
    assert event.participant_id == denise.pk
    # The same fragment for every audience, marked; nobody's phone owns it.
    for audience in ("participant", "facilitator", "projector"):
        assert ENTERED in event.frames[audience] or stage.anonymous
    assert event.owners == {}
    # The PDF's post-it list and the CSV say so too.
    if not stage.anonymous:
        assert ENTERED in response.content.decode()
        assert ENTERED in report_html(Workshop.objects.get(pk=room.workshop.pk))
        text = transfer.export_csv(room.workshop).lstrip("\ufeff")
        rows = list(csv.reader(io.StringIO(text), delimiter=";"))
        assert any("Denise (saisi par l’animateur·rice)" in row for row in rows)


def test_it_marks_the_report_and_csv_for_a_named_stage(room):
    # A wall whose post-its are named and printed: the method's last such wall became the
    # action sheets, so the test brings its own.
    stage = actions.add_stage(room.workshop, kind="wall", title="Mur nommé")
    assert not stage.anonymous and not stage.private_writing
    actions.go_to_stage(room.workshop, stage)
    denise = actions.add_participant(room.workshop, display_name="Denise", profile="partner")
    journeys.add_postit(stage, participant=denise, text="Noté pour Denise", **_postit_fields(stage))
    journeys.add_postit(
        stage, participant=room.alice, text="Écrit par Alice", **_postit_fields(stage)
    )
    report = report_html(Workshop.objects.get(pk=room.workshop.pk))
    assert f"Denise ({ENTERED})" in report
    assert f"Alice ({ENTERED})" not in report
    text = transfer.export_csv(room.workshop).lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    authors = {row[6] for row in rows[1:] if row[5] in ("Noté pour Denise", "Écrit par Alice")}
    assert authors == {"Denise (saisi par l’animateur·rice)", "Alice"}


def test_it_keeps_the_mark_through_an_export_and_an_import(room):
    denise = actions.add_participant(room.workshop, display_name="Denise", profile="partner")
    document = transfer.export_workshop(room.workshop)
    copy = transfer.import_workshop(document, room.facilitator)
    people = {p.display_name: p.added_by_facilitator for p in copy.participants.all()}
    assert people == {"Alice": False, "Bruno": False, denise.display_name: True}


def test_it_lets_the_console_write_for_someone_while_writing_is_locked(room):
    stage = _stages(room)[2]
    actions.go_to_stage(room.workshop, stage)
    actions.set_writing_locked(room.workshop, True)
    denise = actions.add_participant(room.workshop, display_name="Denise", profile="partner")
    journeys.add_postit(
        stage, participant=denise, text="Dicté à l’animatrice", **_postit_fields(stage)
    )
    with pytest.raises(ActionError) as refused:
        journeys.add_postit(
            stage, participant=room.alice, text="Trop tard", **_postit_fields(stage)
        )
    assert refused.value.status == 409


@pytest.mark.parametrize(
    ("who", "value", "status"),
    [
        ("camille", "alice", 404),  # a phone's participant is not someone to write for
        ("camille", "olga", 404),  # someone of another workshop
        ("camille", "removed", 404),
        ("camille", "abc", 400),
        ("alice", "denise", 403),  # only the console writes for someone else
    ],
)
def test_it_refuses_to_write_for_anyone_else(room, who, value, status):
    stage = _stages(room)[2]
    actions.go_to_stage(room.workshop, stage)
    denise = actions.add_participant(room.workshop, display_name="Denise", profile="partner")
    gone = actions.add_participant(room.workshop, display_name="Gaston", profile="agent")
    actions.remove_participant(room.workshop, gone)
    ids = {"alice": room.alice.pk, "olga": room.olga.pk, "removed": gone.pk, "denise": denise.pk}
    client = Client()
    if who == "camille":
        client.force_login(room.facilitator)
    else:
        log_in_participant(client, room.alice)
    count = PostIt.objects.count()
    response = client.post(
        reverse("journeys:add_postit", args=[room.workshop.pk, stage.pk]),
        {
            "text": "Pour quelqu’un d’autre",
            "as_participant": str(ids.get(value, value)),
            "op_id": f"proxy-refused-{who}-{value}",
            **_postit_fields(stage),
        },
        **HTMX,
    )
    assert response.status_code == status
    assert PostIt.objects.count() == count
