"""The stage editor and the stage controls: add, edit, delete, move, go, reveal."""

import pytest
from django.urls import reverse

from workshops import actions
from workshops.models import Event, Stage

from .base import HTMX, action_wall, french, fresh, url

# Editing stages -----------------------------------------------------------------------------------


def test_it_adds_a_stage_with_its_columns(camille, room):
    assert camille.get(url("workshops:stage_add", room)).status_code == 200
    count = room.workshop.stages.count()
    response = camille.post(
        url("workshops:stage_add", room),
        {
            "title": "Bilan à chaud",
            "kind": "wall",
            "instructions": "Un mot",
            "duration_minutes": 10,
            "columns_text": "Top | green\nFlop | red",
            "op_id": "op-addstage-1",
        },
    )
    assert response.status_code == 302
    stage = Stage.objects.get(workshop=room.workshop, title="Bilan à chaud")
    assert room.workshop.stages.count() == count + 1
    assert list(room.workshop.stages.all())[-1] == stage
    assert [(c["label"], c["colour"]) for c in stage.config["columns"]] == [
        ("Top", "green"),
        ("Flop", "red"),
    ]
    assert fresh(room.workshop).seq == 1


@pytest.mark.parametrize(
    "data",
    [
        {"title": "", "kind": "wall", "duration_minutes": 10},
        {"title": "X", "kind": "wall", "duration_minutes": 0},
        {"title": "X", "kind": "wall", "duration_minutes": 601},
        {"title": "X", "kind": "no-such-kind", "duration_minutes": 10},
        {"title": "X", "kind": "wall", "duration_minutes": 10, "columns_text": "A | magenta"},
    ],
    ids=["no title", "zero minutes", "too many minutes", "unknown kind", "unknown colour"],
)
def test_it_refuses_an_invalid_stage_and_changes_nothing(camille, room, data):
    count = room.workshop.stages.count()
    response = camille.post(url("workshops:stage_add", room), data)
    assert response.status_code == 200
    assert "is-invalid" in response.content.decode() or "invalid-feedback" in (
        response.content.decode()
    )
    assert room.workshop.stages.count() == count
    assert fresh(room.workshop).seq == 0


def test_it_renames_a_stage_keeping_its_post_its_columns(camille, room):
    stage = action_wall(room)
    seq = fresh(room.workshop).seq
    keys = [c["key"] for c in stage.config["columns"]]
    assert camille.get(url("workshops:stage_edit", room, stage_pk=stage.pk)).status_code == 200
    response = camille.post(
        url("workshops:stage_edit", room, stage_pk=stage.pk),
        {
            "title": "Carte des acteurs",
            "kind": stage.kind,
            "instructions": stage.instructions,
            "duration_minutes": 30,
            "columns_text": "\n".join(f"Colonne {i} | blue" for i in range(len(keys))),
        },
    )
    assert response.status_code == 302
    stage.refresh_from_db()
    assert stage.title == "Carte des acteurs"
    assert stage.duration_minutes == 30
    assert [c["key"] for c in stage.config["columns"]] == keys
    assert [c["label"] for c in stage.config["columns"]] == [
        f"Colonne {i}" for i in range(len(keys))
    ]
    renamed = Event.objects.filter(workshop=room.workshop, seq__gt=seq)
    assert [e.type for e in renamed] == ["workshops.stage_updated"]


def test_it_deletes_a_stage(camille, room):
    stage = list(room.workshop.stages.all())[2]
    response = camille.post(url("workshops:stage_delete", room, stage_pk=stage.pk), **HTMX)
    assert response.status_code == 200
    assert not Stage.objects.filter(pk=stage.pk).exists()


def test_it_moves_the_room_on_when_the_current_stage_is_deleted(camille, room):
    first, second = list(room.workshop.stages.all())[:2]
    camille.post(url("workshops:stage_delete", room, stage_pk=first.pk))
    assert fresh(room.workshop).current_stage_id == second.pk


def test_it_refuses_to_delete_the_last_stage_with_a_message(client, room):
    client.force_login(room.other_facilitator)
    stage = room.other_workshop.stages.get()
    target = reverse(
        "workshops:stage_delete", kwargs={"pk": room.other_workshop.pk, "stage_pk": stage.pk}
    )
    response = client.post(target, **HTMX)
    assert response.status_code == 400
    assert french("A workshop keeps at least one stage.") in response.content.decode()
    assert Stage.objects.filter(pk=stage.pk).exists()

    plain = client.post(target)
    assert plain.status_code == 302
    page = client.get(plain["Location"]).content.decode()
    assert french("A workshop keeps at least one stage.") in page


