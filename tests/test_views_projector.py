"""The projector: what the room's screen shows besides the board, set from the console."""

import pytest

from workshops.models import Event

from .base import HTMX, fresh, url

# The projector: what the room's screen shows besides the board ----------------------------------


def test_it_changes_what_every_projector_shows_from_the_console(camille, room):
    from workshops.live.regions import render_snapshot

    state = url("workshops:projector_state", room)
    response = camille.post(state, {"instructions": "shown", "op_id": "op-projector-01"}, **HTMX)
    assert response.status_code == 200
    response = camille.post(state, {"qr": "large", "op_id": "op-projector-02"}, **HTMX)
    assert response.status_code == 200
    events = list(Event.objects.filter(workshop=room.workshop).order_by("seq"))
    assert [e.type for e in events] == ["workshops.projector_changed"] * 2
    last = events[-1].frames
    assert 'id="projector-state"' in last["projector"]
    assert 'data-instructions="shown"' in last["projector"]
    assert 'data-qr="large"' in last["projector"]
    assert 'id="projector-panel"' in last["facilitator"]
    assert 'name="qr" value="large" aria-pressed="true"' in last["facilitator"]
    assert not last["participant"]
    # A projector that reconnects, or opens now, gets the same state.
    workshop = fresh(room.workshop)
    snapshot, _own = render_snapshot(workshop, "projector")
    assert 'data-instructions="shown"' in snapshot and 'data-qr="large"' in snapshot
    page = camille.get(url("workshops:projector", room)).content.decode()
    assert 'data-instructions="shown"' in page and 'data-qr="large"' in page
    console = camille.get(url("workshops:console", room)).content.decode()
    assert 'name="instructions" value="shown" aria-pressed="true"' in console
    # A retried write changes nothing twice.
    camille.post(state, {"qr": "large", "op_id": "op-projector-02"}, **HTMX)
    assert fresh(room.workshop).seq == 2


def test_it_folds_the_instructions_again_on_the_next_stage(camille, room):
    from workshops import actions

    camille.post(url("workshops:projector_state", room), {"instructions": "hidden"}, **HTMX)
    assert fresh(room.workshop).projector_state()["instructions"] == "hidden"
    first, second = list(room.workshop.stages.all())[:2]
    actions.go_to_stage(room.workshop, second)
    workshop = fresh(room.workshop)
    assert workshop.projector_state()["instructions"] == "auto"
    moved = Event.objects.filter(workshop=room.workshop, type="workshops.stage_changed").get()
    assert 'data-instructions="auto"' in moved.frames["projector"]
    # The console's panel is redrawn with the move too (it is inside #controls).
    assert 'name="instructions" value="auto" aria-pressed="true"' in moved.frames["facilitator"]
    # The choice belongs to the stage it was made on: coming back finds it again.
    actions.go_to_stage(workshop, first)
    assert fresh(room.workshop).projector_state()["instructions"] == "hidden"


def test_it_keeps_the_qr_code_large_only_while_the_first_stage_waits(camille, room):
    from workshops import actions

    workshop = fresh(room.workshop)
    assert workshop.projector_state()["qr"] == "auto"
    actions.go_to_stage(workshop, list(workshop.stages.all())[1])
    assert fresh(room.workshop).projector_state() == {
        "instructions": "auto",
        "qr": "small",
        "qr_choice": "auto",
    }
    camille.post(url("workshops:projector_state", room), {"qr": "large"}, **HTMX)
    assert fresh(room.workshop).projector_state()["qr"] == "large"


@pytest.mark.parametrize(
    "data",
    [{}, {"instructions": "open"}, {"qr": "huge"}, {"instructions": "shown", "qr": "x"}],
    ids=["nothing", "unknown instructions", "unknown qr", "one of two unknown"],
)
def test_it_refuses_a_bad_projector_choice_and_changes_nothing(camille, room, data):
    response = camille.post(url("workshops:projector_state", room), data, **HTMX)
    assert response.status_code == 400
    assert 'id="toast"' in response.content.decode()
    workshop = fresh(room.workshop)
    assert workshop.seq == 0
    assert workshop.projector_state()["instructions"] == "auto"
    assert workshop.projector_qr_large is None


def test_it_lets_only_the_facilitator_change_the_projector(alice, room):
    response = alice.post(url("workshops:projector_state", room), {"qr": "large"}, **HTMX)
    assert response.status_code in (302, 403)
    assert fresh(room.workshop).projector_qr_large is None
