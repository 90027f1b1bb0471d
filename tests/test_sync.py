"""The live-sync spine, through the real actions.

Every accepted write is one transaction: one more sequence number, one event
with its frames rendered per audience, a broadcast after the commit. A
refused write changes nothing. Frames never carry what an audience must not
see, and user text in them is text.

Also run against PostgreSQL and Redis (`make test-scaleout`).
"""

import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django.utils.html import escape

from journeys import actions as journeys
from journeys.models import Cluster, PostIt
from tests.base import COLOUR_WALL, action_wall
from workshops import actions
from workshops.live.hub import Encoded
from workshops.live.write import AUDIENCES, ActionError, emit, message_for
from workshops.models import Event, Participant, Profile, Stage, Workshop

pytestmark = pytest.mark.usefixtures("english_messages")

SECRET = "Le chef ne répond jamais aux tickets"
XSS = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>']


def seq_of(workshop):
    return Workshop.objects.values_list("seq", flat=True).get(pk=workshop.pk)


def stage_at(room, index):
    return list(room.workshop.stages.all())[index]


def other_wall(room):
    """A post-it wall the room is not on."""
    workshop = Workshop.objects.get(pk=room.workshop.pk)
    found = next(
        (
            s
            for s in workshop.stages.all()
            if s.config.get("columns") and s.pk != workshop.current_stage_id
        ),
        None,
    )
    return found or action_wall(room)


def colour_stage(room):
    """A wall where the author picks the colour (the journey's green/orange/red)."""
    stage = actions.add_stage(room.workshop, kind="wall", title="Couleurs", config=COLOUR_WALL)
    actions.go_to_stage(room.workshop, stage)
    return Stage.objects.get(pk=stage.pk)


def go_to(room, index):
    stage = stage_at(room, index)
    actions.go_to_stage(room.workshop, stage)
    return Stage.objects.get(pk=stage.pk)


def private_stage(room):
    # A wall of its own: the method's closing stage, once the private wall, is a tree now.
    stage = actions.add_stage(room.workshop, kind="wall", title="En secret", private_writing=True)
    actions.go_to_stage(room.workshop, stage)
    stage.refresh_from_db()
    assert stage.is_hidden
    return stage


def anonymous_stage(room):
    stage = actions.add_stage(
        room.workshop, kind="wall", title="Irritants", anonymous=True, config=COLOUR_WALL
    )
    actions.go_to_stage(room.workshop, stage)
    stage.refresh_from_db()
    return stage


def colour_for(stage):
    return (stage.config.get("colours") or [None])[0]


def post(room, participant, text, stage=None, op_id=None):
    stage = stage or room.stage
    return journeys.add_postit(
        stage,
        participant=participant,
        text=text,
        column=stage.config["columns"][0]["key"],
        colour=colour_for(stage),
        op_id=op_id,
    )


def state_of(room):
    """Everything a refused write must leave as it was."""
    workshop = Workshop.objects.get(pk=room.workshop.pk)
    return {
        "seq": workshop.seq,
        "events": list(Event.objects.filter(workshop=workshop).values_list("pk", flat=True)),
        "postits": list(PostIt.objects.filter(workshop=workshop).values("pk", "text", "colour")),
        "clusters": list(
            Cluster.objects.filter(stage__workshop=workshop).values_list("pk", "name")
        ),
        "stages": list(workshop.stages.values_list("pk", "position", "title")),
        "current_stage": workshop.current_stage_id,
        "timer": (workshop.timer_state, workshop.timer_ends_at, workshop.timer_remaining),
        "locked": workshop.writing_locked,
        "other workshop": (
            seq_of(room.other_workshop),
            list(room.other_workshop.stages.values_list("pk", flat=True)),
        ),
    }


# One write, one seq, one event ----------------------------------------------------------