def test_it_moves_a_stage_up_and_down(camille, room):
    stages = list(room.workshop.stages.all())
    camille.post(url("workshops:stage_move", room, stage_pk=stages[2].pk), {"direction": "up"})
    assert list(room.workshop.stages.all())[:3] == [stages[0], stages[2], stages[1]]
    camille.post(url("workshops:stage_move", room, stage_pk=stages[2].pk), {"direction": "down"})
    assert list(room.workshop.stages.all()) == stages
    # The first stage cannot go further up.
    camille.post(url("workshops:stage_move", room, stage_pk=stages[0].pk), {"direction": "up"})
    assert list(room.workshop.stages.all()) == stages


def test_it_moves_everyone_to_a_stage(camille, room):
    stage = list(room.workshop.stages.all())[3]
    response = camille.post(url("workshops:stage_go", room, stage_pk=stage.pk), **HTMX)
    assert response.status_code == 200
    assert fresh(room.workshop).current_stage_id == stage.pk


def test_it_reveals_a_private_stage_and_hides_it_again(camille, room):
    # A wall of its own: the method's closing stage, once the private wall, is a tree now.
    stage = actions.add_stage(room.workshop, kind="wall", title="En secret", private_writing=True)
    target = url("workshops:stage_reveal", room, stage_pk=stage.pk)
    camille.post(target, {"revealed": "1"})
    assert Stage.objects.get(pk=stage.pk).revealed
    camille.post(target, {"revealed": "0"})
    assert not Stage.objects.get(pk=stage.pk).revealed


def test_it_refuses_a_stage_of_another_workshop(camille, room):
    stage = room.other_workshop.stages.get()
    for name in ("stage_go", "stage_delete", "stage_move", "stage_reveal", "stage_edit"):
        response = camille.post(url(f"workshops:{name}", room, stage_pk=stage.pk))
        assert response.status_code == 404, name
    assert fresh(room.workshop).seq == 0


# The method's optional variants (seed 000: "poster de promesse de service") ----------------


def _console(client, room):
    return client.get(reverse("workshops:console", args=[room.workshop.pk])).content.decode()


def test_it_offers_diagnostics_poster_variant_and_adds_it_once(camille, room):
    offer = 'name="variant" value="promise_poster"'
    page = _console(camille, room)
    assert offer in page and "+ Poster de promesse de service" in page
    seq = fresh(room.workshop).seq
    count = room.workshop.stages.count()
    response = camille.post(
        url("workshops:stage_add", room),
        {"variant": "promise_poster", "op_id": "op-variant-1"},
        **HTMX,
    )
    assert response.status_code == 200, response.content
    stage = room.workshop.stages.order_by("position").last()
    assert (stage.kind, stage.title) == ("promise", "Poster de promesse de service")
    assert "poster A3" in stage.instructions and room.workshop.stages.count() == count + 1
    assert [e.type for e in Event.objects.filter(workshop=room.workshop, seq__gt=seq)] == [
        "workshops.stage_added"
    ]
    # The workshop has its promise stage now: the variant is no longer offered.
    assert offer not in _console(camille, room)
    again = camille.post(
        url("workshops:stage_add", room),
        {"variant": "promise_poster", "op_id": "op-variant-2"},
        **HTMX,
    )
    assert again.status_code == 400 and room.workshop.stages.count() == count + 1


@pytest.mark.parametrize("variant", ["nope", "", "<b>promise_poster</b>"])
def test_it_refuses_a_variant_the_method_does_not_offer_and_changes_nothing(camille, room, variant):
    seq, count = fresh(room.workshop).seq, room.workshop.stages.count()
    response = camille.post(url("workshops:stage_add", room), {"variant": variant}, **HTMX)
    assert response.status_code == 400
    message = french("This workshop’s method offers no such variant.")
    assert message in response.content.decode() and "variante" in message
    assert fresh(room.workshop).seq == seq and room.workshop.stages.count() == count


def test_only_the_facilitator_adds_a_variant(alice, room):
    count = room.workshop.stages.count()
    response = alice.post(url("workshops:stage_add", room), {"variant": "promise_poster"}, **HTMX)
    assert response.status_code in (302, 403, 404)
    assert room.workshop.stages.count() == count


def test_a_method_without_variants_offers_none(camille, room):
    from workshops import methods

    assert methods.variants_for("promesse", "fr") == []
    assert methods.variants_for("", "fr") == []
    # Diagnostic's variant, in English for an English workshop.
    [variant] = methods.variants_for("diagnostic", "en")
    assert variant["label"] == "Service promise poster" and variant["stage"]["kind"] == "promise"
