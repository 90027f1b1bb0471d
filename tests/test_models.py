"""The rules the models carry: the shared timer, who may write, join secrets, constraints."""

import math
import string
from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError, transaction

from journeys.models import PostIt
from workshops import actions
from workshops.models import (
    SHORT_CODE_ALPHABET,
    SHORT_CODE_LENGTH,
    Event,
    Stage,
    TimerState,
    Workshop,
    new_join_token,
    new_short_code,
)

pytestmark = pytest.mark.usefixtures("english_messages")

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)


def minutes(n):
    return timedelta(minutes=n)


# The timer ---------------------------------------------------------------------------


def test_it_starts_the_timer_from_the_servers_clock(room):
    workshop = room.workshop
    workshop.start_timer(minutes(10), NOW)
    assert workshop.timer_state == TimerState.RUNNING
    assert workshop.timer_ends_at == NOW + minutes(10)
    assert workshop.timer_left(NOW + minutes(3)) == minutes(7)
    assert not workshop.time_is_up(NOW + minutes(9))


def test_it_never_counts_below_zero(room):
    workshop = room.workshop
    workshop.start_timer(minutes(1), NOW)
    assert workshop.timer_left(NOW + minutes(5)) == timedelta(0)
    assert workshop.time_is_up(NOW + minutes(5))
    assert workshop.time_is_up(NOW + minutes(1))


def test_it_pauses_and_resumes_keeping_the_time_left(room):
    workshop = room.workshop
    workshop.start_timer(minutes(10), NOW)
    workshop.pause_timer(NOW + minutes(4))
    assert workshop.timer_state == TimerState.PAUSED
    assert workshop.timer_ends_at is None
    # Time stands still while paused.
    assert workshop.timer_left(NOW + minutes(60)) == minutes(6)
    assert not workshop.time_is_up(NOW + minutes(60))

    later = NOW + minutes(30)
    workshop.resume_timer(later)
    assert workshop.timer_state == TimerState.RUNNING
    assert workshop.timer_ends_at == later + minutes(6)
    assert workshop.timer_remaining is None


def test_it_ignores_pause_and_resume_when_they_do_not_apply(room):
    workshop = room.workshop
    workshop.pause_timer(NOW)
    assert workshop.timer_state == TimerState.IDLE
    workshop.start_timer(minutes(5), NOW)
    workshop.resume_timer(NOW + minutes(1))  # already running: nothing moves
    assert workshop.timer_ends_at == NOW + minutes(5)


def test_it_adds_time_to_a_running_timer(room):
    workshop = room.workshop
    workshop.start_timer(minutes(5), NOW)
    workshop.add_time(minutes(2), NOW + minutes(1))
    assert workshop.timer_ends_at == NOW + minutes(7)


def test_it_counts_time_added_after_the_end_from_now(room):
    workshop = room.workshop
    workshop.start_timer(minutes(5), NOW)
    late = NOW + minutes(20)
    workshop.add_time(minutes(1), late)
    assert workshop.timer_ends_at == late + minutes(1)
    assert not workshop.time_is_up(late)


def test_it_adds_time_to_a_paused_timer(room):
    workshop = room.workshop
    workshop.start_timer(minutes(5), NOW)
    workshop.pause_timer(NOW + minutes(2))
    workshop.add_time(minutes(5), NOW + minutes(3))
    assert workshop.timer_state == TimerState.PAUSED
    assert workshop.timer_remaining == minutes(8)


def test_it_starts_an_idle_timer_when_time_is_added(room):
    workshop = room.workshop
    workshop.add_time(minutes(3), NOW)
    assert workshop.timer_state == TimerState.RUNNING
    assert workshop.timer_ends_at == NOW + minutes(3)


def test_it_resets_the_timer(room):
    workshop = room.workshop
    workshop.start_timer(minutes(5), NOW)
    workshop.pause_timer(NOW + minutes(1))
    workshop.reset_timer()
    assert workshop.timer_state == TimerState.IDLE
    assert workshop.timer_ends_at is None
    assert workshop.timer_remaining is None
    assert workshop.timer_left(NOW) is None
    assert not workshop.time_is_up(NOW)