def test_it_bumps_seq_by_exactly_one_per_accepted_write(room):
    workshop = room.workshop
    framing = room.stage
    writes = [
        ("journeys.postit_added", lambda: post(room, room.alice, "Des délais clairs")),
        ("journeys.postit_added", lambda: post(room, None, "Note de l'animatrice")),
        (
            "journeys.postit_edited",
            lambda: journeys.edit_postit(
                PostIt.objects.get(text="Des délais clairs"), participant=room.alice, text="Délais"
            ),
        ),
        ("journeys.cluster_added", lambda: journeys.add_cluster(framing, name="Délais")),
        (
            "journeys.postits_clustered",
            lambda: journeys.assign_cluster(
                framing, [PostIt.objects.get(text="Délais").pk], Cluster.objects.get()
            ),
        ),
        ("workshops.writing_locked", lambda: actions.set_writing_locked(workshop, True)),
        ("workshops.timer_lock", lambda: actions.set_timer_locks_writing(workshop, True)),
        ("workshops.timer", lambda: actions.control_timer(workshop, "start", minutes=5)),
        ("workshops.timer", lambda: actions.control_timer(workshop, "pause")),
        ("workshops.done", lambda: actions.set_done(room.bruno, True)),
        ("workshops.stage_changed", lambda: actions.go_to_stage(workshop, stage_at(room, 1))),
        (
            "workshops.stage_added",
            lambda: actions.add_stage(workshop, kind="wall", title="Bilan"),
        ),
        (
            "workshops.stage_updated",
            lambda: actions.update_stage(stage_at(room, 1), title="Carte"),
        ),
        ("workshops.stage_moved", lambda: actions.move_stage(stage_at(room, 1), -1)),
        ("workshops.stage_deleted", lambda: actions.delete_stage(stage_at(room, 3))),
        (
            "journeys.postit_deleted",
            lambda: journeys.delete_postit(PostIt.objects.get(text="Délais"), participant=None),
        ),
        ("workshops.join_link_renewed", lambda: actions.renew_join_link(workshop)),
        ("workshops.participant_removed", lambda: actions.remove_participant(workshop, room.bruno)),
        ("workshops.workshop_updated", lambda: actions.update_workshop(workshop, title="Bilan")),
    ]
    assert seq_of(workshop) == 0
    for expected_seq, (expected_type, write) in enumerate(writes, start=1):
        write()
        assert seq_of(workshop) == expected_seq, expected_type
        event = Event.objects.get(workshop=workshop, seq=expected_seq)
        assert event.type == expected_type
        assert set(AUDIENCES) <= set(event.frames)
    assert list(Event.objects.filter(workshop=workshop).values_list("seq", flat=True)) == list(
        range(1, len(writes) + 1)
    )
    # Another workshop's log is its own.
    assert seq_of(room.other_workshop) == 0
    assert not Event.objects.filter(workshop=room.other_workshop).exists()


def test_it_records_what_the_write_did_in_its_event(room):
    postit = post(room, room.alice, "Des délais clairs", op_id="op-first-01")
    event = Event.objects.get(workshop=room.workshop)
    assert event.op_id == "op-first-01"
    assert event.participant == room.alice
    assert event.payload["postit"] == postit.pk
    assert event.owners == {str(room.alice.pk): [postit.pk]}
    assert "Des délais clairs" in event.frames["participant"]


def test_it_refuses_to_emit_outside_a_transaction(room):
    connection = transaction.get_connection()
    atomic = connection.in_atomic_block
    connection.in_atomic_block = False  # as if there were no transaction around the write
    try:
        with pytest.raises(RuntimeError):
            emit(room.workshop, "x.y", {}, frames={})
    finally:
        connection.in_atomic_block = atomic
    assert seq_of(room.workshop) == 0


# Retried operations -------------------------------------------------------------------


def test_it_applies_a_retried_post_it_once_and_returns_the_same_one(room):
    first = post(room, room.alice, "Une fois", op_id="op-retry-0001")
    again = post(room, room.alice, "Une fois", op_id="op-retry-0001")
    assert again.pk == first.pk
    assert PostIt.objects.filter(workshop=room.workshop).count() == 1
    assert Event.objects.filter(workshop=room.workshop).count() == 1
    assert seq_of(room.workshop) == 1


def test_it_applies_a_retried_stage_once_and_returns_the_same_one(room):
    count = room.workshop.stages.count()
    first = actions.add_stage(room.workshop, kind="wall", title="Bilan", op_id="op-stage-001")
    again = actions.add_stage(room.workshop, kind="wall", title="Bilan", op_id="op-stage-001")
    assert again.pk == first.pk
    assert room.workshop.stages.count() == count + 1
    assert seq_of(room.workshop) == 1


