"""The workshop screens: first run, dashboard, console, projector, joining, running the room."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext

from workshops import actions, methods, ratelimit
from workshops.models import Event, Participant, Stage, TimerState, Workshop

from .base import log_in_participant

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _no_throttle_left_over():
    # The join-code throttle lives in the cache, which outlives a test.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def camille(client, room):
    client.force_login(room.facilitator)
    return client


@pytest.fixture
def oscar(client, room):
    client.force_login(room.other_facilitator)
    return client


@pytest.fixture
def alice(client, room):
    return log_in_participant(client, room.alice)


def french(message):
    with translation.override("fr"):
        return escape(gettext(message))


def fresh(workshop):
    return Workshop.objects.get(pk=workshop.pk)


def url(name, room, **kwargs):
    return reverse(name, kwargs={"pk": room.workshop.pk, **kwargs})


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


# Joining by link -----------------------------------------------------------------------------


def join_url(workshop):
    return reverse("join", args=[fresh(workshop).join_token])


def test_it_shows_the_join_form_in_the_workshops_language(client, room):
    response = client.get(join_url(room.workshop))
    assert response.status_code == 200
    page = response.content.decode()
    assert room.workshop.title in page
    assert 'name="display_name"' in page
    assert 'name="profile"' in page


def test_it_answers_a_bad_join_link_with_a_page_to_type_the_code(client, room):
    response = client.get(reverse("join", args=["not-a-real-token-at-all"]))
    assert response.status_code == 404
    page = response.content.decode()
    assert 'name="code"' in page
    assert reverse("join_code") in page


def test_it_joins_and_stays_the_same_participant_across_requests(client, room):
    response = client.post(
        join_url(room.workshop),
        {"display_name": "  Chloé   Martin ", "profile": "agent", "organisation": "DSI"},
    )
    chloe = Participant.objects.get(workshop=room.workshop, display_name="Chloé Martin")
    assert response.status_code == 302
    assert response["Location"] == reverse("workshops:live", args=[room.workshop.pk])
    assert chloe.profile == "agent"

    for _ in range(3):
        page = client.get(reverse("workshops:live", args=[room.workshop.pk]))
        assert page.status_code == 200
        assert "Chloé Martin" in page.content.decode()
    # The link again, or the form again: still Chloé, not a new participant.
    assert client.get(join_url(room.workshop))["Location"] == reverse(
        "workshops:live", args=[room.workshop.pk]
    )
    client.post(join_url(room.workshop), {"display_name": "Chloé bis", "profile": "agent"})
    assert room.workshop.participants.count() == 3
    assert client.session["reciproque_participants"] == {str(room.workshop.pk): chloe.pk}


def test_it_keeps_one_phone_in_two_workshops_apart(client, room):
    log_in_participant(client, room.alice)
    client.post(join_url(room.other_workshop), {"display_name": "Alice", "profile": "partner"})
    assert client.get(reverse("workshops:live", args=[room.workshop.pk])).status_code == 200
    assert client.get(reverse("workshops:live", args=[room.other_workshop.pk])).status_code == 200
    assert room.other_workshop.participants.filter(display_name="Alice").count() == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"display_name": "", "profile": "agent"}, "This field is required."),
        ({"display_name": "   ", "profile": "agent"}, "This field is required."),
        ({"display_name": "\x07\x1b", "profile": "agent"}, "Enter a name."),
        ({"display_name": "Dan"}, "This field is required."),
        (
            {"display_name": "Dan", "profile": "boss"},
            "Select a valid choice. %(value)s is not one of the available choices.",
        ),
    ],
    ids=["no name", "blank name", "unprintable name", "no profile", "unknown profile"],
)
def test_it_explains_join_form_errors_in_french(client, room, data, message):
    response = client.post(join_url(room.workshop), data)
    assert response.status_code == 400
    expected = french(message).split("%(value)s")[0]
    assert expected in response.content.decode()
    assert 'lang="fr"' in response.content.decode()
    assert room.workshop.participants.count() == 2


def test_it_refuses_the_live_page_to_whoever_has_not_joined(client, room):
    live = reverse("workshops:live", args=[room.workshop.pk])
    assert client.get(live).status_code == 403
    log_in_participant(client, room.olga)
    response = client.get(live)
    assert response.status_code == 403
    assert 'name="code"' in response.content.decode()


def test_it_shows_the_participant_the_current_stage(alice, room):
    response = alice.get(reverse("workshops:live", args=[room.workshop.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert escape(room.stage.title) in page
    assert f'data-seq="{room.workshop.seq}"' in page


# Joining by short code ----------------------------------------------------------------------------


def test_it_joins_by_short_code_typed_loosely(client, room):
    code = room.workshop.short_code
    typed = f" {code[:3].lower()} {code[3:].lower()} "
    response = client.post(reverse("join_code"), {"code": typed})
    assert response.status_code == 302
    assert response["Location"] == join_url(room.workshop)


def test_it_says_when_no_workshop_has_the_code(client, room):
    response = client.post(reverse("join_code"), {"code": "QQQQQQ"})
    assert response.status_code == 404
    assert french("No workshop has this code. Check it with the facilitator.") in (
        response.content.decode()
    )


def test_it_throttles_code_guessing_after_ten_wrong_codes(client, room, settings, monkeypatch):
    now = [1_000_000.0]
    monkeypatch.setattr(ratelimit, "clock", lambda: now[0])
    assert settings.RECIPROQUE["JOIN_CODE_ATTEMPTS"] == 10
    for _ in range(10):
        assert client.post(reverse("join_code"), {"code": "QQQQQQ"}).status_code == 404
    # Even the right code is refused now, from this address.
    response = client.post(reverse("join_code"), {"code": room.workshop.short_code})
    assert response.status_code == 429
    assert french("Too many wrong codes. Wait a few minutes, or scan the QR code.") in (
        response.content.decode()
    )
    # Another phone is not punished for it.
    other = client.post(
        reverse("join_code"), {"code": room.workshop.short_code}, REMOTE_ADDR="10.0.0.7"
    )
    assert other.status_code == 302
    # The right code stays refused from this address until the window has passed.
    now[0] += settings.RECIPROQUE["JOIN_CODE_WINDOW_SECONDS"] - 60
    assert client.post(reverse("join_code"), {"code": room.workshop.short_code}).status_code == 429
    now[0] += 60
    assert client.post(reverse("join_code"), {"code": room.workshop.short_code}).status_code == 302


def test_it_does_not_count_a_right_code_as_a_failure(client, room):
    for _ in range(12):
        response = client.post(reverse("join_code"), {"code": room.workshop.short_code})
        assert response.status_code == 302


# Revoking the link --------------------------------------------------------------------------------


def test_it_revokes_and_renews_the_link_and_the_code(camille, room):
    old_link, old_code = join_url(room.workshop), room.workshop.short_code
    response = camille.post(url("workshops:renew_link", room), **HTMX)
    assert response.status_code == 200
    workshop = fresh(room.workshop)
    assert join_url(workshop) != old_link
    assert workshop.short_code != old_code

    phone = type(camille)()
    assert phone.get(old_link).status_code == 404
    assert phone.post(reverse("join_code"), {"code": old_code}).status_code == 404
    assert phone.get(join_url(workshop)).status_code == 200
    assert phone.post(reverse("join_code"), {"code": workshop.short_code}).status_code == 302
    # Those already in stay in.
    log_in_participant(phone, room.alice)
    assert phone.get(reverse("workshops:live", args=[workshop.pk])).status_code == 200
    # The secret never goes into the event log.
    event = Event.objects.get(workshop=workshop, type="workshops.join_link_renewed")
    assert workshop.join_token not in str(event.payload)
    assert workshop.join_token not in event.frames["participant"]


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
    stage = next(s for s in room.workshop.stages.all() if len(s.config.get("columns", [])) > 1)
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
    assert Event.objects.get(workshop=room.workshop).type == "workshops.stage_updated"


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