def test_it_gives_pages_a_timer_snapshot(room):
    workshop = room.workshop
    assert workshop.timer_snapshot()["label"] == "--:--"
    assert workshop.timer_snapshot()["up"] is False

    workshop.start_timer(minutes(5), NOW)
    workshop.pause_timer(NOW + timedelta(seconds=55))
    snapshot = workshop.timer_snapshot()
    assert snapshot["state"] == "paused"
    assert snapshot["label"] == "04:05"
    assert snapshot["left_ms"] == 245_000
    assert snapshot["ends_ms"] == ""


def test_it_says_when_a_running_timer_ends_in_milliseconds(room):
    workshop = room.workshop
    workshop.start_timer(minutes(2), NOW)
    snapshot = workshop.timer_snapshot()
    assert snapshot["ends_ms"] == int((NOW + minutes(2)).timestamp() * 1000)
    assert snapshot["label"] == "00:00"  # NOW is long past
    assert snapshot["up"] is True


# Who may write -------------------------------------------------------------------------


def test_it_lets_participants_write_on_the_current_stage(room):
    workshop = room.workshop
    assert workshop.writing_closed_reason(workshop.current_stage) is None


def test_it_closes_writing_on_a_stage_the_workshop_has_left(room):
    workshop = room.workshop
    other = workshop.stages.exclude(pk=workshop.current_stage_id).first()
    assert "moved on" in str(workshop.writing_closed_reason(other))


def test_it_closes_writing_when_the_facilitator_locks_it(room):
    workshop = room.workshop
    workshop.writing_locked = True
    assert "locked by the facilitator" in str(
        workshop.writing_closed_reason(workshop.current_stage)
    )


def test_it_closes_writing_when_time_is_up_only_if_the_timer_locks(room):
    workshop = room.workshop
    workshop.start_timer(minutes(1), NOW)
    later = NOW + minutes(2)
    assert workshop.writing_closed_reason(workshop.current_stage, later) is None
    workshop.timer_locks_writing = True
    assert "Time is up" in str(workshop.writing_closed_reason(workshop.current_stage, later))
    assert workshop.writing_closed_reason(workshop.current_stage, NOW) is None


# Joining secrets ------------------------------------------------------------------------


def test_it_makes_join_tokens_of_at_least_128_bits():
    tokens = {new_join_token() for _ in range(200)}
    assert len(tokens) == 200
    urlsafe = set(string.ascii_letters + string.digits + "-_")
    for token in tokens:
        assert set(token) <= urlsafe
        # token_urlsafe: 6 bits per character.
        assert len(token) * 6 >= 128


def test_it_makes_short_codes_without_look_alike_characters():
    assert len(set(SHORT_CODE_ALPHABET)) == len(SHORT_CODE_ALPHABET)
    assert not set(SHORT_CODE_ALPHABET) & set("0O1IL2Z5S8B")
    # Enough codes that guessing, throttled, is hopeless.
    assert SHORT_CODE_LENGTH * math.log2(len(SHORT_CODE_ALPHABET)) > 25
    seen = set()
    for _ in range(300):
        code = new_short_code()
        assert len(code) == SHORT_CODE_LENGTH
        assert set(code) <= set(SHORT_CODE_ALPHABET)
        seen.update(code)
    assert len(seen) > len(SHORT_CODE_ALPHABET) // 2


def test_it_renews_both_the_link_and_the_code(room):
    workshop = room.workshop
    token, code = workshop.join_token, workshop.short_code
    workshop.renew_join_link()
    assert workshop.join_token != token
    assert workshop.short_code != code
    assert len(workshop.join_token) * 6 >= 128


def test_it_gives_each_workshop_its_group_name(room):
    assert room.workshop.group_name == f"workshop-{room.workshop.pk}"
    assert room.workshop.group_name != room.other_workshop.group_name


# Constraints -----------------------------------------------------------------------------


def test_it_refuses_a_running_timer_without_an_end(room):
    with pytest.raises(IntegrityError), transaction.atomic():
        Workshop.objects.filter(pk=room.workshop.pk).update(timer_state=TimerState.RUNNING)


def test_it_refuses_two_events_with_the_same_seq(room):
    Event.objects.create(workshop=room.workshop, seq=1, type="t")
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.create(workshop=room.workshop, seq=1, type="t")


def test_it_refuses_two_events_with_the_same_operation_id(room):
    Event.objects.create(workshop=room.workshop, seq=1, type="t", op_id="op-12345678")
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.create(workshop=room.workshop, seq=2, type="t", op_id="op-12345678")