@pytest.mark.parametrize(
    "write",
    [
        lambda room, op: actions.control_timer(room.workshop, "add", minutes=5, op_id=op),
        lambda room, op: actions.set_writing_locked(room.workshop, True, op_id=op),
        lambda room, op: actions.move_stage(stage_at(room, 2), -1, op_id=op),
        lambda room, op: actions.renew_join_link(room.workshop, op_id=op),
        lambda room, op: actions.set_done(room.alice, True, op_id=op),
        lambda room, op: journeys.add_cluster(room.stage, name="Thème", op_id=op),
    ],
    ids=["timer", "lock", "move", "renew", "done", "cluster"],
)
def test_it_applies_any_retried_write_once(room, write):
    write(room, "op-any-000001")
    state = state_of(room)
    workshop = Workshop.objects.get(pk=room.workshop.pk)
    write(room, "op-any-000001")
    assert state_of(room) == state
    again = Workshop.objects.get(pk=room.workshop.pk)
    assert (again.join_token, again.timer_ends_at) == (workshop.join_token, workshop.timer_ends_at)


def test_it_keeps_op_ids_apart_between_workshops(room):
    post(room, room.alice, "Ici", op_id="op-shared-001")
    other_stage = room.other_workshop.stages.get()
    journeys.add_postit(other_stage, participant=room.olga, text="Là-bas", op_id="op-shared-001")
    assert PostIt.objects.filter(text="Là-bas", workshop=room.other_workshop).exists()
    assert seq_of(room.other_workshop) == 1


def test_it_refuses_someone_elses_operation_id_instead_of_replaying_it(room):
    post(room, room.alice, "À Alice", op_id="op-alice-0001")
    before = state_of(room)
    for participant in (room.bruno, None):
        with pytest.raises(ActionError) as refused:
            post(room, participant, "Rejoué", op_id="op-alice-0001")
        assert refused.value.status == 409
    assert state_of(room) == before


def test_it_applies_a_retry_of_a_refused_write_once_it_is_allowed(room):
    actions.set_writing_locked(room.workshop, True)
    with pytest.raises(ActionError):
        post(room, room.alice, "Plus tard", op_id="op-later-0001")
    actions.set_writing_locked(room.workshop, False)
    postit = post(room, room.alice, "Plus tard", op_id="op-later-0001")
    assert postit.text == "Plus tard"
    assert Event.objects.get(op_id="op-later-0001").seq == 3


# Refused writes change nothing ------------------------------------------------------------


def _lock_writing(room):
    actions.set_writing_locked(room.workshop, True)
    return room.stage


def _time_up_with_lock(room):
    actions.set_timer_locks_writing(room.workshop, True)
    actions.control_timer(room.workshop, "start", minutes=1)
    Workshop.objects.filter(pk=room.workshop.pk).update(
        timer_ends_at=timezone.now() - timedelta(seconds=1)
    )
    return room.stage


def _stage_not_current(room):
    return other_wall(room)


REFUSALS = {
    "empty": (lambda room: room.stage, "   \n\t ", 400, "Write something"),
    "too long": (lambda room: room.stage, "x" * 501, 400, "Too long"),
    "control characters only": (lambda room: room.stage, "\x00\x07\x1b", 400, "Write something"),
    "writing locked": (_lock_writing, "Bonjour", 409, "locked by the facilitator"),
    "time up": (_time_up_with_lock, "Bonjour", 409, "Time is up"),
    "stage not current": (_stage_not_current, "Bonjour", 409, "moved on"),
}


@pytest.mark.parametrize("case", REFUSALS.values(), ids=REFUSALS.keys())
def test_it_refuses_a_post_it_and_changes_nothing(
    room, case, published, django_capture_on_commit_callbacks
):
    setup, text, status, message = case
    stage = setup(room)
    before = state_of(room)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(ActionError) as refused,
    ):
        post(room, room.alice, text, stage=stage, op_id="op-refused-01")
    assert refused.value.status == status
    assert message in str(refused.value.message)
    assert state_of(room) == before
    assert callbacks == []
    assert published == []
    assert not Event.objects.filter(op_id="op-refused-01").exists()


