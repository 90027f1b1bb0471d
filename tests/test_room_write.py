"""The one write skeleton (`live.room_write`): its checks, and what a write costs in queries."""

import pytest

from journeys import actions as journeys
from workshops import actions
from workshops.live.write import ActionError, room_write

# Counts include the test's savepoint and its release (2).
# go_to_stage onto a map: the workshop locked, the op id checked, the stage, the workshop
# saved, then the redraw: the workshop and its current stage, the stages (once, for the
# three live regions and the stage list: rendering.render_regions), the map's actors and
# flows (for each audience), the console's people without a phone ("write for"), the seq
# bumped, the event written.
# Before: 20 (the 19, and the savepoint): the stages were read four times. The
# undo button and the projector's QR choice read the stages already in hand (no query).
GO_TO_STAGE_QUERIES = 18
# add_postit: the workshop locked, the op id checked, the stage, the post-it written,
# the seq bumped, the event written, and the workshop's stages once for the post-it's
# "→ Tension / → Idée" (a matrix or an ideas stage may take it). Before room_write: 8;
# with room_write 8; with the promotion 9.
ADD_POSTIT_QUERIES = 9


def test_it_moves_to_a_stage_in_a_pinned_number_of_queries(room, django_assert_num_queries):
    stages = list(room.workshop.stages.all())
    journeys.add_postit(stages[1], participant=None, text="Déjà là")
    with django_assert_num_queries(GO_TO_STAGE_QUERIES):
        actions.go_to_stage(room.workshop, stages[1], op_id="op-go-count-01")


def test_it_adds_a_post_it_in_a_pinned_number_of_queries(room, django_assert_num_queries):
    stage = room.stage
    journeys.add_postit(stage, participant=room.alice, text="Premier")
    with django_assert_num_queries(ADD_POSTIT_QUERIES):
        journeys.add_postit(stage, participant=room.alice, text="Second", op_id="op-add-count-1")


def test_it_answers_a_retry_with_its_first_event_before_any_other_check(room):
    stage = room.stage
    journeys.add_postit(stage, participant=room.alice, text="Avant", op_id="op-retry-first-1")
    actions.set_writing_locked(room.workshop, True)
    with room_write(
        room.workshop.pk,
        op_id="op-retry-first-1",
        participant=room.alice,
        stage_id=stage.pk,
        writing=True,
    ) as w:
        assert w.prior is not None and w.stage is None
    again = journeys.add_postit(
        stage, participant=room.alice, text="Avant", op_id="op-retry-first-1"
    )
    assert again.text == "Avant"


def test_it_refuses_a_closed_stage_a_missing_one_and_the_wrong_kind(room):
    stages = list(room.workshop.stages.all())
    actions.set_writing_locked(room.workshop, True)
    with (
        pytest.raises(ActionError) as closed,
        room_write(room.workshop.pk, participant=room.alice, stage_id=stages[0].pk, writing=True),
    ):
        pass
    assert closed.value.status == 409
    # The facilitator writes on a locked stage.
    with room_write(room.workshop.pk, stage_id=stages[0].pk, writing=True) as w:
        assert w.stage.pk == stages[0].pk
    with pytest.raises(ActionError) as gone, room_write(room.workshop.pk, stage_id=10**9):
        pass
    assert gone.value.status == 404
    wall = next(s for s in stages if s.kind != "map")
    with (
        pytest.raises(ActionError) as wrong,
        room_write(room.workshop.pk, stage_id=wall.pk, kind="map", wrong_kind="no map here"),
    ):
        pass
    assert (wrong.value.status, wrong.value.message) == (404, "no map here")


def test_it_stores_each_distinct_frame_once_and_reads_them_per_audience(room):
    import json

    from django.db import connection

    from workshops.models import Event

    journeys.add_postit(room.stage, participant=room.alice, text="Une seule fois")
    event = Event.objects.filter(workshop=room.workshop).latest("seq")
    assert set(event.frames) >= {"facilitator", "projector", "participant"}
    assert len({event.frames[a] for a in ("facilitator", "projector", "participant")}) == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT frames FROM workshops_event WHERE id = %s", [event.pk])
        stored = json.loads(cursor.fetchone()[0])
    assert stored["html"] == [event.frames["participant"]]
    assert stored["by"] == dict.fromkeys(event.frames, 0)
    # What a reconnecting page is replayed (values(), as the consumer reads it) is whole too.
    replayed = Event.objects.filter(pk=event.pk).values("frames")[0]["frames"]
    assert replayed == event.frames