def test_it_allows_many_events_without_operation_id(room):
    Event.objects.create(workshop=room.workshop, seq=1, type="t")
    Event.objects.create(workshop=room.workshop, seq=2, type="t")
    # The same op id in another workshop is another operation.
    Event.objects.create(workshop=room.workshop, seq=3, type="t", op_id="op-12345678")
    Event.objects.create(workshop=room.other_workshop, seq=3, type="t", op_id="op-12345678")
    assert Event.objects.filter(workshop=room.workshop, op_id__isnull=True).count() == 2


def test_it_refuses_two_workshops_with_the_same_code(room):
    with pytest.raises(IntegrityError), transaction.atomic():
        Workshop.objects.filter(pk=room.other_workshop.pk).update(
            short_code=room.workshop.short_code
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Workshop.objects.filter(pk=room.other_workshop.pk).update(
            join_token=room.workshop.join_token
        )


def test_it_refuses_a_post_it_of_an_unknown_colour(room):
    with pytest.raises(IntegrityError), transaction.atomic():
        PostIt.objects.create(
            workshop=room.workshop,
            stage=room.stage,
            column="expectations",
            colour="magenta",
            text="x",
        )


# Small verbs -----------------------------------------------------------------------------


def test_it_hides_a_private_stage_until_it_is_revealed(room):
    stage = Stage(private_writing=True)
    assert stage.is_hidden
    stage.revealed = True
    assert not stage.is_hidden
    assert not Stage(private_writing=False).is_hidden


def test_it_knows_who_is_done_on_the_current_stage_only(room):
    alice = room.alice
    assert not alice.is_done()
    actions.set_done(alice, True)
    alice.refresh_from_db()
    assert alice.is_done()
    next_stage = room.workshop.stages.exclude(pk=room.workshop.current_stage_id).first()
    actions.go_to_stage(room.workshop, next_stage)
    alice = type(alice).objects.get(pk=alice.pk)
    assert not alice.is_done()
    assert not room.bruno.is_done()


# The rules on the models: text, keys, profiles, and the small verbs -------------------


def test_it_refuses_an_unknown_profile_in_the_database(room):
    from workshops.models import Participant

    with pytest.raises(IntegrityError), transaction.atomic():
        Participant.objects.create(workshop=room.workshop, display_name="Zed", profile="king")


def test_it_lists_only_active_participants_and_removes_with_a_verb(room):
    from workshops.models import Participant

    assert set(room.workshop.participants.active()) == {room.alice, room.bruno}
    room.bruno.remove(NOW)
    room.bruno.save()
    assert room.bruno.removed_at == NOW
    assert list(Participant.objects.active().filter(workshop=room.workshop)) == [room.alice]


def test_it_checks_text_and_keys_on_the_models_themselves(room):
    from django.core.exceptions import ValidationError

    stage = room.workshop.stages.first()
    postit = PostIt(workshop=room.workshop, stage=stage, column="ok", text="a\u202eb")
    with pytest.raises(ValidationError) as error:
        postit.full_clean()
    assert set(error.value.message_dict) == {"text"}
    postit.text, postit.column = "fine", 'k"><b>'
    with pytest.raises(ValidationError) as error:
        postit.full_clean()
    assert set(error.value.message_dict) == {"column"}
    stage.kind = "<b>"
    with pytest.raises(ValidationError) as error:
        stage.full_clean()
    assert "kind" in error.value.message_dict


def test_it_bounds_a_flows_answers_and_the_timer_on_the_model(room):
    from django.core.exceptions import ValidationError

    from mapping.models import Flow
    from workshops.models import MAX_TIMER_MINUTES

    for name in ("they_expect", "we_expect", "mismatch"):
        assert Flow._meta.get_field(name).max_length == 500
    stage = room.workshop.stages.first()
    stage.duration_minutes = MAX_TIMER_MINUTES + 1
    with pytest.raises(ValidationError) as error:
        stage.full_clean()
    assert set(error.value.message_dict) == {"duration_minutes"}


def test_it_rates_a_flow_and_moves_an_actor_with_verbs(room):
    from mapping.models import Actor, Flow

    flow = Flow(rating="smooth")
    flow.rate("friction", room.alice)
    assert (flow.rating, flow.rated_by) == ("friction", room.alice)
    flow.rate("", room.alice)
    assert (flow.rating, flow.rated_by) == ("", None)
    actor = Actor(x=1, y=2)
    actor.move_to(30, 40)
    assert (actor.x, actor.y) == (30, 40)
    actor.move_to(None, None)
    assert (actor.x, actor.y) == (None, None)