def test_it_accepts_the_longest_post_it_allowed(room):
    postit = post(room, room.alice, "x" * 500)
    assert len(postit.text) == 500


def test_it_lets_the_facilitator_write_while_participants_are_locked_out(room):
    actions.set_writing_locked(room.workshop, True)
    postit = post(room, None, "Synthèse")
    assert postit.author is None
    assert seq_of(room.workshop) == 2


def test_it_writes_again_once_time_is_added(room):
    _time_up_with_lock(room)
    actions.control_timer(room.workshop, "add", minutes=1)
    assert post(room, room.alice, "Encore une").pk


def _bruno_postit(room):
    return post(room, room.bruno, "À Bruno")


OTHER_REFUSALS = {
    "unknown column": (
        lambda room: room.stage,
        lambda room, stage: journeys.add_postit(
            stage, participant=room.alice, text="x", column="nope"
        ),
    ),
    "colour not offered": (
        colour_stage,
        lambda room, stage: journeys.add_postit(
            stage,
            participant=room.alice,
            text="x",
            column=stage.config["columns"][0]["key"],
            colour=next(c for c in ("pink", "purple", "grey") if c not in stage.config["colours"]),
        ),
    ),
    "edit someone else's post-it": (
        _bruno_postit,
        lambda room, postit: journeys.edit_postit(postit, participant=room.alice, text="Volé"),
    ),
    "delete someone else's post-it": (
        _bruno_postit,
        lambda room, postit: journeys.delete_postit(postit, participant=room.alice),
    ),
    "delete on a locked stage": (
        lambda room: (_bruno_postit(room), _lock_writing(room))[0],
        lambda room, postit: journeys.delete_postit(postit, participant=room.bruno),
    ),
    "delete on a stage the room has left": (
        lambda room: (_bruno_postit(room), go_to(room, 1))[0],
        lambda room, postit: journeys.delete_postit(postit, participant=room.bruno),
    ),
    "empty edit": (
        _bruno_postit,
        lambda room, postit: journeys.edit_postit(postit, participant=room.bruno, text=" "),
    ),
    "edit on a stage the room has left": (
        lambda room: (_bruno_postit(room), go_to(room, 1))[0],
        lambda room, postit: journeys.edit_postit(postit, participant=room.bruno, text="Tard"),
    ),
    "timer zero minutes": (
        lambda room: room.workshop,
        lambda room, w: actions.control_timer(w, "start", minutes=0),
    ),
    "timer too long": (
        lambda room: room.workshop,
        lambda room, w: actions.control_timer(w, "add", minutes=601),
    ),
    "timer unknown command": (
        lambda room: room.workshop,
        lambda room, w: actions.control_timer(w, "rewind"),
    ),
    "delete the last stage": (
        lambda room: room.other_workshop.stages.get(),
        lambda room, stage: actions.delete_stage(stage),
    ),
    "stage of another workshop": (
        lambda room: room.other_workshop.stages.get(),
        lambda room, stage: actions.go_to_stage(room.workshop, stage),
    ),
    "empty theme name": (
        lambda room: room.stage,
        lambda room, stage: journeys.add_cluster(stage, name="  "),
    ),
    "nothing to cluster": (
        lambda room: room.stage,
        lambda room, stage: journeys.assign_cluster(stage, [], None),
    ),
    "theme of another stage": (
        lambda room: (_bruno_postit(room), journeys.add_cluster(other_wall(room), name="T")),
        lambda room, made: journeys.assign_cluster(room.stage, [made[0].pk], made[1]),
    ),
}


@pytest.mark.parametrize("case", OTHER_REFUSALS.values(), ids=OTHER_REFUSALS.keys())
def test_it_refuses_other_bad_writes_and_changes_nothing(
    room, case, published, django_capture_on_commit_callbacks
):
    setup, write = case
    target = setup(room)
    before = state_of(room)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(ActionError),
    ):
        write(room, target)
    assert state_of(room) == before
    assert callbacks == []
    assert published == []


# Broadcast after the commit, never before -------------------------------------------------


def test_it_broadcasts_only_once_the_write_is_committed(
    room, published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        postit = post(room, room.alice, "Après le commit")
        assert published == []
    assert published == []
    assert len(callbacks) == 1
    callbacks[0]()
    event = Event.objects.get(workshop=room.workshop)
    assert published == [message_for(event)]
    assert published[0]["seq"] == 1
    assert published[0]["author"] == room.alice.pk
    assert published[0]["owners"] == {str(room.alice.pk): [postit.pk]}


def test_it_never_broadcasts_a_write_that_was_rolled_back(
    room, published, django_capture_on_commit_callbacks
):
    class Abort(Exception):
        pass

    before = state_of(room)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Abort),
        transaction.atomic(),
    ):
        post(room, room.alice, "Annulé")
        raise Abort
    assert callbacks == []
    assert published == []
    assert state_of(room) == before


def test_it_broadcasts_writes_in_seq_order(room, published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post(room, room.alice, "Un")
        post(room, room.bruno, "Deux")
        actions.set_writing_locked(room.workshop, True)
    assert [m["seq"] for m in published] == [1, 2, 3]


def test_it_tells_a_removed_participant_after_the_commit(
    room, published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        actions.remove_participant(room.workshop, room.bruno)
    notices = [m for m in published if "notice" in m]
    assert notices == [{"notice": "removed", "participant": room.bruno.pk}]
    assert Participant.objects.get(pk=room.bruno.pk).removed_at is not None


# What each audience may see ---------------------------------------------------------------


def delivered(event, audience, participant=None):
    """The frame a socket of this audience (or this participant) receives, decoded."""
    encoded = Encoded(message_for(event))
    return json.loads(encoded.text_for(audience, participant.pk if participant else None))


def test_it_keeps_a_private_post_it_to_its_author_until_the_reveal(room):
    stage = private_stage(room)
    postit = post(room, room.alice, SECRET, stage=stage)
    event = Event.objects.get(workshop=room.workshop, type="journeys.postit_added")
    for audience in AUDIENCES:
        assert SECRET not in event.frames[audience], audience
    assert SECRET in event.frames["author"]
    to_alice = delivered(event, "participant", room.alice)
    to_bruno = delivered(event, "participant", room.bruno)
    assert SECRET in to_alice["html"]
    assert SECRET not in to_bruno["html"]
    assert SECRET not in delivered(event, "projector")["html"]
    assert SECRET not in delivered(event, "facilitator")["html"]
    # The room sees that something was written, and how much.
    assert 'id="hidden-count-' in to_bruno["html"]
    # Alice's page learns which post-it is hers; Bruno's learns nothing.
    assert to_alice["own"] == [postit.pk]
    assert "own" not in to_bruno


def test_it_keeps_a_private_post_it_private_through_edits_and_redraws(room):
    stage = private_stage(room)
    postit = post(room, room.alice, "Brouillon", stage=stage)
    journeys.edit_postit(postit, participant=room.alice, text=SECRET)
    journeys.edit_postit(postit, participant=None, text=SECRET + " (animatrice)")
    journeys.add_cluster(stage, name="Thème")
    actions.update_stage(stage, title="Engagements")
    actions.control_timer(room.workshop, "start", minutes=3)
    events = list(Event.objects.filter(workshop=room.workshop, seq__gt=1))
    assert len(events) >= 6
    for event in events:
        for audience in AUDIENCES:
            assert SECRET not in event.frames[audience], (event.type, audience)
    author_edit = Event.objects.get(type="journeys.postit_edited", participant=room.alice)
    assert SECRET in author_edit.frames["author"]


def test_it_keeps_private_post_its_private_when_the_facilitator_clusters_them(room):
    stage = private_stage(room)
    postit = post(room, room.alice, SECRET, stage=stage)
    cluster = journeys.add_cluster(stage, name="Thème")
    journeys.assign_cluster(stage, [postit.pk], cluster)
    event = Event.objects.get(workshop=room.workshop, type="journeys.postits_clustered")
    for audience in AUDIENCES:
        assert SECRET not in event.frames[audience], audience
    assert PostIt.objects.get(pk=postit.pk).cluster == cluster


def test_it_shows_private_post_its_to_everyone_once_revealed(room):
    stage = private_stage(room)
    post(room, room.alice, SECRET, stage=stage)
    actions.reveal_stage(stage)
    event = Event.objects.filter(workshop=room.workshop).last()
    assert event.type == "workshops.stage_updated"
    for audience in AUDIENCES:
        assert SECRET in event.frames[audience], audience
    # From now on a new post-it reaches the room directly.
    post(room, room.bruno, "Après la révélation", stage=Stage.objects.get(pk=stage.pk))
    added = Event.objects.filter(workshop=room.workshop).last()
    assert "Après la révélation" in added.frames["projector"]
    assert "author" not in added.frames


def test_it_never_names_the_authors_on_an_anonymous_stage(room):
    named = post(room, room.alice, "Sur l'étape de cadrage")
    assert (
        room.alice.display_name in Event.objects.get(payload__postit=named.pk).frames["projector"]
    ), "on a named stage the author's name is shown"

    stage = anonymous_stage(room)
    postit = post(room, room.alice, "Une friction", stage=stage)
    journeys.edit_postit(postit, participant=room.alice, text="Une vraie friction")
    journeys.add_cluster(stage, name="Thème")
    journeys.assign_cluster(stage, [postit.pk], Cluster.objects.get(stage=stage))
    actions.update_stage(stage, instructions="Relisez")
    events = list(Event.objects.filter(workshop=room.workshop, seq__gt=2))
    assert len(events) >= 5
    for event in events:
        for audience, html in event.frames.items():
            assert room.alice.display_name not in html, (event.type, audience)
    assert any("Une vraie friction" in e.frames["projector"] for e in events)


# User text is text ---------------------------------------------------------------------------


@pytest.mark.parametrize("payload", XSS)
def test_it_escapes_markup_in_post_its(room, payload):
    post(room, room.alice, payload)
    event = Event.objects.get(workshop=room.workshop)
    for audience, html in event.frames.items():
        assert "<script" not in html, audience
        assert "<img" not in html, audience
        assert payload not in html, audience
    assert escape(payload) in event.frames["projector"]


@pytest.mark.parametrize("payload", XSS)
def test_it_escapes_markup_in_names_themes_and_stage_titles(room, payload):
    mallory = Participant.objects.create(
        workshop=room.workshop, display_name=payload, profile=Profile.PARTNER
    )
    stage = room.stage
    post(room, mallory, "Bonjour")
    journeys.add_cluster(stage, name=payload)
    actions.update_stage(stage, title=payload, instructions=payload)
    events = list(Event.objects.filter(workshop=room.workshop))
    assert len(events) == 3
    for event in events:
        for audience, html in event.frames.items():
            assert "<script" not in html, (event.type, audience)
            assert "<img" not in html, (event.type, audience)
            assert payload not in html, (event.type, audience)
    # The name, the theme and the title are there, as text.
    assert escape(payload) in events[0].frames["projector"]
    assert escape(payload) in events[1].frames["facilitator"]
    assert escape(payload) in events[2].frames["participant"]


def test_a_stage_change_replaces_a_pages_own_ids_rather_than_adding_to_them(room):
    """Ids of another stage's objects (another type, the same numbers) must not stay marked
    as one's own once the room moved on: a stage change's frame says `whole`."""
    from journeys.kinds import columns_of

    wall = next(s for s in room.workshop.stages.all() if s.kind in ("wall", "framing"))
    other = next(s for s in room.workshop.stages.all() if s.pk != wall.pk)
    actions.go_to_stage(room.workshop, other)
    moved = Event.objects.filter(workshop=room.workshop).latest("seq")
    assert json.loads(Encoded(message_for(moved)).text_for("participant", room.alice.pk))["whole"]
    actions.go_to_stage(room.workshop, wall)
    journeys.add_postit(
        wall, participant=room.alice, text="Un délai", column=columns_of(wall)[0]["key"]
    )
    added = Event.objects.filter(workshop=room.workshop).latest("seq")
    frame = json.loads(Encoded(message_for(added)).text_for("participant", room.alice.pk))
    assert "whole" not in frame and frame["own"]
